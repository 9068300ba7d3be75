"""pyroute2 (Debian's python3-pyroute2, unmodified) through the preload library
against the real emd (TAP).

Starts emd on a model file written here, runs pyroute2_client.py under
`emctl exec`, and checks what pyroute2 decoded against what emd serves, read
directly from emd with `emctl dump --json` and `emctl table ID --json`: the
family resolved by name, the get-perf-domains dump, get-perf-domains and
get-perf-table for each id, the errno of an unknown id (emd's own answer, read
on a connection of our own), and the perf-domain-updated notification after a
reload (a new model file and SIGHUP; emd says READY=1 through sd_notify).

usage: pyroute2_test.py EMD EMCTL SPEC_DIR
"""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile

import yaml

EMD, EMCTL, SPECS = sys.argv[1:4]
HERE = os.path.dirname(os.path.abspath(__file__))

MODEL = """\
domains:
  - name: little
    cpus: [0, 1, 2, 3]
    capacity: 446
    flags: [microwatts]
    states:
      - {{ frequency: 408000, power: 27769 }}
      - {{ frequency: 816000, power: 58956 }}
      - {{ frequency: 1416000, power: 179212 }}
  - name: big
    cpus: [4, 5]
    capacity: 1024
    flags: [microwatts, skip-inefficiencies]
    states:
      - {{ frequency: 408000, power: 121075 }}
      - {{ frequency: 600000, power: 178051 }}
      - {{ frequency: 1800000, power: {big_top} }}
  - name: gpu
    flags: [microwatts]
    states:
      - {{ frequency: 200000, power: 300000 }}
      - {{ frequency: 400000, power: 700000 }}
  - name: art
    cpus: [6]
    capacity: 512
    flags: [artificial]
    states:
      - {{ frequency: 1000000, power: 1, cost: 90 }}
      - {{ frequency: 2000000, power: 2, cost: 80 }}
"""

n = 0
failed = 0


def ok(cond, what, detail=None):
    global n, failed
    n += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, what), flush=True)
    if not cond:
        failed += 1
        for line in str(detail).splitlines():
            print("# " + line)


def flag_bits(spec):
    """Flag name -> bit, from the family's spec (the wire's numbers)."""
    bits = {}
    for d in spec["definitions"]:
        if d.get("type") == "flags":
            for i, e in enumerate(d["entries"]):
                bits[e["name"]] = 1 << i
    return bits


def emctl_json(*args):
    return json.loads(subprocess.check_output([EMCTL, *args, "--json", "--socket", SOCK]))


def served(bits):
    """What emd serves, in the numbers pyroute2 decodes."""
    dump = []
    tables = {}
    for d in emctl_json("dump"):
        flags = sum(bits[f] for f in d.get("flags", []))
        dump.append({"cmd": 1, "perf-domain-id": d["perf-domain-id"], "flags": flags,
                     "cpus": d.get("cpus", [])})
        tables[str(d["perf-domain-id"])] = table_of(emctl_json("table", str(d["perf-domain-id"])),
                                                     bits, 2)
    return dump, tables


def table_of(t, bits, cmd):
    states = [{"performance": s["performance"], "frequency": s["frequency"],
               "power": s["power"], "cost": s["cost"],
               "flags": sum(bits[f] for f in s.get("flags", []))} for s in t["perf-state"]]
    return {"cmd": cmd, "perf-domain-id": t["perf-domain-id"], "perf-state": states}


