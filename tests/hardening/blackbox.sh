#!/bin/sh
# Black-box abuse of the real emd (TAP): thousands of generated and mutated
# requests for dev-energymodel and nlctrl over its socket (hbclient fuzz:
# every reply well-formed, emd answers a sentinel after each one), the
# syzkaller case and a missing id answered exactly, a dump afterwards; with
# large and with one-message dump packets. emd must exit cleanly on SIGTERM
# with no sanitizer report.
# Usage: blackbox.sh EMD HBCLIENT [REQUESTS]
EMD=$1 HB=$2 N=${3:-3000}
. "$(dirname "$0")/lib.sh"
echo "1..4"

if start_emd "$s" "$tmp/emd1.log" --default; then
    check "$N generated requests, default packets: replies well-formed, emd still answers" \
        "$HB" fuzz "$s" "$N" 1
    check "emd exits cleanly, no sanitizer report" stop_emd "$tmp/emd1.log"
else
    not_ok "emd starts (default model)"; not_ok "emd exits cleanly"
fi

if start_emd "$s" "$tmp/emd2.log" --default --dump-packet-size 1; then
    check "$N generated requests, one message per dump packet" "$HB" fuzz "$s" "$N" 2
    check "emd exits cleanly, no sanitizer report" stop_emd "$tmp/emd2.log"
else
    not_ok "emd starts (one message per packet)"; not_ok "emd exits cleanly"
fi
exit $failed
