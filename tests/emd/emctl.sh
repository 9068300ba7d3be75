#!/bin/sh
# emctl's emd commands against the real emd on a temporary socket (TAP):
# the grammar (options before and after the command, --opt=value, missing
# values, inapplicable options), output (the domain table with units, JSON
# in the ynl CLI's formatting, checked against Python's json.dumps, which is
# what ynl prints with), errors and exit codes of show, dump, get, table,
# watch and plot, the plot's SVG structure (plot_svg.py), --kernel on a
# kernel without the family, the default socket, a socket the user may not
# open, and writes that fail.
# usage: emctl.sh EMD EMCTL
EMD="$1"
EMCTL="$2"
HERE=$(dirname "$0")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/emd-emctl.XXXXXX")
S="$tmp/emd.sock"
n=0
fails=0
pids=""
emd_pid=""

cleanup() {
	for p in $pids $emd_pid; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"
	[ -n "${2:-}" ] && [ -f "$2" ] && sed 's/^/# got: /' "$2"
	[ -f "$tmp/out" ] && sed 's/^/# out: /' "$tmp/out" | head -20
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
		printf '%s\n' "$2" | sed 's/^/# want: /' | head -20; not_ok "$3" "$1"; fi
}
has() { if grep -qF -- "$2" "$1"; then ok "$3"; else echo "# missing: $2"; not_ok "$3"; fi; }
# ynl FILE NAME: every line of FILE is JSON as the ynl CLI prints it.
ynl() {
	if ynl_json "$1" 2>"$tmp/py"; then ok "$2"; else sed 's/^/# /' "$tmp/py"; not_ok "$2"; fi
}

# start_emd ARGS...: emd on $S, waiting until it answers.
. "$HERE/../fixtures/emd.sh"
. "$HERE/../fixtures/emctl.sh"
start_emd() {
	emd_up 300 "$@"
	pids="$pids $emd_pid"
}
stop_emd() { kill "$emd_pid"; wait "$emd_pid"; }

PLAN=154
echo "1..$PLAN"
start_emd --default

# ---- the grammar -------------------------------------------------------------------
check "show --help exits 0" 0 "$EMCTL" show --help
has "$tmp/out" "usage: emctl show [OPTIONS]" "show --help prints show's usage"
if grep -q "emctl plot\|usage: emctl get" "$tmp/out"; then not_ok "show --help: show's only"
else ok "show --help: show's only"; fi
"$EMCTL" help show >"$tmp/help2"
if cmp -s "$tmp/out" "$tmp/help2"; then ok "emctl help show = emctl show --help"
else not_ok "emctl help show = emctl show --help" "$tmp/help2"; fi

SHOW0="perf-domain 0: cpus 0-3, flags microwatts
$DEFAULT_STATES0"
SHOW1="perf-domain 1: cpus 4-5, flags microwatts
$DEFAULT_STATES1"
check "show --socket PATH" 0 "$EMCTL" show --socket "$S"
same "$tmp/out" "$SHOW0

$SHOW1" "show: one table per domain, units in the header, inefficient states flagged"
check "--socket before the command" 0 "$EMCTL" --socket "$S" show
same "$tmp/out" "$SHOW0

$SHOW1" "emctl --socket PATH show = emctl show --socket PATH"
check "-s=, short, after" 0 "$EMCTL" show -s"$S"
check "--socket=PATH" 0 "$EMCTL" show --socket="$S"
check "abbreviated --sock=PATH" 0 "$EMCTL" show --sock="$S"
check "show --socket without its value: exit 2" 2 "$EMCTL" show --socket
same "$tmp/err" "emctl show: option '--socket' requires an argument
(see 'emctl help show')" "show --socket: 'requires an argument', with the emctl prefix"
check "show -s without its value: exit 2" 2 "$EMCTL" show -s
same "$tmp/err" "emctl show: option '-s' requires an argument
(see 'emctl help show')" "show -s: 'requires an argument'"
check "show --count 3: exit 2" 2 "$EMCTL" show --count 3 --socket "$S"
same "$tmp/err" "emctl show: option '--count' does not apply to show
(see 'emctl help show')" "show --count: refused as not applying"
check "plot --json: exit 2" 2 "$EMCTL" plot 0 --json --svg "$tmp/x.svg" --socket "$S"
same "$tmp/err" "emctl plot: option '--json' does not apply to plot
(see 'emctl help plot')" "plot --json: refused as not applying"
check "-j before plot: exit 2" 2 "$EMCTL" -j plot 0 --svg "$tmp/x.svg" --socket "$S"
check "an unknown option: exit 2" 2 "$EMCTL" dump --colour --socket "$S"
same "$tmp/err" "emctl dump: unknown option '--colour'
(see 'emctl help dump')" "unknown option: said in emctl's words"
check "--json=1: exit 2" 2 "$EMCTL" dump --json=1 --socket "$S"
same "$tmp/err" "emctl dump: option '--json' takes no argument
(see 'emctl help dump')" "--json=1: takes no argument"
check "an option of another command before the command: exit 2" 2 "$EMCTL" --svg x plot 0
check "--kernel with --socket: exit 2" 2 "$EMCTL" --kernel dump --socket "$S"
check "--version" 0 "$EMCTL" --version
if grep -qx "emctl (emkit) [0-9][0-9.]*" "$tmp/out"; then ok "--version: emctl (emkit) VERSION"
else not_ok "--version: emctl (emkit) VERSION"; fi

