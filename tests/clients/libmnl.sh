#!/bin/sh
# A libmnl client (mnl_dump.c: MNL_SOCKET_BUFFER_SIZE buffers, mnl_cb_run's port
# id and sequence checks) through the preload library against the real emd (TAP):
# a get-perf-domains dump of 1,000 domains arrives whole, every id once, each
# domain as `emctl dump --json` reads it from emd directly.
#
# emd runs with its defaults: it sizes dump packets as the kernel's
# netlink_dump() does, within what the reader's receives have shown (the
# library announces them), so a 4 KiB reader is never cut short
# (mnl_socket_recvfrom() would fail with ENOSPC on a truncated datagram).
#
# usage: libmnl.sh EMD EMCTL MNL_DUMP
EMD="$1"
EMCTL="$2"
MNL_DUMP="$3"
N=1000
tmp=$(mktemp -d "${TMPDIR:-/tmp}/emkit-libmnl.XXXXXX")
S="$tmp/emd.sock"
emd_pid=""

cleanup() {
	[ -n "$emd_pid" ] && kill "$emd_pid" 2>/dev/null && wait "$emd_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "1..3"
{
	echo "domains:"
	i=0
	while [ $i -lt $N ]; do
		echo "  - name: dev$i"
		echo "    flags: [microwatts]"
		echo "    states: [{ frequency: 100000, power: $((1000 + i)) }, { frequency: 200000, power: $((5000 + i)) }]"
		i=$((i + 1))
	done
	# and CPU domains, whose messages carry their CPUs
	echo "  - { name: little, cpus: [0, 1, 2, 3], capacity: 512, flags: [microwatts], states: [{ frequency: 500000, power: 100000 }] }"
	echo "  - { name: big, cpus: [4, 5], capacity: 1024, flags: [microwatts, skip-inefficiencies], states: [{ frequency: 900000, power: 400000 }] }"
} >"$tmp/model.yaml"

. "$(dirname "$0")/../fixtures/emd.sh"
emd_up 600 --model "$tmp/model.yaml" --no-watch
"$EMCTL" dump --json --socket "$S" >"$tmp/want.json"

"$EMCTL" exec --socket "$S" -- "$MNL_DUMP" >"$tmp/got" 2>"$tmp/err"
rc=$?
if [ $rc -eq 0 ]; then
	echo "ok 1 - the libmnl client's dump through the library ($(cat "$tmp/err"))"
else
	echo "not ok 1 - the libmnl client's dump (exit $rc)"
	sed 's/^/# /' "$tmp/err"
fi

/usr/bin/python3 - "$tmp/want.json" "$tmp/got" "$N" <<'EOF'
import json, sys
bits = {"perf-domain-microwatts": 1, "perf-domain-skip-inefficiencies": 2,
        "perf-domain-artificial": 4}
want = {d["perf-domain-id"]: (sum(bits[f] for f in d.get("flags", [])), d.get("cpus", []))
        for d in json.load(open(sys.argv[1]))}
got = {}
dups = 0
for line in open(sys.argv[2]):
    f = [int(x) for x in line.split()]
    dups += f[0] in got
    got[f[0]] = (f[1], f[2:])
n = int(sys.argv[3]) + 2
print("%s 2 - %d domains, every id once (%d repeated)"
      % ("ok" if len(got) == n == len(want) and not dups else "not ok", len(got), dups))
diff = [i for i in want if got.get(i) != want[i]]
print("%s 3 - each as emd serves it (emctl dump --json)" % ("not ok" if diff or not got else "ok"))
for i in diff[:5]:
    print("# id %d: want %s, got %s" % (i, want[i], got.get(i)))
EOF
