# Front door for the README's commands; the build itself is meson + ninja.
#   make run      install what is missing, build, run the main job
#   make check    install what is missing, build every configuration, run every test
#   make bench    build optimised and run the benchmarks
#   make install PREFIX=DIR
BUILD   ?= build/gcc
PREFIX  ?= /usr/local

.PHONY: all deps build run check bench install format clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	@scripts/install-deps
	CC=gcc meson setup $(BUILD)

build: $(BUILD)/build.ninja
	meson compile -C $(BUILD)

run: deps build
	@scripts/run-main

check:
	@scripts/check

bench: deps
	@[ -f build/bench/build.ninja ] || CC=gcc meson setup build/bench --buildtype=release
	meson compile -C build/bench
	@scripts/bench

install: build
	meson configure $(BUILD) --prefix=$(abspath $(PREFIX))
	meson install -C $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