# ---- output -------------------------------------------------------------------------
check "dump" 0 "$EMCTL" dump --socket "$S"
same "$tmp/out" "perf-domain 0: cpus 0-3, flags microwatts
perf-domain 1: cpus 4-5, flags microwatts" "dump: one line per domain"
check "-j dump (global option before the command)" 0 "$EMCTL" -j dump -s "$S"
same "$tmp/out" '[{"perf-domain-id": 0, "flags": ["perf-domain-microwatts"], "cpus": [0, 1, 2, 3]}, {"perf-domain-id": 1, "flags": ["perf-domain-microwatts"], "cpus": [4, 5]}]' \
	"dump --json: the ynl list"
ynl "$tmp/out" "dump --json: formatted as Python's json.dumps (ynl --output-json)"
check "get 1" 0 "$EMCTL" get 1 --socket "$S"
same "$tmp/out" "perf-domain 1: cpus 4-5, flags microwatts" "get 1: its dump line"
check "get --json 1" 0 "$EMCTL" get --json 1 --socket "$S"
same "$tmp/out" '{"perf-domain-id": 1, "flags": ["perf-domain-microwatts"], "cpus": [4, 5]}' \
	"get --json: the ynl object"
check "table 0" 0 "$EMCTL" table 0 --socket "$S"
same "$tmp/out" "$SHOW0" "table 0: show's table for one domain"
check "table 0 --json" 0 "$EMCTL" table 0 --json --socket "$S"
same "$tmp/out" '{"perf-domain-id": 0, "perf-state": [{"performance": 109, "frequency": 408000, "power": 27769, "cost": 2547, "flags": ["perf-state-inefficient"]}, {"performance": 161, "frequency": 600000, "power": 40837, "cost": 2536, "flags": []}, {"performance": 219, "frequency": 816000, "power": 58956, "cost": 2692, "flags": []}, {"performance": 271, "frequency": 1008000, "power": 86247, "cost": 3182, "flags": []}, {"performance": 322, "frequency": 1200000, "power": 120000, "cost": 3726, "flags": []}, {"performance": 381, "frequency": 1416000, "power": 179212, "cost": 4703, "flags": []}]}' \
	"table --json: states in the ynl shape"
ynl "$tmp/out" "table --json: formatted as ynl prints"
check "show --json" 0 "$EMCTL" show --json --socket "$S"
ynl "$tmp/out" "show --json: formatted as ynl prints"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d)==2 and len(d[1]["perf-state"])==8 and d[1]["cpus"]==[4,5] and d[0]["perf-state"][0]["frequency"]==408000' "$tmp/out" 2>/dev/null; then
	ok "show --json: domains with their states"; else not_ok "show --json: domains with their states"; fi
"$EMCTL" model show --default --json >"$tmp/model.json"
if cmp -s "$tmp/out" "$tmp/model.json"; then ok "show --json = model show --default --json (one JSON style)"
else not_ok "show --json = model show --default --json" "$tmp/model.json"; fi
check "model show --netlink asks emd" 0 "$EMCTL" model show --netlink --socket "$S"
has "$tmp/out" "perf-domain 1 'cpu4': cpus 4-5, capacity 1024, flags microwatts" \
	"model show --netlink: the domain as emd serves it, named as debugfs names it"
check "model show --netlink --json" 0 "$EMCTL" -j model show --netlink -s "$S"
if cmp -s "$tmp/out" "$tmp/model.json"; then ok "model show --netlink --json = model show --default --json"
else not_ok "model show --netlink --json = model show --default --json" "$tmp/model.json"; fi
check "estimate on emd's model (--socket implies --netlink)" 0 "$EMCTL" -s "$S" estimate --util 0=200,4=300
has "$tmp/out" "EAS total energy 2201800" "estimate on emd's model: the default's EAS total"

