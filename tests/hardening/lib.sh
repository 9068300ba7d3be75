# Shared helpers of the hardening shell tests (sourced). Each test starts the
# real emd on a socket in its own temporary directory and stops it at exit.
# Needs: $EMD (the emd binary), $HB (hbclient).

tmp=$(mktemp -d "${TMPDIR:-/tmp}/emkit-hardening.XXXXXX") || exit 1
# The usual places: emd's socket, its log, its model file.
s=$tmp/emd.sock
log=$tmp/emd.log
model=$tmp/model.yaml
n=0
failed=0
emd_pid=
cleanup() {
    [ -n "$emd_pid" ] && kill -9 "$emd_pid" 2>/dev/null
    for p in $(jobs -p); do kill -9 "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $*"; }
check() { # check DESCRIPTION COMMAND...
    d=$1; shift
    if "$@" >"$tmp/out" 2>&1; then ok "$d"; else not_ok "$d"; fi
    sed 's/^/# /' "$tmp/out"
}
comment() { sed 's/^/# /' "$@"; }

# start_emd SOCKET LOG ARGS...: start emd, wait until it accepts connections.
start_emd() {
    sock=$1 log=$2; shift 2
    # As root (CI), emd refuses to run unless told: --allow-root, or the test's --user.
    # shellcheck disable=SC2046
    "$EMD" --socket "$sock" $( [ "$(id -u)" -eq 0 ] && echo --allow-root ) "$@" 2>>"$log" &
    emd_pid=$!
    i=0
    while [ $i -lt 100 ]; do
        if [ -S "$sock" ] && "$HB" dump "$sock" >/dev/null 2>&1; then return 0; fi
        kill -0 "$emd_pid" 2>/dev/null || break
        sleep 0.1; i=$((i + 1))
    done
    echo "# emd did not start:"; comment "$log"
    return 1
}

# stop_emd LOG: SIGTERM, then the exit status must be 0 and the log free of
# sanitizer reports.
stop_emd() {
    log=$1
    kill -TERM "$emd_pid" 2>/dev/null
    wait "$emd_pid"; st=$?
    emd_pid=
    if [ $st -ne 0 ] || grep -qE 'AddressSanitizer|LeakSanitizer|runtime error|UndefinedBehavior' "$log"; then
        echo "# emd exit status $st; log:"; comment "$log" | tail -n 60
        return 1
    fi
    return 0
}

# model_file PATH N: a model of N device domains d0..d(N-1).
. "$(dirname "$0")/../fixtures/model.sh"
