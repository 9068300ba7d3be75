#!/bin/sh
# Fault tests against the real emd (TAP):
#   1. clients that stop reading in the middle of a dump (tiny receive
#      buffers) do not stop emd from serving others, and killing them (-9)
#      mid-dump leaves emd serving;
#   2. emd killed (-9) while a client waits for an answer: the client gets a
#      clear error, and once emd is restarted on the same path a retry works;
#   3. the model file replaced by a broken one and reloaded (SIGHUP, and
#      inotify): the old model stays, the error is logged naming the file;
#      a good file afterwards is taken.
# Usage: faults.sh EMD HBCLIENT
EMD=$1 HB=$2
. "$(dirname "$0")/lib.sh"
echo "1..10"

# dump_is N: a fresh client dumps exactly N domains.
dump_is() {
    got=$("$HB" dump "$s" 2>&1)
    [ "$got" = "$1" ] || { echo "dumped '$got', want $1"; return 1; }
}

# ---- 1. stalled and killed clients in the middle of a dump ----
model_file "$model" 300
if start_emd "$s" "$log" --model "$model" --dump-packet-size 64 --no-watch; then
    pids=
    for i in 1 2 3 4 5; do
        "$HB" dump-stall "$s" >"$tmp/stall$i" 2>&1 &
        pids="$pids $!"
    done
    i=0
    while [ $i -lt 50 ] && [ "$(cat "$tmp"/stall* | grep -c stalled)" -lt 5 ]; do
        sleep 0.1; i=$((i + 1))
    done
    check "5 clients stall in the middle of a 300-domain dump" \
        test "$(cat "$tmp"/stall* | grep -c stalled)" -eq 5
    check "another client dumps all 300 domains meanwhile" dump_is 300
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null
    wait $pids 2>/dev/null
    check "after the stalled clients are killed mid-dump, dumps still work" dump_is 300
    check "emd survives, exits cleanly" stop_emd "$log"
else
    not_ok "emd starts"; not_ok "-"; not_ok "-"; not_ok "-"
fi

# ---- 2. emd killed while a client waits, then restarted ----
model_file "$model" 3
if start_emd "$s" "$log" --model "$model" --no-watch; then
    kill -STOP "$emd_pid"
    "$HB" get-retry "$s" 2 30 >"$tmp/retry" 2>&1 &
    client=$!
    sleep 0.5
    kill -9 "$emd_pid"; wait "$emd_pid" 2>/dev/null; emd_pid=
    i=0
    while [ $i -lt 50 ] && ! grep -q '^error:' "$tmp/retry"; do sleep 0.1; i=$((i + 1)); done
    check "the waiting client gets a clear error when emd dies" grep '^error: ..*' "$tmp/retry"
    start_emd "$s" "$log" --model "$model" --no-watch >/dev/null
    wait "$client"; st=$?
    check "after emd restarts on the same path, the client's retry works" \
        sh -c "cat '$tmp/retry'; [ $st -eq 0 ] && grep -q '^ok: domain 2' '$tmp/retry'"
    stop_emd "$log" >/dev/null
else
    not_ok "emd starts"; not_ok "-"
fi

# ---- 3. the model file replaced by a broken one ----
model_file "$model" 3
: >"$log"
if start_emd "$s" "$log" --model "$model"; then
    printf 'domains:\n  - {name: x, flags: [microwatts], states: [{frequency: 2, power: 1}, {frequency: 1, power: 1}]}\n' \
        >"$model.tmp"
    mv "$model.tmp" "$model"
    kill -HUP "$emd_pid"
    i=0
    while [ $i -lt 50 ] && ! grep -q 'failed' "$log"; do sleep 0.1; i=$((i + 1)); done
    check "a broken model file is refused, the error is logged with the file's name" \
        sh -c "grep 'fail' '$log' | grep -F '$model'"
    check "the old model stays (3 domains)" dump_is 3
    model_file "$model" 5
    kill -HUP "$emd_pid"
    i=0
    while [ $i -lt 50 ] && [ "$("$HB" dump "$s" 2>&1)" != 5 ]; do sleep 0.1; i=$((i + 1)); done
    check "a good file afterwards is taken (5 domains)" dump_is 5
    check "emd exits cleanly" stop_emd "$log"
else
    not_ok "emd starts"; not_ok "-"; not_ok "-"; not_ok "-"
fi
exit $failed