# ---- failures -----------------------------------------------------------------------
# emd answers an unknown id with the fixed 6.19 kernel's -EINVAL and a message
# of its own, which emctl prints.
check "get 7 fails with 1" 1 "$EMCTL" get 7 --socket "$S"
same "$tmp/err" "emctl get: no performance domain with id 7" "get 7: the error says so"
check "table 7 fails with 1" 1 "$EMCTL" table 7 --socket "$S"
same "$tmp/err" "emctl table: no performance domain with id 7" "table 7: the error says so"
check "get x is a usage error" 2 "$EMCTL" get x --socket "$S"
same "$tmp/err" "emctl get: 'x' is not a performance domain id
(see 'emctl help get')" "get x: the error says so"
check "get without an id is a usage error" 2 "$EMCTL" get --socket "$S"
same "$tmp/err" "emctl get: missing ID
(see 'emctl help get')" "get without an id: missing ID"
check "no emd at the socket: exit 3" 3 "$EMCTL" show --socket "$tmp/none.sock"
same "$tmp/err" "emctl show: cannot reach emd at $tmp/none.sock: No such file or directory (is emd running?)" \
	"no emd: the error says so"
check "model show --netlink, no emd: exit 3 (as show)" 3 "$EMCTL" model show --netlink --socket "$tmp/none.sock"
check "the default socket: \$EMD_SOCKET" 0 env EMD_SOCKET="$S" "$EMCTL" dump
same "$tmp/out" "perf-domain 0: cpus 0-3, flags microwatts
perf-domain 1: cpus 4-5, flags microwatts" "\$EMD_SOCKET: emctl finds emd there"

# A socket the user may not open: the error names who may, not "is emd running?".
chmod 755 "$tmp"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups "$EMCTL" --version >/dev/null 2>&1; then
	check "EACCES: exit 3" 3 setpriv --reuid=65534 --regid=65534 --clear-groups "$EMCTL" show --socket "$S"
	same "$tmp/err" "emctl show: cannot reach emd at $S: Permission denied: the socket admits its owner '$(stat -c %U "$S")' and the members of group '$(stat -c %G "$S")' (mode $(stat -c %a "$S")); to let a group connect, see SocketGroup= (emd.socket) and --socket-group in emd(8)" \
		"EACCES: the socket's owner, group and mode, and where to change them"
else
	ok "# SKIP EACCES: needs root, setpriv and an emctl user nobody may run"
	ok "# SKIP EACCES message"
fi

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

# Every write checked: a full disk is a failure with a message.
for c in "show" "show --json" "dump" "get 0" "table 1 --json" "plot 0 --svg -" "plot 0 --csv -" "help show"; do
	# shellcheck disable=SC2086
	case $c in
	help*) "$EMCTL" $c >/dev/full 2>"$tmp/err" ;;
	*) "$EMCTL" $c --socket "$S" >/dev/full 2>"$tmp/err" ;;
	esac
	rc=$?
	if [ $rc -eq 1 ] && grep -q "^emctl [a-z]*: writing the output: No space left on device$" "$tmp/err"; then
		ok "emctl $c > /dev/full: exit 1, the reason said"
	else echo "# exit $rc"; not_ok "emctl $c > /dev/full: exit 1"; fi
done

# ---- plot ---------------------------------------------------------------------------
check "plot 1 --svg FILE" 0 "$EMCTL" plot 1 --svg "$tmp/p1.svg" --socket "$S"
python3 "$HERE/plot_svg.py" "$tmp/p1.svg" --first $((n + 1)) \
	--title "perf-domain 1 (cpu4): CPUs 4-5" --mhz 408,600,816,1008,1200,1416,1608,1800 \
	--inefficient 2 --panels power,cost --power-unit mW --all-labels >"$tmp/tap"
cat "$tmp/tap"
n=$(sed -n 's/^# last //p' "$tmp/tap")
fails=$((fails + $(grep -c "^not ok" "$tmp/tap")))
check "plot 0 --svg - (standard output)" 0 "$EMCTL" plot 0 --svg - --socket "$S"
python3 "$HERE/plot_svg.py" "$tmp/out" --first $((n + 1)) \
	--title "perf-domain 0 (cpu0): CPUs 0-3" --mhz 408,600,816,1008,1200,1416 \
	--inefficient 1 --panels power,cost --power-unit mW --all-labels >"$tmp/tap"
