#!/bin/sh
# emctl's emd commands against the real emd on a temporary socket (TAP):
# output, JSON shape, error text and exit codes of show, dump, get, table,
# watch and plot, and --kernel on a kernel without the family.
# usage: emctl.sh EMD EMCTL
EMD="$1"
EMCTL="$2"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/emd-emctl.XXXXXX")
S="$tmp/emd.sock"
n=0
fails=0
pids=""

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"
	[ -n "${2:-}" ] && [ -f "$2" ] && sed 's/^/# got: /' "$2"
	[ -f "$tmp/out" ] && sed 's/^/# out: /' "$tmp/out"
	[ -f "$tmp/err" ] && sed 's/^/# err: /' "$tmp/err"
}
# check NAME EXPECTED_RC CMD...: run CMD (stdout $tmp/out, stderr $tmp/err)
check() {
	name="$1"; want="$2"; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$name"; else echo "# exit $rc, want $want"; not_ok "$name"; fi
}
# same FILE TEXT NAME: the file's content is exactly TEXT
same() {
	if [ "$(cat "$1")" = "$2" ]; then ok "$3"; else
		echo "# want: $2" | head -5; not_ok "$3" "$1"; fi
}
has() { if grep -qF -- "$2" "$1"; then ok "$3"; else echo "# missing: $2"; not_ok "$3"; fi; }

# start_emd ARGS...: emd on $S, waiting until it answers.
start_emd() {
	# shellcheck disable=SC2046
	"$EMD" --socket "$S" $( [ "$(id -u)" -eq 0 ] && echo --allow-root ) "$@" 2>"$tmp/emd.log" &
	emd_pid=$!
	pids="$pids $emd_pid"
	i=0
	until "$EMCTL" dump --socket "$S" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$emd_pid" 2>/dev/null; then
			echo "Bail out! emd did not start"; cat "$tmp/emd.log"; exit 1
		fi
		sleep 0.05
	done
}
stop_emd() { kill "$emd_pid"; wait "$emd_pid"; }

echo "1..42"
start_emd --default

check "show --help exits 0" 0 "$EMCTL" show --help
has "$tmp/out" "usage: emctl show" "show --help prints the usage"

check "show" 0 "$EMCTL" show --socket "$S"
has "$tmp/out" "perf domain 0: cpus 0-3, flags microwatts" "show: little domain"
has "$tmp/out" "perf domain 1: cpus 4-5, flags microwatts" "show: big domain"
has "$tmp/out" "      0         408000         109        27769     2547  inefficient" \
	"show marks inefficient states"
[ "$(grep -c inefficient "$tmp/out")" -eq 3 ] && ok "show: three inefficient states" ||
	not_ok "show: three inefficient states"

check "dump --json" 0 "$EMCTL" dump --json --socket "$S"
same "$tmp/out" '[{"perf-domain-id":0,"flags":["perf-domain-microwatts"],"cpus":[0,1,2,3]},{"perf-domain-id":1,"flags":["perf-domain-microwatts"],"cpus":[4,5]}]' \
	"dump --json: the ynl list shape"
check "get 1" 0 "$EMCTL" get 1 --socket "$S"
same "$tmp/out" "perf domain 1: cpus 4-5, flags microwatts" "get 1: one line"
check "get 1 --json" 0 "$EMCTL" get --json 1 --socket "$S"
same "$tmp/out" '{"perf-domain-id":1,"flags":["perf-domain-microwatts"],"cpus":[4,5]}' \
	"get --json: the ynl object shape"
check "table 0 --json" 0 "$EMCTL" table 0 --json --socket "$S"
same "$tmp/out" '{"perf-domain-id":0,"perf-state":[{"performance":109,"frequency":408000,"power":27769,"cost":2547,"flags":["perf-state-inefficient"]},{"performance":161,"frequency":600000,"power":40837,"cost":2536,"flags":[]},{"performance":219,"frequency":816000,"power":58956,"cost":2692,"flags":[]},{"performance":271,"frequency":1008000,"power":86247,"cost":3182,"flags":[]},{"performance":322,"frequency":1200000,"power":120000,"cost":3726,"flags":[]},{"performance":381,"frequency":1416000,"power":179212,"cost":4703,"flags":[]}]}' \
	"table --json: states in the ynl shape"
check "show --json" 0 "$EMCTL" show --json --socket "$S"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d)==2 and len(d[1]["perf-state"])==8 and d[1]["cpus"]==[4,5]' "$tmp/out" 2>/dev/null; then
	ok "show --json: domains with their states"; else not_ok "show --json: domains with their states"; fi

# emd answers an unknown id with the fixed 6.19 kernel's -EINVAL and a message
# of its own; emctl prints either its own words or emd's.
check "get 7 fails with 1" 1 "$EMCTL" get 7 --socket "$S"
has "$tmp/err" "no performance domain with id 7" "get 7: the error says so"
check "table 7 fails with 1" 1 "$EMCTL" table 7 --socket "$S"
has "$tmp/err" "no performance domain with id 7" "table 7: the error says so"
check "get x is a usage error" 2 "$EMCTL" get x --socket "$S"
same "$tmp/err" "emctl get: 'x' is not a performance domain id" "get x: the error says so"
check "get without an id is a usage error" 2 "$EMCTL" get --socket "$S"
check "an unknown option is a usage error" 2 "$EMCTL" dump --colour --socket "$S"
check "--kernel with --socket is a usage error" 2 "$EMCTL" dump --kernel --socket "$S"
check "no emd at the socket: exit 3" 3 "$EMCTL" show --socket "$tmp/none.sock"
same "$tmp/err" "emctl show: cannot reach emd at $tmp/none.sock: No such file or directory (is emd running?)" \
	"no emd: the error says so"

