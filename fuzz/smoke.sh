#!/bin/sh
# Bounded smoke run of one libFuzzer target, as a TAP test (meson suite 'fuzz').
# Usage: smoke.sh FUZZER SECONDS MAX_LEN EXTRA_FLAG CORPUS_DIR...
#   EXTRA_FLAG: one more libFuzzer flag, or '-' for none
# The seed corpora are copied to a temporary directory first, so that the run
# never writes into the repository; new inputs and any crash artifact stay
# there. Prints one TAP result with libFuzzer's final executions and coverage
# line as a comment; on failure, the end of the log and the crashing input in
# hex.
set -u
fuzzer=$1 secs=$2 maxlen=$3 extra=$4
shift 4
[ "$extra" = - ] && extra=
# Without leak detection per input, none at exit either (LeakSanitizer would
# report the same known leak when the run ends).
case $extra in
*detect_leaks=0*) ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
                  export ASAN_OPTIONS ;;
esac
name=$(basename "$fuzzer")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/emkit-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/corpus" "$tmp/artifacts"
for d in "$@"; do
    cp -R "$d"/. "$tmp/corpus/"
done
seeds=$(find "$tmp/corpus" -type f | wc -l)

echo "1..1"
"$fuzzer" -max_total_time="$secs" -max_len="$maxlen" -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$tmp/artifacts/" ${extra:+"$extra"} "$tmp/corpus" \
    >"$tmp/log" 2>&1
rc=$?
done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$tmp/log" | tail -n 1 | tr -s '\t ' ' ')
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/log")
corpus=$(find "$tmp/corpus" -type f | wc -l)
if [ $rc -eq 0 ] && [ -n "$done_line" ]; then
    echo "ok 1 - $name: ${execs:-?} executions in ${secs}s, no crash"
    echo "# $done_line"
    echo "# seeds $seeds, corpus after the run $corpus"
else
    echo "not ok 1 - $name: exit status $rc"
    tail -n 60 "$tmp/log" | sed 's/^/# /'
    for a in "$tmp"/artifacts/*; do
        [ -f "$a" ] || continue
        echo "# artifact $(basename "$a"):"
        od -An -tx1 -v "$a" | head -n 32 | sed 's/^/#  /'
    done
fi
