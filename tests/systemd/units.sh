#!/bin/sh
# emd as its systemd units run it, with what was installed (TAP). The build is
# installed into a staging root (DESTDIR); then:
# - systemd-analyze verify and security --offline on the INSTALLED emd.service
#   and emd.socket: no complaint, exposure <= 2.0;
# - the installed emd, as an unprivileged user and without XDG_RUNTIME_DIR,
#   socket-activated by systemd-socket-activate (the service manager's
#   LISTEN_FDS protocol), answers the installed emctl and logs and reports
#   (STATUS=) the path of the socket it was handed;
# - `emd --reload PID` (the unit's ExecReload=) returns once the reload is done;
# - log lines carry sd-daemon priorities when stderr is the journal;
# - the default socket rules (emd/socket_path.h).
# Nothing sets LD_LIBRARY_PATH: installed programs find libemkit by RUNPATH.
# usage: units.sh BUILD_DIR SANDBOX EMD_PATH EMCTL_PATH UNIT_DIR MAN_DIR VERSION
set -u
build=$1 SB=$2 emd_path=$3 emctl_path=$4 unitdir=$5 mandir=$6 version=$7
unset LD_LIBRARY_PATH
SUITE=systemd
. "$(dirname "$0")/lib.sh"
chmod 755 "$tmp" # the unprivileged user runs what is installed in here
root=$tmp/root
EMD=$root$emd_path
EMCTL=$root$emctl_path

# check DESCRIPTION COMMAND...: ok when COMMAND succeeds; its output as comments if not.
check() {
	d=$1; shift
	if "$@" >"$tmp/out" 2>&1; then ok "$d"; else not_ok "$d"; comment "$tmp/out"; fi
}
# has FILE TEXT DESCRIPTION: FILE contains the line fragment TEXT.
has() {
	if grep -qF -- "$2" "$1"; then ok "$3"; else not_ok "$3"; echo "# missing: $2"; comment "$1"; fi
}
# As root (CI), emd runs as nobody, as DynamicUser= would run it.
RUNAS=""
if [ "$(id -u)" -eq 0 ]; then
	RUNAS="setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups"
fi

# ---- the installed units ---------------------------------------------------------
if DESTDIR=$root meson install -C "$build" --no-rebuild --quiet >"$tmp/install.log" 2>&1; then
	ok "meson install into a staging root"
else
	not_ok "meson install into a staging root"; comment "$tmp/install.log"
	echo "Bail out! nothing installed"; exit 1
fi
svc=$root$unitdir/emd.service
sock_unit=$root$unitdir/emd.socket
if [ -f "$svc" ] && [ -f "$sock_unit" ]; then ok "emd.service and emd.socket installed in $unitdir"
else not_ok "emd.service and emd.socket installed in $unitdir"; fi
has "$svc" "ExecStart=$emd_path --default" "ExecStart= names the installed emd ($emd_path)"
has "$svc" "ExecReload=$emd_path --reload \$MAINPID" "ExecReload= waits for the reload (emd --reload)"
if grep -q '^RuntimeDirectory=' "$svc"; then
	not_ok "emd.service has no RuntimeDirectory= (emd.socket owns /run/emd)"
else ok "emd.service has no RuntimeDirectory= (emd.socket owns /run/emd)"; fi
if grep -qE '^(Requires|BindsTo)=' "$svc"; then not_ok "emd.service does not require emd.socket"
else ok "emd.service does not require emd.socket"; fi
has "$svc" "Also=emd.socket" "[Install] Also=emd.socket"

# systemd-analyze --root looks up every unit in the root: give it the system's
# (sysinit.target and the like), and man pages where Documentation= points.
if ! command -v systemd-analyze >/dev/null || ! command -v systemd-socket-activate >/dev/null; then
	echo "Bail out! systemd-analyze and systemd-socket-activate are needed (Debian: systemd;"
	echo "# scripts/install-deps installs it for make check)"
	exit 1
fi
mkdir -p "$root/usr/lib/systemd"
cp -R /usr/lib/systemd/system "$root/usr/lib/systemd/" 2>/dev/null
MANPATH=$root$mandir systemd-analyze verify --root="$root" emd.service emd.socket \
	>"$tmp/verify" 2>&1
