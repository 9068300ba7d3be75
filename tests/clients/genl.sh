#!/bin/sh
# iproute2's genl (Debian's, unmodified) through the preload library against
# the real emd (TAP): `genl ctrl get name dev-energymodel`, `get id`, `genl ctrl
# list`, and without emd; emctl's own --kernel mode through the library.
# The family's description is checked against what emd serves (its GETFAMILY
# answer, read directly with `emctl nl --socket`); the ids handed out against
# the kernel's own list (`genl ctrl list` without the library).
#
# `genl ctrl policy name dev-energymodel` (CTRL_CMD_GETPOLICY) prints the
# policies the kernel's YNL code would give the family (em_netlink_autogen.c:
# perf-domain-id, NLA_U32, in each do request; the dump has none).
#
# usage: genl.sh EMD EMCTL SPEC_DIR
EMD="$1"
EMCTL="$2"
SPECS="$3"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/emkit-genl.XXXXXX")
S="$tmp/emd.sock"
n=0
fails=0
emd_pid=""

cleanup() {
	[ -n "$emd_pid" ] && kill "$emd_pid" 2>/dev/null && wait "$emd_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"
	for f in out err; do [ -s "$tmp/$f" ] && sed "s/^/# $f: /" "$tmp/$f"; done
	return 0
}
# run CMD...: stdout in $tmp/out, stderr in $tmp/err, status in $rc
run() { "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
pre() { run "$EMCTL" exec --socket "$S" -- "$@"; }

command -v genl >/dev/null || { echo "1..0 # SKIP iproute2's genl is not installed"; exit 0; }

echo "1..13"
. "$(dirname "$0")/../fixtures/emd.sh"
emd_up 300 --default

# What emd serves, and what the kernel has.
"$EMCTL" nl --spec "$SPECS/nlctrl.yaml" --do getfamily \
	--request '{"family-name": "dev-energymodel"}' --socket "$S" >"$tmp/emd.json"
genl ctrl list >"$tmp/kernel.list" 2>&1
kernel_ids=$(sed -n 's/^[[:space:]]*ID: \(0x[0-9a-f]*\) .*/\1/p' "$tmp/kernel.list" | tr '\n' ' ')
kernel_groups=$(sed -n 's/.*ID-\(0x[0-9a-f]*\)  name:.*/\1/p' "$tmp/kernel.list" | tr '\n' ' ')
version=$(python3 -c 'import json,sys; print(hex(json.load(sys.stdin)["version"]))' <"$tmp/emd.json")
ops=$(python3 -c 'import json,sys
for o in json.load(sys.stdin)["ops"]:
    for v in o.values(): print(hex(v["id"]))' <"$tmp/emd.json" | tr '\n' ' ')
group=$(python3 -c 'import json,sys
for g in json.load(sys.stdin)["mcast-groups"]:
    for v in g.values(): print(v["name"])' <"$tmp/emd.json")

# 1-4: genl ctrl get name dev-energymodel
pre genl ctrl get name dev-energymodel
if [ $rc -eq 0 ] && grep -q '^Name: dev-energymodel$' "$tmp/out"; then
	ok "genl ctrl get name dev-energymodel"
else
	not_ok "genl ctrl get name dev-energymodel (exit $rc)"
fi
cp "$tmp/out" "$tmp/get.out"
id=$(sed -n 's/^[[:space:]]*ID: \(0x[0-9a-f]*\)  Version: \(0x[0-9a-f]*\) .*/\1/p' "$tmp/get.out")
ver=$(sed -n 's/^[[:space:]]*ID: 0x[0-9a-f]*  Version: \(0x[0-9a-f]*\) .*/\1/p' "$tmp/get.out")
got_ops=$(sed -n 's/^[[:space:]]*#[0-9]*:  ID-\(0x[0-9a-f]*\) *$/\1/p' "$tmp/get.out" | tr '\n' ' ')
grp_id=$(sed -n "s/.*ID-\(0x[0-9a-f]*\)  name: $group *\$/\1/p" "$tmp/get.out")
if [ "$ver" = "$version" ] && [ "$got_ops" = "$ops" ] && [ -n "$grp_id" ]; then
	ok "version $ver, commands $got_ops, group '$group': what emd serves"
else
	echo "# want version $version, commands '$ops', group $group"
	not_ok "version '$ver', commands '$got_ops', group id '$grp_id'"
fi
case " $kernel_ids " in
*" $id "*) not_ok "family id $id is one the kernel uses ($kernel_ids)" ;;
"  ") not_ok "no family id" ;;
*) ok "family id $id: not one the kernel uses" ;;
esac
case " $kernel_groups " in
*" $grp_id "*) not_ok "group id $grp_id is one the kernel uses ($kernel_groups)" ;;
*) ok "group id $grp_id: not one the kernel uses" ;;
esac

