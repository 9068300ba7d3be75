#!/bin/sh
# TAP: emd/spec_text.c is what emd/gen-spec-text.sh makes of spec/*.yaml today.
top="$1"
echo "1..1"
tmp=$(mktemp)
if sh "$top/emd/gen-spec-text.sh" >"$tmp" && cmp -s "$tmp" "$top/emd/spec_text.c"; then
	echo "ok 1 - emd/spec_text.c matches spec/ (regenerate with emd/gen-spec-text.sh)"
else
	echo "not ok 1 - emd/spec_text.c differs from spec/: run emd/gen-spec-text.sh > emd/spec_text.c"
	diff "$tmp" "$top/emd/spec_text.c" | head -20 | sed 's/^/# /'
fi
rm -f "$tmp"
