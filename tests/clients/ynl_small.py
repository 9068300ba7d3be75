"""A reader in the shape of the kernel's YNL Python library with a small
receive size (tools/net/ynl/pyynl/lib/ynl.py, YnlFamily(recv_size=4096)),
through the preload library against the real emd (TAP).

YNL resolves families with an nlctrl GETFAMILY dump on a socket of its own
(NLM_F_ACK, NETLINK_CAP_ACK), then talks to the family on a socket with
NETLINK_CAP_ACK, NETLINK_EXT_ACK and NETLINK_GET_STRICT_CHK, reading every
reply with recv(recv_size): a datagram larger than that would be cut, and
YNL's parser would fail on the cut message. The kernel sizes dump packets
so that this never happens (net/netlink/af_netlink.c netlink_dump(): the
first within NLMSG_GOODSIZE, the next within what the reader's receives
have shown), and so must emd.

Run as: ynl_small.py child RECV_SIZE (under `emctl exec`): prints one JSON
line: the family id, the datagrams' sizes, and the domains read. Run as
ynl_small.py EMD EMCTL: starts emd on a model of 1,002 domains, runs the
child with recv sizes 4096 and 8192, and checks every datagram was whole,
within the receive size, and every domain came once, as emd serves it.
"""
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile

SOL_NETLINK = 270
NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK = 10, 11, 12
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_DUMP = 1, 2, 4, 0x300
NLMSG_ERROR, NLMSG_DONE, GENL_ID_CTRL = 2, 3, 0x10
CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 3, 1, 2


def genl_msg(family, flags, seq, cmd):
    body = struct.pack("BBH", cmd, 1, 0)
    return struct.pack("IHHII", 16 + len(body), family, flags, seq, 0) + body


def messages(data):
    """The whole messages of a datagram; raises on a cut one (as YNL's
    NlMsg would fail to unpack it)."""
    off = 0
    while off < len(data):
        if len(data) - off < 16:
            raise ValueError("%d bytes after the last message" % (len(data) - off))
        length, typ, flags, seq, pid = struct.unpack_from("IHHII", data, off)
        if length < 16 or off + length > len(data):
            raise ValueError("a message of %d bytes cut at %d" % (length, len(data) - off))
        yield typ, flags, data[off:off + length]
        off += (length + 3) & ~3


def attrs(raw, start):
    off = start
    while off + 4 <= len(raw):
        length, typ = struct.unpack_from("HH", raw, off)
        if length < 4:
            break
        yield typ & 0x3fff, raw[off + 4:off + length]
        off += (length + 3) & ~3


def child(recv_size):
    # The family, as YNL's _genl_load_families() finds it.
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16) as s:
        s.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        s.send(genl_msg(GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP, 1,
                        CTRL_CMD_GETFAMILY))
        family, done = None, False
        while not done:
            for typ, flags, m in messages(s.recv(128 * 1024)):
                if typ in (NLMSG_DONE, NLMSG_ERROR):
                    done = True
                    break
                a = dict(attrs(m, 20))
                if a.get(CTRL_ATTR_FAMILY_NAME, b"").rstrip(b"\0") == b"dev-energymodel":
                    family = struct.unpack("H", a[CTRL_ATTR_FAMILY_ID][:2])[0]
    # The dump, as YnlFamily._op() with dump=True reads it.
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
    for opt in (NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK):
        s.setsockopt(SOL_NETLINK, opt, 1)
    s.send(genl_msg(family, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP, 2, 1))
    sizes, domains, done, cut = [], [], False, 0
    while not done:
        data, _, flags, _ = s.recvmsg(recv_size)
        sizes.append(len(data))
        cut += bool(flags & socket.MSG_TRUNC)
        for typ, mflags, m in messages(data):
            if typ == NLMSG_ERROR and struct.unpack_from("i", m, 16)[0] != 0:
                raise SystemExit("error %d" % struct.unpack_from("i", m, 16)[0])
            if typ in (NLMSG_DONE, NLMSG_ERROR):
                done = True
                break
            a = {}
            for t, v in attrs(m, 20):
                a.setdefault(t, []).append(v)
            domains.append([struct.unpack("I", a[2][0])[0], struct.unpack("Q", a[3][0])[0],
                            [struct.unpack("Q", c)[0] for c in a.get(4, [])]])
    print(json.dumps({"family": family, "sizes": sizes, "cut": cut, "domains": domains}))


