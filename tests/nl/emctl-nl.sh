#!/bin/sh
# Drives the real emctl binary against the running kernel's nlctrl family
# and checks output, error text and exit codes. Prints TAP.
# Usage: emctl-nl.sh EMCTL SPEC_DIR
set -u
EMCTL=$1
SPEC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; sed 's/^/# /' "$T/err" "$T/out" 2>/dev/null; }
# check DESCRIPTION EXPECTED_STATUS COMMAND...: run, compare the exit status.
run() { "$@" >"$T/out" 2>"$T/err"; echo $? >"$T/rc"; }
status_is() { [ "$(cat "$T/rc")" = "$1" ]; }

echo "1..19"

run "$EMCTL" nl --help
if status_is 0 && grep -q "^usage: emctl nl \[OPTIONS\]$" "$T/out" && grep -q -- "--request JSON" "$T/out"; then ok "--help prints usage, exits 0"; else not_ok "--help"; fi

run "$EMCTL" nl
if status_is 2 && grep -qx -- "emctl nl: --spec FILE is required" "$T/err"; then ok "no arguments: usage error 2"; else not_ok "no arguments"; fi

run "$EMCTL" nl --spec "$SPEC/nlctrl.yaml" --do getfamily --dump getfamily
if status_is 2; then ok "--do with --dump: usage error 2"; else not_ok "--do with --dump"; fi

# Dump every family and compare names and ids with genl.
run "$EMCTL" nl --spec "$SPEC/nlctrl.yaml" --dump getfamily
if status_is 0; then ok "dump getfamily succeeds"; else not_ok "dump getfamily"; fi
python3 -c '
import json, sys
for f in json.load(open(sys.argv[1])):
    print("%s 0x%x" % (f["family-name"], f["family-id"]))
' "$T/out" | sort >"$T/ours" 2>"$T/err"
genl ctrl list | awk '/^Name:/ {name=$2} /^\tID:/ {print name, $2}' | sort >"$T/genl"
if [ -s "$T/genl" ] && cmp -s "$T/ours" "$T/genl"; then
    ok "dump lists the same families and ids as genl ctrl list ($(wc -l <"$T/genl"))"
else
    diff "$T/ours" "$T/genl" >"$T/err"; not_ok "dump matches genl ctrl list"
fi
if python3 -c '
import json, sys
f = [x for x in json.load(open(sys.argv[1])) if x["family-name"] == "nlctrl"][0]
assert f["version"] == 2
assert f["mcast-groups"] == [{"1": {"name": "notify", "id": 16}}]
assert "cmd-cap-dump" in f["ops"][0]["1"]["flags"]
' "$T/out" 2>"$T/err"; then ok "nlctrl entry: version, groups, op flags by name"; else not_ok "nlctrl entry shape"; fi

run "$EMCTL" nl --spec "$SPEC/nlctrl.yaml" --do getfamily --request '{"family-name": "nlctrl"}'
if status_is 0 && python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))
assert f["family-id"] == 16 and f["family-name"] == "nlctrl", f
' "$T/out" 2>>"$T/err"; then ok "do getfamily nlctrl"; else not_ok "do getfamily nlctrl"; fi

# Policies come as nest-type-value attributes: check the decoded shape.
run "$EMCTL" nl --spec "$SPEC/nlctrl.yaml" --dump getpolicy --request '{"family-name": "nlctrl"}'
if status_is 0 && python3 -c '
import json, sys
msgs = json.load(open(sys.argv[1]))
pol = [m["policy"] for m in msgs if "policy" in m]
name = [p for p in pol if p["policy-id"] == 0 and p["attr-id"] == 2][0]
assert name["type"] == "nul-string" and name["max-length"] == 15, name
assert any(m.get("op-policy", {}).get("op-id") == 3 for m in msgs)
' "$T/out" 2>>"$T/err"; then ok "dump getpolicy: family-name is a nul-string of at most 15"; else not_ok "dump getpolicy"; fi

run "$EMCTL" nl --spec "$SPEC/nlctrl.yaml" --do getfamily --request '{"family-name": "no-such-fam"}'
if status_is 1 && grep -q "getfamily: No such file or directory (ENOENT)" "$T/err"; then
    ok "unknown family: ENOENT, exit 1"; else not_ok "unknown family"; fi

# A name longer than the kernel's limit: its own extended ack, decoded.
run "$EMCTL" nl --spec "$SPEC/nlctrl.yaml" --do getfamily --request '{"family-name": "a-family-name-longer-than-sixteen"}'
if status_is 1 && grep -qx "emctl nl: getfamily: Invalid argument (EINVAL): Attribute failed policy validation (offset 20)" "$T/err"; then
    ok "kernel extack decoded: policy failure at offset 20"; else not_ok "kernel extack"; fi

run "$EMCTL" nl --spec "$SPEC/nlctrl.yaml" --do getfamily --request '{"family-nam": "x"}'
if status_is 2 && grep -q "'family-nam' is not an attribute of 'ctrl-attrs'" "$T/err"; then
    ok "bad --request key: usage error 2"; else not_ok "bad --request key"; fi

