#!/bin/sh
# libemkit exports its public API and nothing else: every dynamic symbol it
# defines is declared in a public header (include/emkit/*.h, the generated
# version.h), and none of static calls' (a library of its own). TAP.
# Usage: exports.sh SRC_DIR BUILD_DIR
set -u
src=$1 build=$2
lib=$build/libemkit.so
echo "1..2"
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ {print $3}' | sed 's/@.*//' | sort -u)
bad=
for s in $syms; do
	grep -qw "$s" "$src"/include/emkit/*.h "$build"/include/emkit/version.h || bad="$bad $s"
done
if [ -z "$bad" ] && [ -n "$syms" ]; then
	echo "ok 1 - each of the $(echo "$syms" | wc -l) exported symbols is in a public header"
else
	echo "not ok 1 - exported but not public:$bad"
fi
if echo "$syms" | grep -q '^static_call\|^sc_'; then
	echo "not ok 2 - libemkit carries static calls"
else
	echo "ok 2 - libemkit carries no static calls"
fi