def main(emd, emctl):
    n = 0
    fails = 0

    def check(ok, what):
        nonlocal n, fails
        n += 1
        fails += not ok
        print("%s %d - %s" % ("ok" if ok else "not ok", n, what))

    print("1..6")
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "model.yaml")
        with open(model, "w") as f:
            f.write("domains:\n")
            for i in range(1000):
                f.write("  - {name: dev%d, flags: [microwatts], states: "
                        "[{frequency: 100000, power: %d}]}\n" % (i, 1000 + i))
            f.write("  - {name: little, cpus: [0, 1, 2, 3], capacity: 512, flags: [microwatts], "
                    "states: [{frequency: 500000, power: 100000}]}\n")
            f.write("  - {name: big, cpus: [4, 5, 6, 7, 8, 9, 10, 11], capacity: 1024, flags: [microwatts], "
                    "states: [{frequency: 900000, power: 400000}]}\n")
        sock = os.path.join(tmp, "emd.sock")
        args = [emd, "--socket", sock, "--model", model, "--no-watch"]
        if os.getuid() == 0:
            args.append("--allow-root")
        proc = subprocess.Popen(args, stderr=subprocess.DEVNULL)
        try:
            for _ in range(600):
                if subprocess.run([emctl, "dump", "--socket", sock], capture_output=True,
                                  check=False).returncode == 0:
                    break
                if proc.poll() is not None:
                    print("Bail out! emd did not start")
                    return 1
                subprocess.run(["sleep", "0.05"], check=False)
            want = json.loads(subprocess.run([emctl, "dump", "--json", "--socket", sock],
                                             capture_output=True, check=True).stdout)
            bits = {"perf-domain-microwatts": 1, "perf-domain-skip-inefficiencies": 2,
                    "perf-domain-artificial": 4}
            want = sorted([d["perf-domain-id"], sum(bits[x] for x in d.get("flags", [])),
                           d.get("cpus", [])] for d in want)
            for size in (4096, 8192):
                r = subprocess.run([emctl, "exec", "--socket", sock, "--", "/usr/bin/python3",
                                    os.path.abspath(__file__), "child", str(size)],
                                   capture_output=True, text=True, check=False)
                try:
                    got = json.loads(r.stdout)
                except ValueError:
                    got = {"sizes": [], "cut": -1, "domains": []}
                    print("# exit %d: %s" % (r.returncode, r.stderr.strip()[-300:]))
                check(r.returncode == 0 and not got["cut"] and got["sizes"] and
                      max(got["sizes"]) <= size,
                      "recv(%d): %d datagrams, none cut, the largest %d bytes"
                      % (size, len(got["sizes"]), max(got["sizes"] or [0])))
                # The first packet of a fresh socket: NLMSG_GOODSIZE (3776).
                check(got["sizes"] and got["sizes"][0] <= 3776,
                      "recv(%d): the first packet %d bytes, within NLMSG_GOODSIZE"
                      % (size, (got["sizes"] or [0])[0]))
                ids = [d[0] for d in got["domains"]]
                check(sorted(got["domains"]) == want and len(set(ids)) == len(ids),
                      "recv(%d): %d domains, each once, as emd serves them"
                      % (size, len(ids)))
        finally:
            proc.terminate()
            proc.wait()
    return 1 if fails else 0


if __name__ == "__main__":
    if sys.argv[1] == "child":
        child(int(sys.argv[2]))
    else:
        sys.exit(main(sys.argv[1], sys.argv[2]))
