"""A pyroute2 client of dev-energymodel, written as a pyroute2 user writes one
for a kernel family: message classes from the family's YNL spec numbers, a
GenericNetlinkSocket that resolves the family by name, dumps, do requests,
and a multicast group joined with add_membership(). Run (by pyroute2_test.py)
under `emctl exec`, unmodified: it prints what it decoded, one JSON object a
line, and waits on stdin for the driver to reload emd's model.
"""
import json
import sys

from pyroute2.netlink import NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, genlmsg, nla
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.generic import GenericNetlinkSocket

CMD_GET_PERF_DOMAINS = 1
CMD_GET_PERF_TABLE = 2


class perf_domain(genlmsg):
    """Attribute set perf-domain."""

    nla_map = (
        ("EM_A_UNSPEC", "none"),
        ("pad", "none"),
        ("perf-domain-id", "uint32"),
        ("flags", "uint64"),
        ("cpus", "uint64"),
    )


class perf_table(genlmsg):
    """Attribute set perf-table, with its perf-state nests."""

    nla_map = (
        ("EM_A_UNSPEC", "none"),
        ("perf-domain-id", "uint32"),
        ("perf-state", "perf_state"),
    )

    class perf_state(nla):
        nla_flags = 0
        nla_map = (
            ("EM_A_UNSPEC", "none"),
            ("pad", "none"),
            ("performance", "uint64"),
            ("frequency", "uint64"),
            ("power", "uint64"),
            ("cost", "uint64"),
            ("flags", "uint64"),
        )


def out(**kw):
    print(json.dumps(kw), flush=True)


def domain(m):
    return {
        "cmd": m["cmd"],
        "perf-domain-id": m.get_attr("perf-domain-id"),
        "flags": m.get_attr("flags"),
        "cpus": m.get_attrs("cpus"),
    }


def table(m):
    states = []
    for s in m.get_attrs("perf-state"):
        states.append({k: s.get_attr(k) for k in
                       ("performance", "frequency", "power", "cost", "flags")})
    return {"cmd": m["cmd"], "perf-domain-id": m.get_attr("perf-domain-id"),
            "perf-state": states}


def request(sock, cls, cmd, flags, **attrs):
    sock.marshal.msg_map[sock.prid] = cls
    msg = cls()
    msg["cmd"] = cmd
    msg["version"] = 1
    for k, v in attrs.items():
        msg["attrs"].append([k, v])
    return sock.nlm_request(msg, msg_type=sock.prid, msg_flags=flags)


def main():
    sock = GenericNetlinkSocket()
    sock.bind("dev-energymodel", perf_domain)
    out(family=sock.prid, groups=sock.mcast_groups)

    dump = [domain(m) for m in
            request(sock, perf_domain, CMD_GET_PERF_DOMAINS, NLM_F_REQUEST | NLM_F_DUMP)]
    out(dump=dump)
    tables = {}
    for d in dump:
        pid = d["perf-domain-id"]
        (one,) = request(sock, perf_domain, CMD_GET_PERF_DOMAINS, NLM_F_REQUEST,
                         **{"perf-domain-id": pid})
        if domain(one) != d:
            out(error="get-perf-domains %d differs from the dump: %r" % (pid, domain(one)))
        (t,) = request(sock, perf_table, CMD_GET_PERF_TABLE, NLM_F_REQUEST | NLM_F_ACK,
                       **{"perf-domain-id": pid})
        tables[pid] = table(t)
    out(tables=tables)

    # An id that is not there: the error emd answers, as a NetlinkError.
    try:
        request(sock, perf_table, CMD_GET_PERF_TABLE, NLM_F_REQUEST | NLM_F_ACK,
                **{"perf-domain-id": 4242})
        out(unknown_id=0)
    except NetlinkError as e:
        out(unknown_id=e.code)

    # Join 'event', let the driver reload the model, take the notification.
    sock.add_membership("event")
    sock.marshal.msg_map[sock.prid] = perf_table
    out(joined=True)
    if sys.stdin.readline().strip() != "done":
        out(error="the driver did not reload")
        return 1
    sock.settimeout(30)  # a hang guard: Python then waits in poll()
    events = []
    while not events:
        events = [table(m) for m in sock.get() if m["header"]["type"] == sock.prid]
    out(event=events[0])
    sock.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OSError as e:
        out(error="%s: %s" % (type(e).__name__, e))
        sys.exit(1)
    except Exception as e:  # any failure is the test's to report
        out(error="%s: %s" % (type(e).__name__, e))
        sys.exit(1)
