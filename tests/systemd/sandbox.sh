#!/bin/sh
# emd under the sandbox of its unit (TAP), for the settings that a wrong guess
# would break at run time:
# - MemoryDenyWriteExecute=yes: emd's hooks (static calls, patched through a
#   second, writable mapping of a memfd) switch on and off and trace requests
#   under the kernel's W^X (PR_SET_MDWE) and under systemd 252's own rule for
#   that setting (a seccomp filter; see sandbox.c). A probe shows each
#   protection in force first, so the test cannot pass for want of one.
# - SystemCallFilter=@system-service ~@privileged @resources: every system call
#   emd makes (socket-activated, hooks, reloads, clients, SIGUSR2, SIGTERM), and
#   those of `emd --reload`, traced with strace, are in the set systemd itself
#   expands those groups to (`systemd-analyze syscall-filter`).
# usage: sandbox.sh BUILD_DIR SANDBOX UNIT_FILE (run with the other tests that
# install, not in parallel with them: meson keeps one install log per build)
set -u
build=$1 SB=$2 unit=$3
EMD=$build/emd/emd
EMCTL=$build/emctl/emctl
SUITE=sandbox
. "$(dirname "$0")/lib.sh"
ROOTOPT=""
[ "$(id -u)" -eq 0 ] && ROOTOPT=--allow-root

# The unit asks for both settings tested here.
for line in "MemoryDenyWriteExecute=yes" "SystemCallFilter=@system-service" \
	"SystemCallFilter=~@privileged @resources"; do
	if grep -qxF "$line" "$unit"; then ok "emd.service: $line"
	else not_ok "emd.service: $line"; fi
done

# ---- W^X ---------------------------------------------------------------------------
if "$SB" wx-probe 2>/dev/null; then
	not_ok "without protection, the probe gets writable+executable memory"
else ok "without protection, the probe gets writable+executable memory"; fi
for mode in mdwe seccomp-mdwe; do
	"$SB" $mode "$SB" wx-probe >"$tmp/probe" 2>&1
	st=$?
	if [ $st -eq 77 ]; then
		ok "# SKIP $mode: $(cat "$tmp/probe")"
		continue
	fi
	if [ $st -eq 0 ]; then ok "$mode: in force after exec (W+X mmap and mprotect(PROT_EXEC) refused)"
	else not_ok "$mode: in force after exec"; comment "$tmp/probe"; continue; fi
	log=$tmp/$mode.log
	"$SB" $mode "$EMD" --default $ROOTOPT --hooks --socket "$tmp/$mode.sock" 2>"$log" &
	p=$!
	started $p
	wait_for "$log" "serving"
	"$EMCTL" get 0 --socket "$tmp/$mode.sock" >/dev/null 2>&1
	kill -USR1 "$p"; wait_for "$log" "tracing and counters off"
	kill -USR1 "$p"; wait_for "$log" "tracing and counters on"
	"$EMCTL" get 1 --socket "$tmp/$mode.sock" >/dev/null 2>&1
	# The code page a hook lives on is mapped from the memfd the patches go through.
	grep -c 'memfd:emkit-static-call' "/proc/$p/maps" >"$tmp/maps" 2>/dev/null
	kill -TERM "$p"; wait "$p"; st=$?; reaped "$p"
	traces=$(grep -c 'emd: trace: ' "$log")
	if [ $st -eq 0 ] && [ "$traces" -ge 4 ] && [ "$(cat "$tmp/maps")" -ge 1 ] &&
		grep -q "tracing and counters on" "$log" && ! grep -q "failed" "$log"; then
		ok "$mode: emd's hooks are patched on, off and on again, and trace requests"
	else
		not_ok "$mode: emd's hooks (exit $st, $traces traces, $(cat "$tmp/maps") memfd maps)"
		comment "$log"
	fi
done

# ---- system calls --------------------------------------------------------------------
if ! command -v strace >/dev/null || ! strace -o /dev/null true 2>/dev/null; then
	ok "# SKIP system calls: no strace, or ptrace is not permitted here"
	echo "1..$n"
	exit $failed
fi
cat >"$tmp/model.yaml" <<'EOF'
domains:
  - {name: d0, flags: [microwatts], states: [{frequency: 1000, power: 10}]}
