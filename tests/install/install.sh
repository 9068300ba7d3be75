#!/bin/sh
# Install the build into a temporary root and build a user's program against it the
# way the README says: cc app.c $(pkg-config --cflags --libs emkit). TAP.
# Usage: install.sh BUILD_DIR APP_SOURCE CC...
set -u
build=$1 app=$2; shift 2
root=$(mktemp -d); trap 'rm -rf "$root"' EXIT
echo "1..4"

if DESTDIR=$root meson install -C "$build" --no-rebuild --quiet >"$root/install.log" 2>&1; then
    echo "ok 1 - meson install into a staging root"
else
    echo "not ok 1 - meson install into a staging root"; sed 's/^/# /' "$root/install.log"; exit 1
fi

pc=$(find "$root" -name emkit.pc | head -n 1)
hdr=$(find "$root" -path '*/include/emkit/static_call.h' | head -n 1)
lib=$(find "$root" -name 'libemkit.so*' | head -n 1)
static=$(find "$root" -name 'libemkit.a' | head -n 1)
if [ -n "$pc" ] && [ -n "$hdr" ] && [ -n "$lib" ] && [ -n "$static" ]; then
    echo "ok 2 - emkit.pc, headers under include/emkit/, libemkit static and shared"
else
    echo "not ok 2 - installed files (pc='$pc' header='$hdr' so='$lib' a='$static')"; exit 1
fi

# The staged .pc files name the real prefix (say /usr/local); point them into the
# staging root. The app is the static-call demo: its module is emkit-static-call.
prefix=$(sed -n 's/^prefix=//p' "$pc")
mkdir -p "$root/pc"
for f in "$(dirname "$pc")"/*.pc; do
    sed "s|^prefix=.*|prefix=$root$prefix|" "$f" >"$root/pc/$(basename "$f")"
done
export PKG_CONFIG_PATH="$root/pc"
flags=$(pkg-config --cflags --libs emkit-static-call)
if "$@" -o "$root/app" "$app" $flags 2>"$root/cc.log"; then
    echo "ok 3 - cc app.c \$(pkg-config --cflags --libs emkit-static-call)"
else
    echo "not ok 3 - cc app.c \$(pkg-config --cflags --libs emkit-static-call): $flags"; sed 's/^/# /' "$root/cc.log"; exit 1
fi

libdir=$(pkg-config --variable=libdir emkit-static-call)
if LD_LIBRARY_PATH=$libdir "$root/app" >"$root/app.out" 2>&1 && grep -q "kvm registered" "$root/app.out"; then
    echo "ok 4 - the program runs against the installed library"
else
    echo "not ok 4 - the program runs against the installed library"; sed 's/^/# /' "$root/app.out"; exit 1
fi