cat "$tmp/tap"
n=$(sed -n 's/^# last //p' "$tmp/tap")
fails=$((fails + $(grep -c "^not ok" "$tmp/tap")))
[ ! -e ./- ] && ok "plot --svg -: no file named '-'" || not_ok "plot --svg -: a file named '-'"
check "plot 0 --csv FILE" 0 "$EMCTL" plot 0 --csv "$tmp/p0.csv" --socket "$S"
same "$tmp/p0.csv" "state,frequency_khz,performance,power_uw,cost,inefficient
0,408000,109,27769,2547,1
1,600000,161,40837,2536,0
2,816000,219,58956,2692,0
3,1008000,271,86247,3182,0
4,1200000,322,120000,3726,0
5,1416000,381,179212,4703,0" "plot --csv: the states' numbers, with units"
check "plot without --svg or --csv is a usage error" 2 "$EMCTL" plot 0 --socket "$S"
check "plot --svg - --csv -: a usage error" 2 "$EMCTL" plot 0 --svg - --csv - --socket "$S"
check "plot 7 fails with 1" 1 "$EMCTL" plot 7 --svg "$tmp/p7.svg" --socket "$S"
stop_emd

# watch (and a device domain's plot): events across a model file change.
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
"$EMCTL" -j watch -n2 --timeout=60 -s "$S" >"$tmp/watchj" 2>"$tmp/watchj.err" &
wj=$!
pids="$pids $w $wj"
# Both say "watching ..." once subscribed (the JSON one on stderr).
i=0
until [ "$(cat "$tmp/watch" "$tmp/watchj.err" 2>/dev/null | grep -c watching)" -eq 2 ]; do
	i=$((i + 1)); [ $i -gt 1200 ] && break; sleep 0.05
done
sed 's/power: 30/power: 40/' "$tmp/m.yaml" >"$tmp/m2.yaml" && mv "$tmp/m2.yaml" "$tmp/m.yaml"
wait $w; rc=$?
[ $rc -eq 0 ] && ok "watch --count 1 exits 0 after the event" || not_ok "watch: exit $rc"
same "$tmp/watch" "watching emd at $S for perf-domain events
updated perf-domain 0: 2 states" "watch prints the updated event"
printf 'domains:\n  - name: c\n    cpus: [0]\n    capacity: 1024\n    flags: [microwatts]\n    states:\n      - { frequency: 1000, power: 10 }\n      - { frequency: 2000, power: 40 }\n  - name: gpu\n    flags: [microwatts]\n    states:\n      - { frequency: 200000, power: 150000 }\n      - { frequency: 400000, power: 400000 }\n      - { frequency: 600000, power: 900000 }\n' >"$tmp/m2.yaml"
mv "$tmp/m2.yaml" "$tmp/m.yaml"
wait $wj; rc=$?
[ $rc -eq 0 ] && ok "watch --json exits 0 after two events" || not_ok "watch --json: exit $rc"
same "$tmp/watchj" '{"name": "perf-domain-updated", "msg": {"perf-domain-id": 0, "perf-state": [{"performance": 512, "frequency": 1000, "power": 10, "cost": 0, "flags": ["perf-state-inefficient"]}, {"performance": 1024, "frequency": 2000, "power": 40, "cost": 0, "flags": []}]}}
{"name": "perf-domain-created", "msg": {"perf-domain-id": 1, "perf-state": [{"performance": 0, "frequency": 200000, "power": 150000, "cost": 0, "flags": []}, {"performance": 0, "frequency": 400000, "power": 400000, "cost": 0, "flags": []}, {"performance": 0, "frequency": 600000, "power": 900000, "cost": 0, "flags": []}]}}' \
	"watch --json: one ynl-shaped event per line"
ynl "$tmp/watchj" "watch --json: each line formatted as ynl prints"
check "watch times out without events: exit 1" 1 "$EMCTL" watch --count 2 --timeout 1 --socket "$S"
same "$tmp/err" "emctl watch: timed out after 1 s with 0 of 2 events" "watch timeout: the error says so"
# A device domain: no cpus in any view, no cost panel in its plot.
check "dump with a device domain" 0 "$EMCTL" dump --socket "$S"
same "$tmp/out" "perf-domain 0: cpus 0, flags microwatts
perf-domain 1: device, flags microwatts" "dump: a device says so"
check "get 1 --json: a device" 0 "$EMCTL" get 1 --json --socket "$S"
same "$tmp/out" '{"perf-domain-id": 1, "flags": ["perf-domain-microwatts"]}' \
	"get --json: a device has no cpus key (the wire carries none)"
check "plot 1: a device" 0 "$EMCTL" plot 1 --svg "$tmp/dev.svg" --socket "$S"
python3 "$HERE/plot_svg.py" "$tmp/dev.svg" --first $((n + 1)) \
	--title "perf-domain 1 (pd1): a device" --mhz 200,400,600 --inefficient 0 \
	--panels power --power-unit mW --all-labels >"$tmp/tap"
cat "$tmp/tap"
n=$(sed -n 's/^# last //p' "$tmp/tap")
fails=$((fails + $(grep -c "^not ok" "$tmp/tap")))
stop_emd

[ $n -eq $PLAN ] || echo "# ran $n checks, planned $PLAN"
exit 0
