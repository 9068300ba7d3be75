#!/bin/sh
# Install the build into a temporary root (DESTDIR) and use it as a user would,
# without LD_LIBRARY_PATH (meson sets it for tests; it is unset here): the
# installed emd and emctl start and talk (their RUNPATH finds libemkit); a
# program builds against the install the way the README says, cc app.c
# $(pkg-config --cflags --libs emkit-static-call) (the static-call demo); the
# specs, units and man pages are in place; meson's uninstall (what `make uninstall` runs) leaves nothing. TAP.
# Usage: install.sh BUILD_DIR SOURCE_DIR APP_SOURCE CC...
set -u
build=$1 src=$2 app=$3; shift 3
unset LD_LIBRARY_PATH
root=$(mktemp -d); trap 'kill "$emd_pid" 2>/dev/null; rm -rf "$root"' EXIT
emd_pid=""
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $*"; }

if DESTDIR=$root meson install -C "$build" --no-rebuild --quiet >"$root/install.log" 2>&1; then
    ok "meson install into a staging root"
else
    not_ok "meson install into a staging root"; sed 's/^/# /' "$root/install.log"; exit 1
fi

pc=$(find "$root" -name emkit.pc | head -n 1)
hdr=$(find "$root" -path '*/include/emkit/static_call.h' | head -n 1)
lib=$(find "$root" -name 'libemkit.so*' | head -n 1)
static=$(find "$root" -name 'libemkit.a' | head -n 1)
if [ -n "$pc" ] && [ -n "$hdr" ] && [ -n "$lib" ] && [ -n "$static" ]; then
    ok "emkit.pc, headers under include/emkit/, libemkit static and shared"
else
    not_ok "installed files (pc='$pc' header='$hdr' so='$lib' a='$static')"; exit 1
fi

# The staged .pc files name the real prefix (say /usr/local); point them into the
# staging root. The app is the static-call demo: its module is emkit-static-call.
prefix=$(sed -n 's/^prefix=//p' "$pc")
mkdir -p "$root/pc"
for f in "$(dirname "$pc")"/*.pc; do
    sed "s|^prefix=.*|prefix=$root$prefix|" "$f" >"$root/pc/$(basename "$f")"
done
export PKG_CONFIG_PATH="$root/pc"

specdir=$(pkg-config --variable=specdir emkit)
if cmp -s "$specdir/dev-energymodel.yaml" "$src/spec/dev-energymodel.yaml" &&
    cmp -s "$specdir/nlctrl.yaml" "$src/spec/nlctrl.yaml"; then
    ok "the YNL specs in \$(pkg-config --variable=specdir emkit)"
else
    not_ok "the YNL specs in specdir ($specdir)"
fi
# The programs and what comes with them (not in a -Dparts=static_call build).
emd=$(find "$root" -path '*/sbin/emd' | head -n 1)
emctl=$(find "$root" -path '*/bin/emctl' | head -n 1)
if [ -z "$emd" ] || [ -z "$emctl" ]; then
    ok "# SKIP emd and emctl: not built (-Dparts=static_call)"
else
    missing=""
    for f in lib/systemd/system/emd.service lib/systemd/system/emd.socket \
        share/man/man8/emd.8 share/man/man1/emctl.1 share/bash-completion/completions/emctl; do
        [ -f "$root$prefix/$f" ] || missing="$missing $f"
    done
    if [ -z "$missing" ]; then ok "units, man pages and the bash completion under the prefix"
    else not_ok "units, man pages and the bash completion under the prefix: missing$missing"; fi

    # The installed programs, as installed: no LD_LIBRARY_PATH, no ldconfig.
    sock=$root/emd.sock
    # shellcheck disable=SC2046
    "$emd" --default --socket "$sock" $( [ "$(id -u)" -eq 0 ] && echo --allow-root ) \
        2>"$root/emd.log" &
    emd_pid=$!
    i=0
    until "$emctl" dump --socket "$sock" >/dev/null 2>&1 || [ $i -gt 100 ]; do
        kill -0 "$emd_pid" 2>/dev/null || break
        i=$((i + 1)); sleep 0.05
    done
    if "$emctl" show --socket "$sock" >"$root/show.out" 2>&1 && grep -q "^perf-domain 1: cpus 4-5, flags microwatts$" "$root/show.out"; then
        ok "the installed emd serves and the installed emctl asks it"
    else
        not_ok "the installed emd and emctl"; sed 's/^/# /' "$root/emd.log" "$root/show.out"
    fi
    kill -TERM "$emd_pid"; wait "$emd_pid"; emd_pid=""
    # The completion installed is the installed emctl's own.
    if "$emctl" completion bash | cmp -s - "$root$prefix/share/bash-completion/completions/emctl"; then
        ok "the installed bash completion is the installed emctl's (emctl completion bash)"
    else not_ok "the installed bash completion differs from emctl completion bash"; fi
fi

flags=$(pkg-config --cflags --libs emkit-static-call)
if "$@" -o "$root/app" "$app" $flags 2>"$root/cc.log"; then
    ok "cc app.c \$(pkg-config --cflags --libs emkit-static-call)"
else
    not_ok "cc app.c \$(pkg-config --cflags --libs emkit-static-call): $flags"; sed 's/^/# /' "$root/cc.log"; exit 1
fi

# A program of one's own finds libemkit as any library outside the loader's
# path: its own RUNPATH here (for an install to /usr/local, make install runs
# ldconfig as root instead).
libdir=$(pkg-config --variable=libdir emkit-static-call)
if "$@" -o "$root/app" "$app" $flags -Wl,-rpath,"$libdir" 2>"$root/cc.log" &&
    "$root/app" >"$root/app.out" 2>&1 && grep -q "kvm registered" "$root/app.out"; then
    ok "the program runs against the installed library"
else
    not_ok "the program runs against the installed library"; sed 's/^/# /' "$root/cc.log" "$root/app.out"
fi

# meson's uninstall target removes what the install log lists (make uninstall).
rm -rf "$root/pc" "$root/app" "$root"/*.log "$root"/*.out
ninja -C "$build" uninstall >"$root/uninstall.log" 2>&1
left=$(find "$root" -mindepth 1 ! -name uninstall.log | head -n 5)
if [ -z "$left" ]; then ok "uninstall leaves nothing behind"
else not_ok "uninstall leaves: $left"; sed 's/^/# /' "$root/uninstall.log"; fi

echo "1..$n"
exit $failed