st=$?
if [ $st -eq 0 ] && [ ! -s "$tmp/verify" ]; then
	ok "systemd-analyze verify: the installed units, their program and man pages"
else
	not_ok "systemd-analyze verify (exit $st)"; comment "$tmp/verify"
fi

systemd-analyze security --offline=yes --root="$root" --threshold=20 emd.service \
	>"$tmp/security" 2>&1
st=$?
grep -E '✗|Overall' "$tmp/security" | comment
level=$(sed -n 's/.*Overall exposure level for emd.service: \([0-9.]*\).*/\1/p' "$tmp/security")
if [ $st -eq 0 ] && [ -n "$level" ] && awk "BEGIN { exit !($level <= 2.0) }"; then
	ok "systemd-analyze security --offline: exposure $level <= 2.0"
else
	not_ok "systemd-analyze security --offline: exposure '$level' (exit $st), want <= 2.0"
fi

# ---- the installed programs start -------------------------------------------------
readelf -d "$EMD" "$EMCTL" >"$tmp/dyn" 2>&1
if [ "$(grep -c 'RUNPATH.*\$ORIGIN' "$tmp/dyn")" -eq 2 ]; then
	ok "installed emd and emctl carry a RUNPATH relative to \$ORIGIN"
else not_ok "installed emd and emctl carry a RUNPATH relative to \$ORIGIN"; grep -E 'RPATH|RUNPATH' "$tmp/dyn" | comment; fi
$RUNAS "$EMD" --version >"$tmp/out" 2>&1
if [ "$(cat "$tmp/out")" = "emd (emkit) $version" ]; then
	ok "installed emd --version, without LD_LIBRARY_PATH: emd (emkit) $version"
else not_ok "installed emd --version: $(cat "$tmp/out")"; fi

# emd's command line: --kernel-model takes DIR as the next word too; getopt's
# errors come with emd's name.
$RUNAS "$EMD" --kernel-model /nonexistent/energy_model --socket "$tmp/k.sock" >"$tmp/out" 2>&1
st=$?
if [ $st -eq 1 ] && grep -q "^emd: loading the model: /nonexistent/energy_model" "$tmp/out"; then
	ok "emd --kernel-model DIR reads DIR"
else not_ok "emd --kernel-model DIR: exit $st"; comment "$tmp/out"; fi
$RUNAS "$EMD" --socket >"$tmp/out" 2>&1
st=$?
if [ $st -eq 2 ] && [ "$(cat "$tmp/out")" = "emd: option '--socket' needs an argument (emd --help)" ]; then
	ok "emd --socket without its argument: exit 2, said so"
else not_ok "emd --socket without its argument: exit $st"; comment "$tmp/out"; fi
$RUNAS "$EMD" --reload 2 --default >"$tmp/out" 2>&1
st=$?
if [ $st -eq 2 ] && grep -q "^emd: --reload PID takes no other option" "$tmp/out"; then
	ok "emd --reload with other options: exit 2"
else not_ok "emd --reload with other options: exit $st"; comment "$tmp/out"; fi

# ---- socket activation, unprivileged, no XDG_RUNTIME_DIR ----------------------------
# model FILE N: N device domains, readable by the unprivileged user.
. "$(dirname "$0")/../fixtures/model.sh"
model() {
	model_file "$1" "$2"
	chmod 644 "$1"
}
model "$tmp/model.yaml" 2
S=$tmp/emd.sock
"$SB" notify "$tmp/notify" "$tmp/notify.out" &
started $!
i=0; until [ -S "$tmp/notify" ] || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.05; done
# systemd-socket-activate passes emd no environment but PATH, HOME, USER, TERM and -E.
env -u XDG_RUNTIME_DIR -u EMD_SOCKET systemd-socket-activate --seqpacket -l "$S" \
	-E NOTIFY_SOCKET="$tmp/notify" $RUNAS "$EMD" --model "$tmp/model.yaml" --no-watch \
	--socket "$tmp/elsewhere.sock" 2>"$tmp/emd.log" &
emd_pid=$!
started $emd_pid
i=0; until [ -S "$S" ] || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.05; done
# The first connection starts emd (systemd-socket-activate execs it then).
check "emctl dump on the activated socket (emd started on the first connection)" \
	"$EMCTL" dump --socket "$S"