EOF
S=$tmp/emd.sock
RUNAS=""
if [ "$(id -u)" -eq 0 ]; then
	RUNAS="setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups"
	chmod 755 "$tmp"; chmod 644 "$tmp/model.yaml"
fi
# The installed emd (nobody may not reach into the build directory, and the
# installed one is what the unit runs).
if ! DESTDIR=$tmp/root meson install -C "$build" --no-rebuild --quiet >"$tmp/install.log" 2>&1; then
	comment "$tmp/install.log"
	echo "Bail out! meson install into a staging root"
	exit 1
fi
EMD=$(find "$tmp/root" -path '*/sbin/emd' | head -n 1)
# As the unit runs it: activated, not root, no XDG_RUNTIME_DIR; the model watched.
strace -f -qq -o "$tmp/trace" systemd-socket-activate --seqpacket -l "$S" \
	$RUNAS "$EMD" --model "$tmp/model.yaml" --hooks 2>"$tmp/emd.log" &
p=$!
started $p
i=0; until [ -S "$S" ] || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.05; done
"$EMCTL" dump --socket "$S" >/dev/null 2>&1
wait_for "$tmp/emd.log" "serving"
"$EMCTL" table 0 --json --socket "$S" >/dev/null 2>&1
emd_pid=$(cat /proc/"$p"/task/*/children 2>/dev/null | tr -d ' ') # strace's child is emd
strace -f -qq -o "$tmp/trace.reload" $RUNAS "$EMD" --reload "$emd_pid" >/dev/null 2>&1
printf 'domains:\n  - {name: d0, flags: [microwatts], states: [{frequency: 1000, power: 11}]}\n' \
	>"$tmp/model.new" && mv "$tmp/model.new" "$tmp/model.yaml"
wait_for "$tmp/emd.log" "the model file changed"
kill -USR1 "$emd_pid"; wait_for "$tmp/emd.log" "tracing and counters off"
kill -USR2 "$emd_pid"; wait_for "$tmp/emd.log" "counters (off)"
kill -TERM "$emd_pid"; wait "$p"; reaped "$p"
# The calls made after emd's own execve, in emd and in emd --reload.
used() {
	awk -v emd="$EMD" '
		!on && index($0, "execve(\"" emd "\"") && / = 0$/ { on = 1 }
		on {
			sub(/^[0-9]+ +/, "")
			if ($0 ~ /^<\.\.\. /) { sub(/^<\.\.\. /, "") }
			if (match($0, /^[a-z0-9_]+/)) print substr($0, RSTART, RLENGTH)
		}' "$1"
}
{ used "$tmp/trace"; used "$tmp/trace.reload"; } | sort -u >"$tmp/used"
systemd-analyze syscall-filter >"$tmp/groups" 2>/dev/null
# expand GROUP...: the system calls systemd puts in these groups, nested groups included.
expand() {
	awk -v want="$*" '
		/^@/ { g = $1; next }
		/^ +#/ || NF == 0 { next }
		{ m[g] = m[g] " " $1 }
		END {
			n = split(want, todo, " ")
			while (n > 0) {
				x = todo[n--]
				if (x in seen) continue
				seen[x] = 1
				k = split(m[x], items, " ")
				for (i = 1; i <= k; i++)
					if (items[i] ~ /^@/) todo[++n] = items[i]; else print items[i]
			}
		}' "$tmp/groups" | sort -u
}
expand @system-service >"$tmp/allow"
expand @privileged @resources >"$tmp/deny"
comm -23 "$tmp/allow" "$tmp/deny" >"$tmp/allowed"
comm -23 "$tmp/used" "$tmp/allowed" >"$tmp/outside"
echo "# emd and emd --reload made $(wc -l <"$tmp/used") distinct system calls:" \
	"$(tr '\n' ' ' <"$tmp/used")"
if [ "$(wc -l <"$tmp/used")" -ge 20 ] && grep -qx accept4 "$tmp/used" &&
	grep -qx rt_sigqueueinfo "$tmp/used" && [ ! -s "$tmp/outside" ]; then
	ok "every system call of emd and emd --reload is in @system-service ~@privileged @resources"
else
	not_ok "system calls outside @system-service ~@privileged @resources: $(tr '\n' ' ' <"$tmp/outside")"
	comment "$tmp/emd.log"
fi
echo "1..$n"
exit $failed
