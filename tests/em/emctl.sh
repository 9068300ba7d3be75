#!/bin/sh
# emctl's model commands (model show/check/export, estimate, place,
# frontier) on files, the embedded default and debugfs, end to end, as TAP:
# exact text, JSON as the ynl CLI formats it, errors, exit codes, the
# grammar (--opt=value, -m, -o -), and writes that fail.
# Usage: emctl.sh EMCTL SRCDIR
set -u
EMCTL=$1
. "$2/../fixtures/emctl.sh"
T=$(mktemp -d /tmp/em-emctl-XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }

# check NAME EXPECTED-EXIT CMD... : runs CMD, stdout in $T/out, stderr in $T/err
check() {
    name=$1; want=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" -eq "$want" ]; then ok "$name"; else
        not_ok "$name (exit $got, want $want)"; sed 's/^/# /' "$T/err"; fi
}

# same NAME FILE EXPECTED-TEXT : FILE must hold exactly EXPECTED-TEXT
same() {
    printf '%s\n' "$3" >"$T/want"
    if cmp -s "$2" "$T/want"; then ok "$1"; else
        not_ok "$1"; diff "$T/want" "$2" | sed 's/^/# /'; fi
}

has() {
    if grep -qF -- "$3" "$2"; then ok "$1"; else not_ok "$1"; sed 's/^/# /' "$2"; fi
}

# ynl NAME FILE: FILE is JSON as the ynl CLI prints it.
ynl() {
    if ynl_json "$2" 2>"$T/py"; then ok "$1"; else not_ok "$1"; sed 's/^/# /' "$T/py"; fi
}

echo "1..90"

check "model show --default" 0 "$EMCTL" model show --default
same "show: the RK3399 in show's layout, with names and capacities" "$T/out" \
"perf-domain 0 'little': cpus 0-3, capacity 381, flags microwatts
$DEFAULT_STATES0

perf-domain 1 'big': cpus 4-5, capacity 1024, flags microwatts
$DEFAULT_STATES1"
cp "$T/out" "$T/default.txt"
check "model show (no source = default)" 0 "$EMCTL" model show
if cmp -s "$T/out" "$T/default.txt"; then ok "show: no source is --default"; else not_ok "show: no source is --default"; fi

check "model show --json" 0 "$EMCTL" model show --default --json
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert [p["perf-domain-id"] for p in d] == [0, 1]
assert d[0]["flags"] == ["perf-domain-microwatts"]
assert d[1]["cpus"] == [4, 5]
s = d[1]["perf-state"][0]
assert sorted(s) == ["cost", "flags", "frequency", "performance", "power"]
assert s == {"performance": 232, "frequency": 408000, "power": 121075, "cost": 5218,
             "flags": ["perf-state-inefficient"]}
assert d[0]["perf-state"][5]["flags"] == []
' "$T/out"; then ok "json: shape and spec flag names"; else not_ok "json: shape and spec flag names"; fi
ynl "json: formatted as ynl prints (one line, Python's json.dumps)" "$T/out"

check "model export --default" 0 "$EMCTL" model export --default
cp "$T/out" "$T/rk3399.yaml"
check "model check exported file" 0 "$EMCTL" model check "$T/rk3399.yaml"
same "check: summary" "$T/out" "$T/rk3399.yaml: ok: 2 domains, 14 states"
check "export of the export" 0 "$EMCTL" model export "$T/rk3399.yaml"
if cmp -s "$T/out" "$T/rk3399.yaml"; then ok "load -> export -> load is identical"; else not_ok "load -> export -> load is identical"; fi

cat >"$T/bad.yaml" <<'Y'
domains:
  - name: x
    flags: [microwatts]
    states:
      - { frequency: 2000, power: 5 }
      - { frequency: 2000, power: 6 }
Y
check "model check bad file fails" 1 "$EMCTL" model check "$T/bad.yaml"
same "check: error names file, line, domain, state" "$T/err" \
    "emctl model check: $T/bad.yaml:6: domain 'x': state 1: frequency 2000 kHz is not above state 0's 2000 kHz"
