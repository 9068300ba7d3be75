#!/bin/sh
# Privilege and abuse tests against the real emd (TAP):
#   1-3. amplification: four clients each send one 32 KiB datagram packed with
#        1170 get-perf-table requests for a 256-state domain and read nothing.
#        emd must keep what it queues for them bounded (here: its resident
#        memory may grow by at most 16 MiB, a few hundred times less than
#        the answers' total), keep serving other clients meanwhile, and exit
#        cleanly.
#   4.   the socket is not accessible to every local user (0660 by default).
#   5.   started as root with --user nobody, emd runs as nobody once bound
#        (without --user or --allow-root it refuses to start: tests/emd's
#        test_root); skipped when the test does not run as root.
# Usage: abuse.sh EMD HBCLIENT
EMD=$1 HB=$2
. "$(dirname "$0")/lib.sh"
echo "1..5"

rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"; }

{
    echo "domains:"
    echo "  - name: wide"
    echo "    flags: [microwatts]"
    echo "    states:"
    i=0
    while [ $i -lt 256 ]; do
        echo "      - {frequency: $((1000 + i)), power: $((10 + i))}"
        i=$((i + 1))
    done
} >"$model"

if start_emd "$s" "$log" --model "$model" --no-watch; then
    before=$(rss_kb "$emd_pid")
    "$HB" flood "$s" 4 5 >"$tmp/flood" 2>&1 &
    flood=$!
    i=0
    while [ $i -lt 50 ] && ! grep -q '^sent' "$tmp/flood"; do sleep 0.1; i=$((i + 1)); done
    sleep 1
    after=$(rss_kb "$emd_pid")
    grow=$(( (after - before) / 1024 ))
    check "4 clients x 32 KiB of requests, nothing read: emd grows by ${grow} MiB (limit 16)" \
        sh -c "cat '$tmp/flood'; echo 'VmRSS $before kB -> $after kB'; [ $grow -le 16 ]"
    check "emd serves another client meanwhile" sh -c "[ \"\$('$HB' dump '$s')\" = 1 ]"
    kill "$flood" 2>/dev/null; wait "$flood" 2>/dev/null
    check "emd exits cleanly" stop_emd "$log"
else
    not_ok "emd starts"; not_ok "-"; not_ok "-"
fi

user_args=
[ "$(id -u)" -eq 0 ] && user_args="--user nobody"
# shellcheck disable=SC2086
if start_emd "$s" "$log" --default $user_args; then
    mode=$(stat -c %a "$s")
    case $mode in
    *0) ok "socket mode $mode: no access for other users" ;;
    *) not_ok "socket mode $mode gives every local user access" ;;
    esac
    if [ "$(id -u)" -eq 0 ]; then
        euid=$(awk '/^Uid:/ {print $3}' "/proc/$emd_pid/status")
        if [ "$euid" = "$(id -u nobody)" ]; then
            ok "started as root with --user nobody, emd runs as uid $euid after binding"
        else
            not_ok "started as root with --user nobody, emd runs as uid $euid"
        fi
    else
        ok "# SKIP not running as root"
    fi
    stop_emd "$log" >/dev/null
else
    not_ok "emd starts"; not_ok "-"
fi
exit $failed