has "$tmp/out" "perf-domain 1: device, flags microwatts" "the activated emd answers with its model"
wait_for "$tmp/notify.out" "READY=1"
has "$tmp/emd.log" "serving 2 performance domains on $S" "emd logs the path of the socket it was handed"
has "$tmp/notify.out" "STATUS=serving 2 performance domains on $S" "STATUS= names that path"
has "$tmp/emd.log" "--socket $tmp/elsewhere.sock: not used" "a --socket that is not used is said so"
if [ -e "$tmp/elsewhere.sock" ]; then not_ok "emd did not bind --socket when handed one"
else ok "emd did not bind --socket when handed one"; fi
if [ -n "$RUNAS" ]; then
	uid=$(awk '/^Uid:/ { print $3 }' "/proc/$emd_pid/status" 2>/dev/null)
	if [ "$uid" = "$(id -u nobody)" ]; then ok "emd runs as nobody"
	else not_ok "emd runs as nobody (uid '$uid')"; fi
else ok "emd runs as $(id -un), not root"; fi
check "emctl finds emd through \$EMD_SOCKET" env EMD_SOCKET="$S" "$EMCTL" dump

# ---- the reload handshake --------------------------------------------------------
model "$tmp/model.yaml" 3
check "emd --reload PID exits 0 once emd has reloaded" $RUNAS "$EMD" --reload "$emd_pid"
# No wait here: --reload returned after the reload, so its effects are visible now.
"$EMCTL" dump --socket "$S" >"$tmp/out" 2>&1
if [ "$(grep -c '^perf-domain [0-9]*: device, flags microwatts$' "$tmp/out")" -eq 3 ]; then
	ok "the new model is served as soon as emd --reload returns"
else not_ok "the new model is served as soon as emd --reload returns"; comment "$tmp/out"; fi
has "$tmp/emd.log" "model reloaded (SIGHUP)" "emd logged the reload before answering"
if sed -n '/RELOADING=1/,$p' "$tmp/notify.out" | grep -q '^READY=1'; then
	ok "RELOADING=1 then READY=1 to the service manager"
else not_ok "RELOADING=1 then READY=1 to the service manager"; comment "$tmp/notify.out"; fi
echo "domains: [" >"$tmp/model.yaml"
$RUNAS "$EMD" --reload "$emd_pid" >"$tmp/out" 2>&1
st=$?
if [ $st -eq 1 ] && grep -q "refused the new model" "$tmp/out"; then
	ok "emd --reload exits 1 when emd refuses a broken model"
else not_ok "emd --reload on a broken model: exit $st"; comment "$tmp/out"; fi
"$EMCTL" dump --socket "$S" >"$tmp/out" 2>&1
if [ "$(grep -c '^perf-domain [0-9]*: device, flags microwatts$' "$tmp/out")" -eq 3 ]; then ok "and emd serves the model it had"
else not_ok "and emd serves the model it had"; comment "$tmp/out"; fi
if [ -n "$RUNAS" ]; then
	"$EMD" --reload "$emd_pid" >"$tmp/out" 2>&1
	st=$?
	if [ $st -eq 1 ] && grep -q "run emd --reload as uid $(id -u nobody)" "$tmp/out"; then
		ok "emd --reload from another uid, which emd could not answer, says so"
	else not_ok "emd --reload from root to nobody's emd: exit $st"; comment "$tmp/out"; fi
else ok "# SKIP emd --reload from another uid: not root"; fi
kill -TERM "$emd_pid"; wait "$emd_pid"; st=$?; reaped "$emd_pid"
if [ $st -eq 0 ]; then ok "emd stops on SIGTERM with status 0"
else not_ok "emd stops on SIGTERM (status $st)"; comment "$tmp/emd.log"; fi
if [ -S "$S" ]; then ok "the handed socket is left to its owner"
else not_ok "the handed socket is left to its owner"; fi

