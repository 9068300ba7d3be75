#!/bin/sh
# The examples of the public headers' manuals, as a user would build them:
# cut out of include/emkit/nl.h and include/emkit/dev_energymodel_user.h,
# compiled with `cc app.c $(pkg-config --cflags --libs emkit)` and nothing
# else (the build's uninstalled emkit.pc), and run — nl.h's against the
# kernel's controller, the typed client's against an emd started here. TAP.
# Usage: header_examples.sh SRC_DIR BUILD_DIR EMD CC...
set -u
src=$1 build=$2 emd=$3; shift 3
tmp=$(mktemp -d /tmp/emkit-examples.XXXXXX)
emd_pid=
cleanup() { [ -n "$emd_pid" ] && kill "$emd_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
echo "1..4"
export PKG_CONFIG_PATH="$build/meson-uninstalled"
flags=$(pkg-config --cflags --libs emkit) || { echo "Bail out! pkg-config emkit"; exit 1; }

# The code of @1's first example: from the first empty comment line after the
# line starting " * Example" up to (not with) the first line matching @2,
# without the comment's " *" and the example's tab.
example() {
	awk -v end="$2" '
		state == 0 && /^ \* Example/ { state = 1; next }
		state == 1 && /^ \*$/ { state = 2; next }
		state == 2 && $0 ~ end { exit }
		state == 2 { sub(/^ \*\t?/, ""); print }' "$1"
}

# 1-2: nl.h, against the kernel.
{
	printf '#include <stdio.h>\n#include <json-c/json.h>\n#include "emkit/nl.h"\n\n'
	printf 'int main(void)\n{\n\tstruct emnl_error err;\n'
	example "$src/include/emkit/nl.h" '^ \* Conventions' | sed 's/^/\t/'
	printf '\treturn 0;\n}\n'
} >"$tmp/nl.c"
# shellcheck disable=SC2086
if "$@" -o "$tmp/nl" "$tmp/nl.c" $flags 2>"$tmp/nl.log"; then
	echo "ok 1 - nl.h's example builds with pkg-config --cflags --libs emkit alone"
else
	echo "not ok 1 - nl.h's example builds: $flags"; sed 's/^/# /' "$tmp/nl.log"
fi
if (cd "$src" && "$tmp/nl") >"$tmp/nl.out" 2>&1 && grep -q '"family-name": "nlctrl"' "$tmp/nl.out"; then
	echo "ok 2 - and prints the kernel's nlctrl family"
else
	echo "not ok 2 - nl.h's example runs"; sed 's/^/# /' "$tmp/nl.out"
fi

# 3-4: the typed client, against emd (the example's default socket is this
# test's: emdev_open_unix(NULL) becomes emdev_open_unix(getenv(...))).
example "$src/include/emkit/dev_energymodel_user.h" '^ \* One request at a time' >"$tmp/dev.txt"
{
	printf '#include <stdio.h>\n#include <stdlib.h>\n#include "emkit/dev_energymodel_user.h"\n\n'
	sed -n '1,/^}/p' "$tmp/dev.txt"
	printf '\nint main(void)\n{\n'
	sed '1,/^}/d' "$tmp/dev.txt" | sed 's/emdev_open_unix(NULL/emdev_open_unix(getenv("EMD_TEST_SOCKET")/' |
		sed 's/^/\t/'
	printf '\treturn 0;\n}\n'
} >"$tmp/dev.c"
# shellcheck disable=SC2086
if "$@" -Wno-unused-parameter -o "$tmp/dev" "$tmp/dev.c" $flags 2>"$tmp/dev.log"; then
	echo "ok 3 - dev_energymodel_user.h's example builds with pkg-config emkit alone"
else
	echo "not ok 3 - dev_energymodel_user.h's example builds"; sed 's/^/# /' "$tmp/dev.log"
fi
args=
[ "$(id -u)" = 0 ] && args=--allow-root
"$emd" --socket "$tmp/emd.sock" $args 2>"$tmp/emd.log" &
emd_pid=$!
for _ in $(seq 100); do [ -S "$tmp/emd.sock" ] && break; sleep 0.05; done
if EMD_TEST_SOCKET="$tmp/emd.sock" "$tmp/dev" >"$tmp/dev.out" 2>&1 &&
   grep -q '^domain 0: 4 CPUs$' "$tmp/dev.out" && grep -q '^domain 1: 2 CPUs$' "$tmp/dev.out" &&
   grep -q '^  408000 kHz$' "$tmp/dev.out"; then
	echo "ok 4 - and prints emd's domains and domain 0's table"
else
	echo "not ok 4 - dev_energymodel_user.h's example runs"; sed 's/^/# /' "$tmp/dev.out" "$tmp/emd.log"
fi
