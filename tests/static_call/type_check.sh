#!/bin/sh
# static_call_update() is type-checked at compile time. Compile small programs with
# the build's own compiler and report TAP: the right types compile, the wrong ones
# fail with our message.
# Usage: type_check.sh INCLUDE_DIR CC [CC-ARGS...]
inc=$1; shift
compiler="$*"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0; failed=0

# case NAME EXPECT(ok|fail) BODY
case_() {
    name=$1 expect=$2 body=$3
    n=$((n + 1))
    cat >"$tmp/t.c" <<EOC
#include "emkit/static_call.h"
static int ref(int x) { return x; }
static int same(int x) { return x + 1; }
static long wider(int x) { return x; }
static int two_args(int x, int y) { return x + y; }
static void nothing(int x) { (void)x; }
DEFINE_STATIC_CALL(sc, ref);
DEFINE_STATIC_CALL_NULL(scn, nothing);
int use(void);
int use(void) { (void)same; (void)wider; (void)two_args; $body; return 0; }
EOC
    # shellcheck disable=SC2086
    if $compiler -std=gnu11 -D_GNU_SOURCE -I"$inc" -c "$tmp/t.c" -o "$tmp/t.o" 2>"$tmp/err"; then
        got=ok
    else
        got=fail
    fi
    if [ "$got" = "$expect" ] && { [ "$expect" = ok ] ||
            grep -q 'type is not the static call' "$tmp/err"; }; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name (expected $expect, got $got)"
        sed 's/^/# /' "$tmp/err"
        failed=$((failed + 1))
    fi
}

echo "1..6"
case_ "same prototype compiles" ok "static_call_update(sc, same)"
case_ "typed RET0 stub compiles" ok "static_call_update(sc, STATIC_CALL_STUB_RET0(sc))"
case_ "NULL compiles (checked at run time)" ok "static_call_update(scn, NULL)"
case_ "different return type rejected" fail "static_call_update(sc, wider)"
case_ "different parameters rejected" fail "static_call_update(sc, two_args)"
case_ "untyped shared RET0 stub rejected" fail "static_call_update(sc, static_call_return0_untyped)"
[ $failed -eq 0 ]