# --kernel: this kernel (6.18) has no dev-energymodel family; a 6.19 one would answer.
"$EMCTL" show --kernel >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 3 ] && grep -qF "the running kernel has no dev-energymodel generic netlink family" "$tmp/err"; then
	ok "--kernel without the family: exit 3, clear error"
elif [ $rc -eq 0 ]; then
	ok "--kernel: this kernel serves dev-energymodel"
else
	not_ok "--kernel: exit $rc"
fi

check "plot 0" 0 "$EMCTL" plot 0 --svg "$tmp/p0.svg" --socket "$S"
has "$tmp/p0.svg" "<svg xmlns=\"http://www.w3.org/2000/svg\"" "plot writes an SVG"
[ "$(grep -c 'class="inefficient"' "$tmp/p0.svg")" -eq 1 ] && [ "$(grep -c 'class="state"' "$tmp/p0.svg")" -eq 5 ] &&
	ok "plot 0: one inefficient state marked of six" || not_ok "plot 0: inefficient states marked"
check "plot 1" 0 "$EMCTL" plot 1 --svg "$tmp/p1.svg" --socket "$S"
[ "$(grep -c 'class="inefficient"' "$tmp/p1.svg")" -eq 2 ] && ok "plot 1: two inefficient states" ||
	not_ok "plot 1: two inefficient states"
check "plot without --svg is a usage error" 2 "$EMCTL" plot 0 --socket "$S"
check "plot 7 fails with 1" 1 "$EMCTL" plot 7 --svg "$tmp/p7.svg" --socket "$S"
stop_emd

# watch: events across a model file change.
cat >"$tmp/m.yaml" <<'EOF'
domains:
  - name: c
    cpus: [0]
    capacity: 1024
    flags: [microwatts]
    states:
      - { frequency: 1000, power: 10 }
      - { frequency: 2000, power: 30 }
EOF
start_emd --model "$tmp/m.yaml"
"$EMCTL" watch --count 1 --timeout 60 --socket "$S" >"$tmp/watch" 2>"$tmp/watch.err" &
w=$!
"$EMCTL" watch --json --count 2 --timeout 60 --socket "$S" >"$tmp/watchj" 2>"$tmp/watchj.err" &
wj=$!
pids="$pids $w $wj"
# Both say "watching ..." once subscribed (the JSON one on stderr).
i=0
until grep -q "watching" "$tmp/watch" "$tmp/watchj.err" 2>/dev/null &&
	[ "$(cat "$tmp/watch" "$tmp/watchj.err" | grep -c watching)" -eq 2 ]; do
	i=$((i + 1)); [ $i -gt 1200 ] && break; sleep 0.05
done
sed 's/power: 30/power: 40/' "$tmp/m.yaml" >"$tmp/m2.yaml" && mv "$tmp/m2.yaml" "$tmp/m.yaml"
wait $w; rc=$?
[ $rc -eq 0 ] && ok "watch --count 1 exits 0 after the event" || not_ok "watch: exit $rc"
same "$tmp/watch" "watching emd at $S for perf-domain events
updated perf domain 0: 2 states" "watch prints the updated event"
printf 'domains:\n  - name: c\n    cpus: [0]\n    capacity: 1024\n    flags: [microwatts]\n    states:\n      - { frequency: 1000, power: 10 }\n      - { frequency: 2000, power: 40 }\n  - name: gpu\n    flags: [microwatts]\n    states:\n      - { frequency: 5, power: 7 }\n' >"$tmp/m2.yaml"
mv "$tmp/m2.yaml" "$tmp/m.yaml"
wait $wj; rc=$?
[ $rc -eq 0 ] && ok "watch --json exits 0 after two events" || not_ok "watch --json: exit $rc"
same "$tmp/watchj" '{"name":"perf-domain-updated","msg":{"perf-domain-id":0,"perf-state":[{"performance":512,"frequency":1000,"power":10,"cost":0,"flags":["perf-state-inefficient"]},{"performance":1024,"frequency":2000,"power":40,"cost":0,"flags":[]}]}}
{"name":"perf-domain-created","msg":{"perf-domain-id":1,"perf-state":[{"performance":0,"frequency":5,"power":7,"cost":0,"flags":[]}]}}' \
	"watch --json: one ynl-shaped event per line"
check "watch times out without events: exit 1" 1 "$EMCTL" watch --count 2 --timeout 1 --socket "$S"
same "$tmp/err" "emctl watch: timed out after 1 s with 0 of 2 events" "watch timeout: the error says so"
stop_emd

[ $n -eq 42 ] || echo "# ran $n checks, planned 42"
exit 0