# A socket of the wrong type is refused, not served.
systemd-socket-activate -l "$tmp/stream.sock" $RUNAS "$EMD" 2>"$tmp/stream.log" &
p=$!
started $p
i=0; until [ -S "$tmp/stream.sock" ] || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.05; done
"$SB" stream-connect "$tmp/stream.sock"
wait "$p"; st=$?; reaped "$p"
if [ $st -eq 1 ] && grep -q "not a listening AF_UNIX SOCK_SEQPACKET socket" "$tmp/stream.log"; then
	ok "a SOCK_STREAM socket from the service manager: exit 1 with a reason"
else not_ok "a SOCK_STREAM socket from the service manager: exit $st"; comment "$tmp/stream.log"; fi

# ---- priorities for the journal ------------------------------------------------------
mkdir -m 1777 "$tmp/run"
: >"$tmp/journal"
chmod 666 "$tmp/journal"
js=$(stat -c %d:%i "$tmp/journal")
JOURNAL_STREAM=$js $RUNAS "$EMD" --socket "$tmp/run/j.sock" --model /nonexistent/model.yaml \
	2>>"$tmp/journal"
if grep -q '^<3>loading the model: ' "$tmp/journal"; then
	ok "stderr is the journal: an error line is <3>TEXT"
else not_ok "stderr is the journal: an error line is <3>TEXT"; comment "$tmp/journal"; fi
JOURNAL_STREAM=$js $RUNAS "$EMD" --socket "$tmp/run/j.sock" 2>>"$tmp/journal" &
p=$!
started $p
wait_for "$tmp/journal" "serving"
kill -TERM "$p"; wait "$p"; reaped "$p"
if grep -q "^<6>serving 2 performance domains on $tmp/run/j.sock" "$tmp/journal"; then
	ok "stderr is the journal: an info line is <6>TEXT"
else not_ok "stderr is the journal: an info line is <6>TEXT"; comment "$tmp/journal"; fi
JOURNAL_STREAM=$js $RUNAS "$EMD" --socket "$tmp/run/j.sock" --model /nonexistent/model.yaml \
	2>"$tmp/other"
if grep -q '^emd: loading the model: ' "$tmp/other"; then
	ok "stderr elsewhere (\$JOURNAL_STREAM names another file): emd: TEXT"
else not_ok "stderr elsewhere: emd: TEXT"; comment "$tmp/other"; fi

# ---- default sockets ---------------------------------------------------------------
env -u XDG_RUNTIME_DIR -u EMD_SOCKET $RUNAS "$EMD" >"$tmp/out" 2>&1
st=$?
if [ $st -eq 2 ] && grep -q "no socket path: give --socket PATH, or set EMD_SOCKET" "$tmp/out"; then
	ok "not root, no EMD_SOCKET, no XDG_RUNTIME_DIR: emd says what to give"
else not_ok "emd without a socket path: exit $st"; comment "$tmp/out"; fi
env -u XDG_RUNTIME_DIR EMD_SOCKET="$tmp/run/env.sock" $RUNAS "$EMD" 2>"$tmp/env.log" &
p=$!
started $p
wait_for "$tmp/env.log" "serving"
has "$tmp/env.log" "serving 2 performance domains on $tmp/run/env.sock" "emd binds \$EMD_SOCKET"
check "emctl: \$EMD_SOCKET" env EMD_SOCKET="$tmp/run/env.sock" "$EMCTL" dump
kill -TERM "$p"; wait "$p"; reaped "$p"
mkdir -m 1777 "$tmp/xdg"
env -u EMD_SOCKET XDG_RUNTIME_DIR="$tmp/xdg" $RUNAS "$EMD" 2>"$tmp/xdg.log" &
p=$!
started $p
wait_for "$tmp/xdg.log" "serving"
has "$tmp/xdg.log" "serving 2 performance domains on $tmp/xdg/emd.sock" \
	"not root: emd binds \$XDG_RUNTIME_DIR/emd.sock"
if [ -S /run/emd/emd.sock ]; then
	ok "# SKIP emctl and \$XDG_RUNTIME_DIR: this machine's emd has /run/emd/emd.sock"
else
	check "emctl, no system socket: \$XDG_RUNTIME_DIR/emd.sock" \
		env -u EMD_SOCKET XDG_RUNTIME_DIR="$tmp/xdg" "$EMCTL" dump
fi
kill -TERM "$p"; wait "$p"; reaped "$p"

echo "1..$n"
exit $failed
