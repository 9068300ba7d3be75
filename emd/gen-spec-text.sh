#!/bin/sh
# Regenerate emd/spec_text.c: the YNL specs emd and emctl carry inside the binary
# (so that an installed emd needs no data files). Run from anywhere:
#   emd/gen-spec-text.sh > emd/spec_text.c
# The test 'emd-spec-text' fails when spec_text.c and spec/*.yaml differ.
set -eu
top="$(cd "$(dirname "$0")/.." && pwd)"
emit() { # NAME FILE
	printf 'const char %s[] =\n' "$1"
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$/\\n"/' "$2"
	printf '\t;\n\n'
}
cat <<'HEAD'
/*
 * The YNL specs of dev-energymodel and nlctrl as C strings, generated from
 * spec/dev-energymodel.yaml and spec/nlctrl.yaml by emd/gen-spec-text.sh (do not edit by hand; the test
 * emd-spec-text checks that this file matches them). emd validates
 * requests against them and emctl decodes replies with them, so neither program
 * needs the spec files at run time.
 */
#include "spec_text.h"

HEAD
emit emd_spec_dev_energymodel "$top/spec/dev-energymodel.yaml"
emit emd_spec_nlctrl "$top/spec/nlctrl.yaml"