# 5: by the id handed out
pre genl ctrl get id "$id"
if [ $rc -eq 0 ] && cmp -s "$tmp/out" "$tmp/get.out"; then
	ok "genl ctrl get id $id: the same family"
else
	not_ok "genl ctrl get id $id (exit $rc)"
fi

# 6-7: genl ctrl list = the kernel's list and dev-energymodel once
pre genl ctrl list
cp "$tmp/out" "$tmp/list.out"
if [ $rc -eq 0 ] && [ "$(grep -c '^Name: dev-energymodel$' "$tmp/list.out")" -eq 1 ]; then
	ok "genl ctrl list: dev-energymodel once"
else
	not_ok "genl ctrl list: dev-energymodel once (exit $rc)"
fi
# The dev-energymodel block runs from its "Name:" line to the next family's;
# blank lines are genl's layout, not data.
awk '/^Name: /{ skip = ($0 == "Name: dev-energymodel") } !skip && NF' "$tmp/list.out" >"$tmp/rest"
awk '/^Name: /{ keep = ($0 == "Name: dev-energymodel") } keep && NF' "$tmp/list.out" >"$tmp/block"
awk 'NF' "$tmp/kernel.list" >"$tmp/kernel.norm"
awk 'NF' "$tmp/get.out" >"$tmp/get.norm"
if cmp -s "$tmp/rest" "$tmp/kernel.norm" && cmp -s "$tmp/block" "$tmp/get.norm"; then
	ok "genl ctrl list: every kernel family unchanged, dev-energymodel as 'get' prints it"
else
	diff "$tmp/kernel.norm" "$tmp/rest" | sed 's/^/# /' | head -20
	not_ok "genl ctrl list: the kernel's list and dev-energymodel"
fi

# 8: without emd, as without the library: the kernel has no such family.
run genl ctrl get name dev-energymodel
cp "$tmp/out" "$tmp/plain.out"; cp "$tmp/err" "$tmp/plain.err"; plain_rc=$rc
run "$EMCTL" exec --socket "$tmp/no-emd.sock" -- genl ctrl get name dev-energymodel
if [ $rc -eq $plain_rc ] && cmp -s "$tmp/out" "$tmp/plain.out" && cmp -s "$tmp/err" "$tmp/plain.err"; then
	ok "without emd: genl says what it says on this kernel (exit $rc)"
else
	echo "# without the library: exit $plain_rc"; sed 's/^/# /' "$tmp/plain.err"
	not_ok "without emd (exit $rc)"
fi

# 9-11: emctl's own --kernel mode, unmodified, reaches emd through the library.
# (In a sanitizer build emctl is instrumented: ASan must be told that a library
# preloaded before its runtime is expected.)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export ASAN_OPTIONS
for cmd in "dump --json" "table 1 --json" "show"; do
	# shellcheck disable=SC2086
	"$EMCTL" $cmd --socket "$S" >"$tmp/want" 2>&1
	# shellcheck disable=SC2086
	pre "$EMCTL" $cmd --kernel
	if [ $rc -eq 0 ] && cmp -s "$tmp/out" "$tmp/want"; then
		ok "emctl $cmd --kernel through the library = emctl $cmd from emd"
	else
		sed 's/^/# want: /' "$tmp/want" | head -5
		not_ok "emctl $cmd --kernel (exit $rc)"
	fi
done

# 12: CTRL_CMD_GETPOLICY: one line per op with a policy, one per attribute,
# the family's id the one handed out (genl prints what ctrl_dumppolicy() sent).
pre genl ctrl policy name dev-energymodel
printf '\tID: %s  op 1 policies: do=0\n\tID: %s  op 2 policies: do=1\n' "$id" "$id" >"$tmp/want"
printf '\tID: %s  policy[0]:attr[2]: type=U32 range:[0,4294967295]\n' "$id" >>"$tmp/want"
printf '\tID: %s  policy[1]:attr[1]: type=U32 range:[0,4294967295]\n' "$id" >>"$tmp/want"
if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && cmp -s "$tmp/out" "$tmp/want"; then
	ok "genl ctrl policy name dev-energymodel: each do's perf-domain-id, a u32"
else
	sed 's/^/# want: /' "$tmp/want"
	not_ok "genl ctrl policy name dev-energymodel (exit $rc)"
fi
# 13: by the id handed out, the same
cp "$tmp/out" "$tmp/policy.out"
pre genl ctrl policy id "$id"
if [ $rc -eq 0 ] && cmp -s "$tmp/out" "$tmp/policy.out"; then
	ok "genl ctrl policy id $id: the same policies"
else
	not_ok "genl ctrl policy id $id (exit $rc)"
fi
[ $fails -eq 0 ]