run "$EMCTL" nl --spec "$SPEC/nlctrl.yaml" --do getfamily --request '{"family-name": '
if status_is 2 && grep -q "not valid JSON" "$T/err"; then ok "malformed --request: usage error 2"; else not_ok "malformed --request"; fi

run "$EMCTL" nl --spec "$SPEC/nlctrl.yaml" --subscribe notify --duration 0
if status_is 0 && [ ! -s "$T/out" ]; then ok "subscribe to nlctrl notify for 0 s"; else not_ok "subscribe"; fi

# This kernel predates dev-energymodel (6.19): resolution fails cleanly, with
# the exit status of an unreachable peer (as emctl show --kernel).
run "$EMCTL" nl --spec "$SPEC/dev-energymodel.yaml" --dump get-perf-domains
if status_is 3 && grep -q "resolving the family: No such file or directory (ENOENT): no family 'dev-energymodel'" "$T/err"; then
    ok "dev-energymodel absent from this kernel: exit 3 with the reason"; else not_ok "dev-energymodel absent"; fi

# ynl's habit, --json JSON: here --json is the global flag (nl prints JSON
# anyway), so the attributes are an unexpected argument, and the error says
# where they go.
run "$EMCTL" nl --spec "$SPEC/nlctrl.yaml" --do getfamily --json '{"family-name": "nlctrl"}'
if status_is 2 && grep -qF "emctl nl: unexpected argument '{\"family-name\": \"nlctrl\"}' (request attributes go in --request JSON)" "$T/err"; then
    ok "--json JSON: the error points at --request"; else not_ok "--json JSON"; fi
# The output is formatted as ynl prints it (Python's json.dumps), and checked.
run "$EMCTL" --json nl --spec="$SPEC/nlctrl.yaml" --do=getfamily -r '{"family-name": "nlctrl"}'
if status_is 0 && python3 -c '
import json, sys
line = open(sys.argv[1]).read().rstrip("\n")
assert json.dumps(json.loads(line)) == line
' "$T/out" 2>>"$T/err"; then ok "do getfamily: one line, as ynl --output-json prints"; else not_ok "ynl formatting"; fi
"$EMCTL" nl --spec "$SPEC/nlctrl.yaml" --dump getfamily >/dev/full 2>"$T/err"; echo $? >"$T/rc"
if status_is 1 && grep -qx "emctl nl: writing the output: No space left on device" "$T/err"; then
    ok "a dump to /dev/full: exit 1 with the reason"; else not_ok "dump to /dev/full"; fi
run "$EMCTL" nl --spec "$SPEC/nlctrl.yaml" --dump getfamily --socket "$T/none.sock"
if status_is 3; then ok "a server that is not there: exit 3"; else not_ok "unreachable server"; fi

# The kernel's own notifications, in a network namespace of our own: emctl
# subscribes to netdev's mgmt group and must print, decoded, the dev-add-ntf
# (and dev-change-ntf) messages that new veth pairs cause. Interfaces are added until emctl has printed one (or
# gives up after --duration), so no timing is assumed.
cat >"$T/netdev.yaml" <<'SPEC'
name: netdev
attribute-sets:
  - name: dev
    attributes:
      - {name: ifindex, type: u32}
operations:
  list:
    - {name: dev-get, attribute-set: dev, do: {request: {attributes: [ifindex]}, reply: {attributes: [ifindex]}}}
    - {name: dev-add-ntf, notify: dev-get, mcgrp: mgmt}
    - {name: dev-del-ntf, notify: dev-get, mcgrp: mgmt}
    - {name: dev-change-ntf, notify: dev-get, mcgrp: mgmt}
mcast-groups:
  list: [{name: mgmt}]
SPEC
if unshare -n true 2>/dev/null && genl ctrl get name netdev >/dev/null 2>&1; then
    EMCTL="$EMCTL" T="$T" unshare -n sh -c '
        "$EMCTL" nl --spec "$T/netdev.yaml" --subscribe mgmt --duration 30 --count 4 >"$T/out" 2>"$T/err" &
        pid=$!
        i=0
        while kill -0 $pid 2>/dev/null && [ $i -lt 300 ]; do
            ip link add emnl$i type veth peer name emnlp$i 2>/dev/null
            i=$((i + 1))
            sleep 0.1
        done
        wait $pid
        echo $? >"$T/rc"'
    if status_is 0 && python3 -c '
import json, sys
ntfs = [json.loads(line) for line in open(sys.argv[1])]
assert len(ntfs) >= 4, ntfs
assert all(n["name"] in ("dev-add-ntf", "dev-change-ntf") for n in ntfs), ntfs
assert any(n["name"] == "dev-add-ntf" and n["msg"]["ifindex"] > 0 for n in ntfs), ntfs
' "$T/out" 2>>"$T/err"; then ok "subscribe: the kernel's netdev notifications for new veths, as JSON"; else not_ok "kernel notification"; fi
else
    n=$((n + 1)); echo "ok $n - # SKIP no network namespaces or no netdev family"
fi

exit $((failed > 0))
