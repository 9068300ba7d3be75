# Shared by the systemd tests (sourced; TAP): a temporary directory removed at
# exit with the background processes still running, TAP lines, and waiting for
# a log line. Set SUITE (the directory's name part) before sourcing.

tmp=$(mktemp -d "${TMPDIR:-/tmp}/emkit-$SUITE.XXXXXX") || exit 1
pids=""
n=0
failed=0

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
# started PID: a background process cleanup() stops; reaped PID: it has ended
# (waited for), and is not signalled again.
started() { pids="$pids $1"; }
reaped() { pids=$(echo " $pids " | sed "s/ $1 / /"); }
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $*"; }
comment() { sed 's/^/# /' "$@"; }
# wait_for FILE TEXT: until FILE contains TEXT (5 s at most).
wait_for() {
	i=0
	until grep -qF -- "$2" "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 100 ] && return 1
		sleep 0.05
	done
}