def emd_errno(family_id, cmd, pid):
    """emd's own errno for one request, on a connection of our own."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(SOCK)
    attr = struct.pack("HHI", 8, 1, pid)
    msg = struct.pack("IHHII", 16 + 4 + len(attr), family_id, 1, 7, 0)
    s.send(msg + struct.pack("BBH", cmd, 1, 0) + attr)
    data = s.recv(65536)
    s.close()
    (error,) = struct.unpack_from("i", data, 16)
    return -error


def emd_family_id():
    name = b"dev-energymodel\0"
    attr = struct.pack("HH", 4 + len(name), 2) + name
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(SOCK)
    s.send(struct.pack("IHHII", 20 + len(attr), 0x10, 1, 1, 0) + struct.pack("BBH", 3, 1, 0) + attr)
    data = s.recv(65536)
    s.close()
    off = 20
    while off + 4 <= len(data):
        alen, atype = struct.unpack_from("HH", data, off)
        if atype == 1:
            return struct.unpack_from("H", data, off + 4)[0]
        off += (alen + 3) & ~3
    raise RuntimeError("emd did not describe its family")


def main():
    global SOCK
    tmp = tempfile.mkdtemp(prefix="emkit-pyroute2.")
    SOCK = os.path.join(tmp, "emd.sock")
    model = os.path.join(tmp, "model.yaml")

    def write_model(big_top):
        with open(model + ".new", "w") as f:
            f.write(MODEL.format(big_top=big_top))
        os.rename(model + ".new", model)

    write_model(1130112)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(os.path.join(tmp, "notify"))
    notify.settimeout(60)
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    env["NOTIFY_SOCKET"] = os.path.join(tmp, "notify")
    args = [EMD, "--socket", SOCK, "--model", model, "--no-watch"]
    if os.geteuid() == 0:
        args.append("--allow-root")
    emd = subprocess.Popen(args, env=env, stderr=open(os.path.join(tmp, "emd.log"), "w"))

    def wait_notify(what):
        while True:
            msg = notify.recv(4096).decode()
            if msg.startswith(what):
                return

    client = None
    try:
        wait_notify("READY=1")
        with open(os.path.join(SPECS, "dev-energymodel.yaml")) as f:
            bits = flag_bits(yaml.safe_load(f))
        print("1..8", flush=True)
        want_dump, want_tables = served(bits)
        client = subprocess.Popen(
            [EMCTL, "exec", "--socket", SOCK, "--", "/usr/bin/python3",
             os.path.join(HERE, "pyroute2_client.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        got = {}
        for line in client.stdout:
            msg = json.loads(line)
            got.update(msg)
            if "error" in msg:
                break
            if "joined" in msg:
                write_model(1230112)
                emd.send_signal(signal.SIGHUP)
                wait_notify("RELOADING=1")
                wait_notify("READY=1")
                client.stdin.write("done\n")
                client.stdin.flush()
        status = client.wait(timeout=120)
        if "error" in got:
            print("# client: " + got["error"])

        fam = got.get("family")
        ok(fam is not None and got.get("groups", {}).get("event"),
           "the family resolved by name (id %s), with its group 'event'" % fam, got)
        ok(got.get("dump") == want_dump, "the get-perf-domains dump = emctl dump",
           "pyroute2: %s\nemd:      %s" % (got.get("dump"), want_dump))
        ok(got.get("tables") == want_tables and len(want_tables) == 4,
           "get-perf-table for each of the %d ids = emctl table" % len(want_tables),
           "pyroute2: %s\nemd:      %s" % (got.get("tables"), want_tables))
        want_errno = emd_errno(emd_family_id(), 2, 4242)
        ok(got.get("unknown_id") == want_errno,
           "an unknown id: NetlinkError %s, emd's errno" % got.get("unknown_id"),
           "want %d" % want_errno)
        ok(got.get("joined") is True, "add_membership('event')", got)
        ev = got.get("event")
        want_event = table_of(emctl_json("table", "1"), bits, 4)
        ok(ev is not None and ev.get("cmd") == 4, "perf-domain-updated after the reload", ev)
        ok(ev == want_event, "its table = emctl table 1 after the reload",
           "pyroute2: %s\nemd:      %s" % (ev, want_event))
        ok(status == 0 and "error" not in got, "the client exits 0", status)
    finally:
        if client and client.poll() is None:
            client.kill()
        emd.terminate()
        emd.wait()
        for f in ("model.yaml", "notify", "emd.log"):
            try:
                os.unlink(os.path.join(tmp, f))
            except OSError:
                pass
        os.rmdir(tmp)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