check "model show missing file" 1 "$EMCTL" model show "$T/none.yaml"
same "show: missing file message" "$T/err" "emctl model show: $T/none.yaml: No such file or directory"
check "model unknown subcommand" 2 "$EMCTL" model frob
same "model: usage message" "$T/err" "emctl model: unknown subcommand 'frob'; it is one of show check export
(see 'emctl help model')"
check "model show two sources" 2 "$EMCTL" model show --default "$T/rk3399.yaml"
same "show: two sources message" "$T/err" "emctl model show: give one model source only (--model FILE, FILE, --default, --debugfs DIR, or --netlink with --socket or --kernel)
(see 'emctl help model show')"
check "model show --model=FILE" 0 "$EMCTL" model show --model="$T/rk3399.yaml"
if cmp -s "$T/out" "$T/default.txt"; then ok "--model=FILE: the exported default, shown as the default"; else not_ok "--model=FILE"; fi
check "model show -m FILE" 0 "$EMCTL" model show -m "$T/rk3399.yaml"
check "model show --model FILE FILE: two sources" 2 "$EMCTL" model show --model "$T/rk3399.yaml" "$T/rk3399.yaml"
check "model export -o FILE" 0 "$EMCTL" model export --default -o "$T/out.yaml"
if cmp -s "$T/out.yaml" "$T/rk3399.yaml" && [ ! -s "$T/out" ]; then ok "export -o FILE: the file, nothing on stdout"; else not_ok "export -o FILE"; fi
check "model export --output=-" 0 "$EMCTL" model export --output=- --default
if cmp -s "$T/out" "$T/rk3399.yaml"; then ok "export -o -: standard output"; else not_ok "export -o -"; fi
[ ! -e ./- ] && ok "export -o -: no file named '-'" || not_ok "export -o -: a file named '-'"
check "model check --json" 0 "$EMCTL" model check --json "$T/rk3399.yaml"
same "check --json: file, domains, states" "$T/out" "{\"file\": \"$T/rk3399.yaml\", \"perf-domains\": 2, \"perf-states\": 14}"

# Hand-computed on the RK3399: little max 200 -> 816 MHz (perf 219, cost 2692): 538400;
# big 300 -> 600 MHz (perf 341, cost 5221): 1566300.
# The issue's example, with Linux 6.14's numbers (fair.c compute_energy(),
# eenv_pd_max_util(), cpufreq_schedutil.c sugov_effective_cpu_perf()): little 200
# -> 250 with headroom -> state 3 (perf 271, cost 3182) * 200 = 636400; big 300 ->
# 375 -> state 2 (464, 5218) * 300 = 1565400. Raw em_cpu_energy, no headroom:
# little state 2 (2692 * 200), big state 1 (5221 * 300) = 2104700.
check "estimate" 0 "$EMCTL" estimate --util 0=200,4=300
has "estimate: EAS little" "$T/out" "  perf-domain 0 'little': max_util 250 busy_time 200 (cpu_cap 381, pd_cap 1524) -> state 3 (1008000 kHz, cost 3182): energy 636400"
has "estimate: EAS total" "$T/out" "EAS total energy 2201800"
has "estimate: raw total" "$T/out" "raw total energy 2104700"
check "estimate --json" 0 "$EMCTL" estimate --util 0=200,4=300 --json
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["eas"]["total-energy"] == 2201800
assert d["raw-em-cpu-energy"]["total-energy"] == 2104700
b = d["eas"]["perf-domains"][1]
assert (b["name"], b["max-util"], b["busy-time"], b["state"], b["energy"]) == ("big", 375, 300, 2, 1565400)
' "$T/out"; then ok "estimate --json: both estimates"; else not_ok "estimate --json: both estimates"; fi
# Thermal pressure: little's actual capacity 300: 200 -> 250 still; 4 CPUs at 300
# would be clamped; here max_util 250 <= 300, pd_cap 1200.
check "estimate --actual-cap" 0 "$EMCTL" estimate --util 0=290 --actual-cap 0=300
has "estimate: actual cap clamps max_util" "$T/out" "  perf-domain 0 'little': max_util 300 busy_time 290 (cpu_cap 300, pd_cap 1200) -> state 4 (1200000 kHz, cost 3726): energy 1080540"
check "estimate bad --util" 2 "$EMCTL" estimate --util 0=x
same "estimate: usage message" "$T/err" "emctl estimate: --util: '0=x' is not a list of CPU=UTIL (CPU < 1024, UTIL 0..1024)
(see 'emctl help estimate')"
check "estimate trailing comma" 2 "$EMCTL" estimate --util 0=5,
check "estimate CPU twice" 2 "$EMCTL" estimate --util 0=5,0=6
same "estimate: twice message" "$T/err" "emctl estimate: --util: CPU 0 is given twice
(see 'emctl help estimate')"
check "place trailing comma" 2 "$EMCTL" place --tasks 5,
check "estimate CPU outside the model" 1 "$EMCTL" estimate --util 7=10
same "estimate: no-domain message" "$T/err" "emctl estimate: CPU 7 has utilization 10 but is in no performance domain"
check "estimate without --util" 2 "$EMCTL" estimate --default

