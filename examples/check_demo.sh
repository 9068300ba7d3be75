#!/bin/sh
# Run the static-call demo (the command line given) and check what it prints (TAP).
out=$("$@") || { echo "1..1"; echo "not ok 1 - demo exited non-zero"; exit 1; }
n=0; failed=0
expect() {
    n=$((n + 1))
    if printf '%s\n' "$out" | grep -q -- "$2"; then echo "ok $n - $1"
    else echo "not ok $n - $1"; failed=1; fi
}
echo "1..6"
expect "RET0 before registration" "before registration: *state=0 ip=0$"
expect "callbacks after registration" "kvm registered: *state=1 ip=0xffffffff81000000"
expect "RET0 after unregistration" "kvm unregistered (RET0): *state=0 ip=0$"
expect "preempt=none takes every reschedule point" "preempt=none .*voluntary_cond_resched .*taken: 1024$"
expect "preempt=voluntary takes every reschedule point" "preempt=voluntary .*voluntary_cond_resched .*taken: 1024$"
expect "preempt=full makes cond_resched RET0" "preempt=full .*RET0 stub .*taken: 0$"
[ $failed -eq 0 ]
