#!/bin/sh
# Install the build into a staging root and use libemkit-static-call as a user would:
# the header's example, built with `cc app.c $(pkg-config --cflags --libs
# emkit-static-call)` and nothing else, as C and as C++; only the API exported; the
# header's version macro, the library's version and the project's version the same.
# Usage: install.sh BUILD_DIR HEADER EXTRACT_PY VERSION CXX|'' CC...
set -u
build=$1 header=$2 extract=$3 version=$4 cxx=$5; shift 5
root=$(mktemp -d); trap 'rm -rf "$root"' EXIT
n=0; failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; failed=$((failed + 1)); [ -f "$2" ] && sed 's/^/# /' "$2"; }

if DESTDIR=$root meson install -C "$build" --no-rebuild --quiet >"$root/install.log" 2>&1; then
    ok "meson install into a staging root"
else
    notok "meson install into a staging root" "$root/install.log"; echo "1..$n"; exit 1
fi

pc=$(find "$root" -name emkit-static-call.pc | head -n 1)
so=$(find "$root" -name 'libemkit-static-call.so.*' -type f | head -n 1)
if [ -n "$pc" ] && [ -n "$so" ] && [ -n "$(find "$root" -name libemkit-static-call.a)" ] &&
   [ -n "$(find "$root" -path '*/include/emkit/static_call.h')" ]; then
    ok "emkit-static-call.pc, emkit/static_call.h, the library shared and static"
else
    notok "installed files (pc='$pc' so='$so')"; echo "1..$n"; exit 1
fi

# The staged .pc names the real prefix (say /usr/local); point it into the staging root.
prefix=$(sed -n 's/^prefix=//p' "$pc")
mkdir -p "$root/pc"
sed "s|^prefix=.*|prefix=$root$prefix|" "$pc" >"$root/pc/emkit-static-call.pc"
export PKG_CONFIG_PATH="$root/pc"
flags=$(pkg-config --cflags --libs emkit-static-call)
libdir=$(pkg-config --variable=libdir emkit-static-call)
case " $flags " in
*" -lemkit-static-call "*) ok "pkg-config --libs emkit-static-call: $flags" ;;
*) notok "pkg-config --libs emkit-static-call: $flags" ;;
esac

python3 "$extract" "$header" "$root/app.c"
# run NAME COMPILER...: build the example with the pkg-config line alone, run it.
run() {
    what=$1; shift
    # shellcheck disable=SC2086
    if "$@" -o "$root/app" "$root/app.c" $flags 2>"$root/cc.log"; then
        ok "$what app.c \$(pkg-config --cflags --libs emkit-static-call)"
    else
        notok "$what app.c \$(pkg-config --cflags --libs emkit-static-call)" "$root/cc.log"
        return
    fi
    if LD_LIBRARY_PATH=$libdir "$root/app" >"$root/app.out" 2>&1 &&
       grep -q '^slow: [0-9]' "$root/app.out" && grep -q '^fast: 25965$' "$root/app.out" &&
       grep -q '^ret0: 0$' "$root/app.out"; then
        ok "the $what example prints what its comments say"
    else
        notok "the $what example prints what its comments say" "$root/app.out"
    fi
}
run "cc" "$@"
if [ -n "$cxx" ]; then
    run "c++" "$cxx" -x c++
fi

# Only the API is exported: no sc_* internals.
syms=$(nm -D --defined-only "$so" | awk '{print $3}' | sed 's/@.*//' | sort | tr '\n' ' ')
want="__static_call_return0 static_call_key_sites static_call_register_module static_call_return0_untyped static_call_unregister_module static_call_update_key static_call_version "
if [ "$syms" = "$want" ] || [ "$syms" = "EMKIT_STATIC_CALL_0 $want" ]; then
    ok "exported: the API only ($syms)"
else
    n=$((n + 1)); echo "not ok $n - exported symbols: $syms"; failed=$((failed + 1))
fi

cat >"$root/version.c" <<EOC
#include <stdio.h>
#include <string.h>
#include <emkit/static_call.h>
int main(void)
{
	printf("%s %s %d.%d.%d\n", EMKIT_STATIC_CALL_VERSION, static_call_version(),
	       EMKIT_STATIC_CALL_VERSION_MAJOR, EMKIT_STATIC_CALL_VERSION_MINOR,
	       EMKIT_STATIC_CALL_VERSION_PATCH);
	return 0;
}
EOC
# shellcheck disable=SC2086
if "$@" -o "$root/version" "$root/version.c" $flags 2>"$root/cc.log" &&
   [ "$(LD_LIBRARY_PATH=$libdir "$root/version")" = "$version $version $version" ]; then
    ok "version $version in the header's macros and the library"
else
    notok "version $version in the header's macros and the library" "$root/cc.log"
fi
echo "1..$n"
[ $failed -eq 0 ]