cat >"$T/small.yaml" <<'Y'
domains:
  - name: a
    cpus: [0, 1]
    capacity: 512
    flags: [microwatts]
    states:
      - { frequency: 500000, power: 100000 }
      - { frequency: 800000, power: 150000 }
      - { frequency: 1000000, power: 300000 }
  - name: b
    cpus: [2]
    capacity: 1024
    flags: [microwatts]
    states:
      - { frequency: 1000000, power: 200000 }
      - { frequency: 2000000, power: 800000 }
Y
# Both tasks on a's two CPUs: max 300 -> 375 with headroom -> perf 409, cost 3667;
# 3667 * 600 = 2200200.
check "place" 0 "$EMCTL" place --model "$T/small.yaml" --tasks 300,300
has "place: optimal energy" "$T/out" "optimal: energy 2200200"
has "place: gap line" "$T/out" "gap: greedy is 0.00% above optimal (0)"
check "place bad --tasks" 2 "$EMCTL" place --tasks 0,5
check "place impossible" 1 "$EMCTL" place --model "$T/small.yaml" --tasks 600,600
same "place: impossible message" "$T/err" "emctl place: no placement fits every task (util * 1280 < capacity * 1024 on every CPU)"
# The issue's example: 350 fits little's 381 by the old rule, not by the kernel's
# (350 * 1280 >= 381 * 1024): big, 350 -> 437 -> state 2 (5218 * 350).
check "place 350 on the default" 0 "$EMCTL" place --tasks 350 --json
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["optimal"] == {"energy": 1826300, "cpus": [4]}, d
assert d["greedy"] == {"energy": 1826300, "cpus": [4]}, d
assert d["gap-percent"] == 0
' "$T/out"; then ok "place --json: a 350 task goes to big"; else not_ok "place --json: a 350 task goes to big"; fi

check "frontier" 0 "$EMCTL" frontier --default
has "frontier: header" "$T/out" "frontier of 2 CPU domains, 6 CPUs: 43 levels, total performance 3572"
# 5 % of 3572 is 178: two little CPUs at state 0 (109 each, 27769 uW each).
has "frontier: 5% target" "$T/out" "target   5% (178): perf 218 (6.1%)  power 55538  cpus 0,1  states pd0:2x0  overflow 2,3,4,5"
check "frontier --json --all" 0 "$EMCTL" frontier --json --all --targets 100
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["total-performance"] == 3572 and d["nr-levels"] == len(d["levels"]) == 43
top = d["targets"][0]["level"]
assert top["performance"] == 3572 and top["cpus"] == [0, 1, 2, 3, 4, 5] and top["overflow"] == []
# every CPU at its top state: 4 * 179212 + 2 * 1130112
assert top["power"] == 4 * 179212 + 2 * 1130112
p = [l["performance"] for l in d["levels"]]; w = [l["power"] for l in d["levels"]]
assert p == sorted(p) and w == sorted(w) and len(set(p)) == len(p)
' "$T/out"; then ok "frontier --json: levels rise in performance and power"; else not_ok "frontier --json: levels rise in performance and power"; fi
check "frontier bad --targets" 2 "$EMCTL" frontier --targets 0,50
same "frontier: usage message" "$T/err" "emctl frontier: --targets: '0,50' is not a list of percentages (1..100)
(see 'emctl help frontier')"

