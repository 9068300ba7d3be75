#!/bin/sh
# Write the C source of the YNL specs built into libemkit (so that an installed
# emd or emctl needs no data files): each spec file as a NUL-terminated C string.
# Run by the build (lib/proto/meson.build) whenever a spec changes:
#   gen-spec-text.sh OUT.c spec/dev-energymodel.yaml spec/nlctrl.yaml
set -eu
out=$1 em=$2 ctrl=$3
emit() { # NAME FILE
	printf 'const char %s[] =\n' "$1"
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$/\\n"/' "$2"
	printf '\t;\n\n'
}
{
cat <<'HEAD'
/*
 * The YNL specs of dev-energymodel and nlctrl as C strings, generated from
 * spec/dev-energymodel.yaml and spec/nlctrl.yaml by lib/proto/gen-spec-text.sh
 * at build time. emd validates requests against them, the typed client and
 * emctl decode replies with them, so no program needs the spec files at run
 * time.
 */
#include "emkit/dev_energymodel_user.h"

HEAD
emit emd_spec_dev_energymodel "$em"
emit emd_spec_nlctrl "$ctrl"
} >"$out.tmp"
mv "$out.tmp" "$out"
