#!/bin/sh
# What emkit/static_call.h accepts and refuses at compile time, with the build's own
# compiler, as C or C++ (TAP): static_call_update() takes a target of the call's type,
# NULL or __static_call_return0, and nothing cast to (void *) or another type; the
# return-0 definitions refuse return types a stub cannot return 0 in. Each refusal
# must carry the header's message.
# Usage: type_check.sh c|c++ INCLUDE_DIR CC [CC-ARGS...]
lang=$1 inc=$2; shift 2
compiler="$*"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0; failed=0
TYPE='type is not the static call'
RET0='a return-0 static call needs'
if [ "$lang" = c++ ]; then
    std="-x c++ -std=c++17"
else
    std="-std=gnu11"
fi

# case_ NAME EXPECT(ok|MESSAGE) FILE-SCOPE BODY
case_() {
    name=$1 expect=$2 scope=$3 body=$4
    n=$((n + 1))
    cat >"$tmp/t.c" <<EOC
#include <stddef.h>
#include "emkit/static_call.h"
static int ref(int x) { return x; }
static int same(int x) { return x + 1; }
static long wider(int x) { return x; }
static int two_args(int x, int y) { return x + y; }
static void nothing(int x) { (void)x; }
static double dbl(int x) { return x; }
DEFINE_STATIC_CALL(sc, ref);
DEFINE_STATIC_CALL_NULL(scn, nothing);
DEFINE_STATIC_CALL(scd, dbl);
$scope
int use(void);
int use(void)
{
	int (*fp)(int) = same;
	void *vp = __extension__ (void *)same;
	(void)fp; (void)vp; (void)wider; (void)two_args;
	$body;
	return 0;
}
EOC
    # shellcheck disable=SC2086
    if $compiler $std -D_GNU_SOURCE -I"$inc" -c "$tmp/t.c" -o "$tmp/t.o" 2>"$tmp/err"; then
        got=ok
    else
        got=fail
    fi
    if [ "$expect" = ok ] && [ "$got" = ok ]; then
        echo "ok $n - $name"
    elif [ "$expect" != ok ] && [ "$got" = fail ] && grep -q "$expect" "$tmp/err"; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name (expected ${expect}, got $got)"
        sed 's/^/# /' "$tmp/err" | head -n 30
        failed=$((failed + 1))
    fi
}

FUNCS='
static char f_char(int x) { return (char)x; }
static _Bool f_bool(int x) { return x != 0; }
enum colour { RED, GREEN };
static enum colour f_enum(int x) { return x ? GREEN : RED; }
static long f_long(int x) { return x; }
static size_t f_size(int x) { return (size_t)x; }
static const char *f_ptr(int x) { return x ? "a" : 0; }
static void f_void(int x) { (void)x; }
static float f_float(int x) { return (float)x; }
static long double f_ldouble(int x) { return x; }
__extension__ static __int128 f_i128(int x) { return x; }
struct pair { long a, b; };
static struct pair f_pair(int x) { struct pair p; p.a = x; p.b = x; return p; }
'
[ "$lang" = c++ ] && FUNCS=$(printf '%s' "$FUNCS" | sed 's/_Bool/bool/')

case_ "same prototype" ok "" "static_call_update(sc, same)"
case_ "a pointer of the prototype's type" ok "" "static_call_update(sc, fp)"
case_ "typed RET0 stub" ok "" "static_call_update(sc, STATIC_CALL_STUB_RET0(sc))"
case_ "NULL, for any static call" ok "" "static_call_update(sc, NULL); static_call_update(scn, NULL)"
case_ "__static_call_return0" ok "" "static_call_update(sc, __static_call_return0)"
case_ "different return type" "$TYPE" "" "static_call_update(sc, wider)"
case_ "different parameters" "$TYPE" "" "static_call_update(sc, two_args)"
case_ "the untyped shared RET0 stub" "$TYPE" "" "static_call_update(sc, static_call_return0_untyped)"
case_ "a matching function cast to (void *)" "$TYPE" "" "static_call_update(sc, (void *)same)"
case_ "a void * variable" "$TYPE" "" "static_call_update(sc, vp)"
case_ "the untyped stub cast to (void *)" "$TYPE" "" \
    "static_call_update(sc, (void *)static_call_return0_untyped)"
case_ "__static_call_return0 for a double" "$RET0" "" "static_call_update(scd, __static_call_return0)"
case_ "STATIC_CALL_STUB_RET0 of a double" "$RET0" "" "(void)STATIC_CALL_STUB_RET0(scd)"
case_ "RET0 for void, integers, enums, pointers" ok "$FUNCS
DEFINE_STATIC_CALL_RET0(r_char, f_char);
DEFINE_STATIC_CALL_RET0(r_bool, f_bool);
DEFINE_STATIC_CALL_RET0(r_enum, f_enum);
DEFINE_STATIC_CALL_RET0(r_long, f_long);
DEFINE_STATIC_CALL_RET0(r_size, f_size);
DEFINE_STATIC_CALL_RET0(r_ptr, f_ptr);
DEFINE_STATIC_CALL_RET0(r_void, f_void);" "(void)f_float; (void)f_ldouble; (void)f_i128; (void)f_pair"
for t in double float ldouble i128; do
    f=f_$t; [ $t = double ] && f=dbl
    case_ "RET0 refused for $t" "$RET0" "$FUNCS
DEFINE_STATIC_CALL_RET0(r_bad, $f);" "(void)f_char; (void)f_bool; (void)f_enum; (void)f_long; (void)f_size; (void)f_ptr; (void)f_void; (void)f_float; (void)f_ldouble; (void)f_i128; (void)f_pair"
done
case_ "DEFINE_STATIC_CALL_STUB_RET0 refused for double" "$RET0" \
    "DEFINE_STATIC_CALL_STUB_RET0(scd, dbl);" ""
case_ "the kernel's export macros and static_call_mod" ok \
    "EXPORT_STATIC_CALL(sc); EXPORT_STATIC_CALL_GPL(sc); EXPORT_STATIC_CALL_TRAMP(scn); EXPORT_STATIC_CALL_TRAMP_GPL(scd);" \
    "(void)static_call_mod(sc)(1); static_call_cond(scn)(1)"
if [ "$lang" = c++ ]; then
    case_ "RET0 refused for a struct (C++ sees every return type)" "$RET0" "$FUNCS
DEFINE_STATIC_CALL_RET0(r_bad, f_pair);" "(void)f_char; (void)f_bool; (void)f_enum; (void)f_long; (void)f_size; (void)f_ptr; (void)f_void; (void)f_float; (void)f_ldouble; (void)f_i128"
    case_ "nullptr" ok "" "static_call_update(sc, nullptr)"
    case_ "an overloaded function resolves to the prototype" ok \
        "static int ov(int x) { return x; } static int ov(int x, int y) { return x + y; }" \
        "static_call_update(sc, ov); (void)ov(1, 2)"
else
    std="-std=c11 -pedantic-errors"
    case_ "the header is ISO C11 with GNU keywords (-pedantic-errors)" ok "" \
        "static_call_update(sc, same); (void)static_call_query(sc); (void)static_call(sc)(1)"
fi
echo "1..$n"
[ $failed -eq 0 ]