mkdir -p "$T/dbg/cpu0/ps:500000" "$T/dbg/cpu0/ps:1000000"
echo "0-1" >"$T/dbg/cpu0/cpus"; echo "0x1" >"$T/dbg/cpu0/flags"
for f in 500000:100:512 1000000:300:1024; do
    fr=${f%%:*}; rest=${f#*:}; p=${rest%%:*}; perf=${rest#*:}
    echo "$fr" >"$T/dbg/cpu0/ps:$fr/frequency"; echo "$p" >"$T/dbg/cpu0/ps:$fr/power"
    echo 0 >"$T/dbg/cpu0/ps:$fr/cost"; echo "$perf" >"$T/dbg/cpu0/ps:$fr/performance"
done
check "model show --debugfs" 0 "$EMCTL" model show --debugfs "$T/dbg"
same "debugfs: domain read" "$T/out" "perf-domain 0 'cpu0': cpus 0-1, capacity 1024, flags microwatts
  state  frequency (MHz)  performance  power (µW)  cost  flags
      0              500          512         100     1
      1             1000         1024         300     2"

check "--socket alone asks emd (none here): exit 3" 3 "$EMCTL" model show --socket "$T/emd.sock"
same "socket: the error says so" "$T/err" "emctl model show: cannot reach emd at $T/emd.sock: No such file or directory (is emd running?)"
check "--netlink takes no spec now: a FILE beside it is a second source" 2 "$EMCTL" model show --netlink "$T/none.yaml"
check "--socket with --default: two sources" 2 "$EMCTL" -s "$T/emd.sock" model show --default

printf '{"domains": []}\n' >"$T/empty.json"
check "show an empty model" 0 "$EMCTL" model show "$T/empty.json"
same "empty: says so" "$T/out" "the model has no performance domains"

# A device domain: "device" in the table, no "cpus" in the JSON (as the wire).
cat >"$T/dev.yaml" <<'Y'
domains:
  - name: gpu
    flags: [microwatts]
    states:
      - { frequency: 200000, power: 150000 }
      - { frequency: 400000, power: 400000 }
  - name: npu
    cpus: [0]
    capacity: 512
    flags: [artificial]
    states:
      - { frequency: 100000, power: 10, cost: 50 }
      - { frequency: 200000, power: 20, cost: 40 }
Y
check "model show: a device and an artificial domain" 0 "$EMCTL" model show "$T/dev.yaml"
same "device: 'device', power in mW (whole mW); artificial: power abstract" "$T/out" \
"perf-domain 0 'gpu': device, flags microwatts
  state  frequency (MHz)  performance  power (mW)  cost  flags
      0              200            0         150     0
      1              400            0         400     0

perf-domain 1 'npu': cpus 0, capacity 512, flags artificial
  state  frequency (MHz)  performance  power (abstract)  cost  flags
      0              100          256                10    50  inefficient
      1              200          512                20    40"
check "model show --json: a device" 0 "$EMCTL" -j model show "$T/dev.yaml"
same "device: no cpus key" "$T/out" '[{"perf-domain-id": 0, "flags": ["perf-domain-microwatts"], "perf-state": [{"performance": 0, "frequency": 200000, "power": 150000, "cost": 0, "flags": []}, {"performance": 0, "frequency": 400000, "power": 400000, "cost": 0, "flags": []}]}, {"perf-domain-id": 1, "flags": ["perf-domain-artificial"], "cpus": [0], "perf-state": [{"performance": 256, "frequency": 100000, "power": 10, "cost": 50, "flags": ["perf-state-inefficient"]}, {"performance": 512, "frequency": 200000, "power": 20, "cost": 40, "flags": []}]}]'

# JSON of the other commands, formatted alike.
"$EMCTL" estimate --util 0=200,4=300 --json >"$T/est.json"
ynl "estimate --json: formatted as ynl prints" "$T/est.json"
"$EMCTL" place --tasks 350,100 --json >"$T/place.json"
ynl "place --json: formatted as ynl prints" "$T/place.json"
"$EMCTL" frontier --all --json >"$T/front.json"
ynl "frontier --json: formatted as ynl prints" "$T/front.json"

# Every write checked.
for c in "model show" "model show --json" "model export" "model check $T/rk3399.yaml" \
    "estimate --util 0=100" "place --tasks 100 --json" "frontier --all" "help model"; do
    # shellcheck disable=SC2086
    $EMCTL $c >/dev/full 2>"$T/err"
    rc=$?
    if [ $rc -eq 1 ] && grep -q "^emctl [a-z ]*: writing the output: No space left on device$" "$T/err"; then
        ok "emctl $c > /dev/full: exit 1, the reason said"
    else not_ok "emctl $c > /dev/full: exit $rc"; sed 's/^/# /' "$T/err"; fi
done

check "--help" 0 "$EMCTL" place --help
has "place --help: place's usage" "$T/out" "usage: emctl place [OPTIONS]"
check "an option of another command: exit 2" 2 "$EMCTL" place --tasks 100 --util 0=1
same "--util on place: refused" "$T/err" "emctl place: option '--util' does not apply to place
(see 'emctl help place')"
