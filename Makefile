# Front door for the README's commands; the build itself is meson + ninja.
#   make run        install what building and running need, build, run the main job
#   make check      install what the tests need too, build every configuration, run
#                   every test
#   make bench      build optimised and run the benchmarks
#   make install [PREFIX=DIR] [DESTDIR=DIR]   from build/install, configured for PREFIX
#   make uninstall [PREFIX=DIR] [DESTDIR=DIR] what the last install put there
BUILD   ?= build/gcc
PREFIX  ?= /usr/local
DESTDIR ?=
INSTALL_BUILD ?= build/install

.PHONY: all deps build run check bench install uninstall format clean

all: build

deps:
	@scripts/install-deps run

$(BUILD)/build.ninja:
	@scripts/install-deps run
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

install: deps
	@scripts/install install $(INSTALL_BUILD) "$(abspath $(PREFIX))" "$(if $(DESTDIR),$(abspath $(DESTDIR)))"

uninstall:
	@scripts/install uninstall $(INSTALL_BUILD) "$(abspath $(PREFIX))" "$(if $(DESTDIR),$(abspath $(DESTDIR)))"

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
