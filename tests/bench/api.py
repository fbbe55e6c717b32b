#!/usr/bin/env python3
"""Part 1 of `make bench`: requests/s and latency of index.php and aibot.php at 1, 8 and 32
connections, next to three floors on the same Apache (hello.php; token.php = hello + one token
lookup in MariaDB; durable.php = token.php + a 350-byte file written in the spool's tmp/,
fsynced and unlinked: what queueing a call durably cannot avoid), with wrk and
tests/bench/post.lua. Repeats are interleaved (every target at every concurrency, then again),
so drift on a shared machine hits all targets alike. Before each repeat, the cost of one fsync
is measured directly: 100 times write 350 bytes + fsync + unlink in the same spool tmp/.

Each measured run at more than one connection is preceded by a warm-up at the same
concurrency (Apache prefork spawns its children; the extension builds its per-process runtime
on first use): 1 s of wrk for the floors; 4 requests per connection for index.php and
aibot.php, since every request of theirs queues a call. The calls the API queues go to test
phone 2003 (busy): Asterisk dials them during the run, on the same cores, and the next run
starts once it has finished them (aibot's failure handler is an AGI script: about a minute
after a run at 8 or 32 connections).

  .stack/venv/bin/python tests/bench/api.py [--seconds 2] [--call-seconds 1] [--repeats 3] [--conns 1,8,32]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

LUA = os.path.join(b.HERE, "post.lua")


def targets(e):
    base = e["APICALL_URL"].rsplit("/", 1)[0]
    return [
        ("floor-hello", base + "/bench/hello.php", {"x": 1}),
        ("floor-token", base + "/bench/token.php", {"x": 1}),
        ("floor-durable", base + "/bench/durable.php", {"x": 1}),
        ("+config", base + "/bench/bootstrap.php", {"x": 1}),
        ("index.php", e["APICALL_URL"] + "/index.php", {"tocall": "2003"}),
        ("aibot.php", e["APICALL_URL"] + "/aibot.php", {"PhoneNumber": "2003"}),
    ]


CALLS = ("index.php", "aibot.php")     # targets whose every request queues a call


def warm_calls(url, body, token, conns, per_conn=4):
    """Warm-up of a target that queues calls: per_conn requests per connection, `conns` at a
    time (each Apache child that will serve the run gets some), not seconds of them."""
    def one(_):
        try:
            return b.post(url, body, token)[0]
        except OSError:
            return None
    with ThreadPoolExecutor(conns) as ex:
        return list(ex.map(one, range(conns * per_conn)))


def wrk(url, body, token, conns, seconds, tries=3):
    """One wrk run; retried (after waiting for Apache) when it could not connect at all, as
    when a `make up` elsewhere restarts Apache on a shared stack."""
    for i in range(tries):
        try:
            return wrk_once(url, body, token, conns, seconds)
        except RuntimeError as err:
            if i == tries - 1:
                raise
            b.log("wrk failed (%s): retrying in 5 s" % str(err).strip()[:200])
            time.sleep(5)


def wrk_once(url, body, token, conns, seconds):
    envv = dict(os.environ, BENCH_BODY=json.dumps(body), BENCH_TOKEN=token)
    threads = min(conns, 2)
    cmd = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--timeout", "10s",
           "-s", LUA, url]
    out = subprocess.run(cmd, env=envv, capture_output=True, text=True, timeout=seconds + 30)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            r = json.loads(line[len("BENCH_JSON "):])
            if r["requests"] == 0 or r["errors"]["connect"] > r["requests"]:
                raise RuntimeError("no requests done: %s" % line)
            return r
    raise RuntimeError("wrk printed no result: %s %s" % (out.stdout, out.stderr))


def fsync_probe(folder, n=100, size=350):
    """Milliseconds of write + fsync + unlink of a `size`-byte file in `folder`, n times: the
    disk's cost of making a call file durable, without Apache or PHP around it."""
    data = b"x" * (size - 1) + b"\n"
    ms = []
    for i in range(n):
        path = os.path.join(folder, "bench-fsync-%d-%d.tmp" % (os.getpid(), i))
        t0 = time.perf_counter()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(path)
        ms.append((time.perf_counter() - t0) * 1000)
    return ms


def inprocess_calls(repeats=200):
    """The extension's calls of one request timed in one PHP CLI process (inprocess.php): the
    build measured (BENCH_EXT_SO), the CLI's own ini files but not the stack's extra ini dir,
    which would load the debug build as well. {} when it could not run (logged)."""
    so = os.environ.get("BENCH_EXT_SO") or ""
    if not so:
        return {}
    envv = {k: v for k, v in os.environ.items() if k != "PHP_INI_SCAN_DIR"}
    try:
        p = subprocess.run(["php", "-d", "extension=" + so, "-d", "error_log=/dev/null",
                            os.path.join(b.HERE, "inprocess.php"), str(repeats)],
                           capture_output=True, text=True, timeout=120, env=envv)
        return json.loads(p.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError) as err:
        b.log("in-process timing failed: %s" % err)
        return {}


def settle(limit=120):
    """Waits until Asterisk has dialled every call the run queued and handled its failure
    (spool empty, none of their channels left), so the next run starts on a quiet stack.
    Asterisk reads the call files as they come, so it cannot be cut short by removing them:
    the faster the API, the more calls a run queues and the longer this takes."""
    spool = os.path.join(b.env()["ASTSPOOLDIR"], "outgoing")
    t0 = time.time()
    while time.time() - t0 < limit:
        queued = [f for f in os.listdir(spool) if f.startswith("apicall-")]
        # The busy calls, and the `failed` handler (AGI) Asterisk runs for aibot's on a
        # channel of its own.
        if not queued and b.active_channels("Local/2003@", "OutgoingSpoolFailed") == 0:
            return time.time() - t0
        time.sleep(0.5)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_API_SECONDS", 2)))
    # index.php and aibot.php: every request queues a call that Asterisk dials after the run
    # (aibot's busy calls each start an AGI process), and the next run waits for all of them:
    # shorter runs keep `make bench` within its time.
    ap.add_argument("--call-seconds", type=int,
                    default=int(os.environ.get("BENCH_API_CALL_SECONDS", 1)))
    ap.add_argument("--repeats", type=int, default=int(os.environ.get("BENCH_REPEATS", 3)))
    ap.add_argument("--conns", default="1,8,32")
    ap.add_argument("--only", help="comma list of target names")
    args = ap.parse_args()
    e = b.env()
    token = e["APICALL_TOKEN"]
    conns = [int(c) for c in args.conns.split(",")]
    tg = targets(e)
    if args.only:
        tg = [t for t in tg if t[0] in args.only.split(",")]
    # Every target must answer 200 before we time it.
    for name, url, body in tg:
        st, reply = b.post(url, body, token)
        if st != 200:
            raise SystemExit("%s answered %s %s: not benchmarking it" % (name, st, reply))
    settle()
    runs = []
    fsync = []
    inprocess = []
    spool_tmp = os.path.join(e["ASTSPOOLDIR"], "tmp")
    for rep in range(args.repeats):
        ms = fsync_probe(spool_tmp)
        s = b.summary(ms)
        fsync.append({"repeat": rep + 1, "n": len(ms), "p50_ms": s["median"], "p99_ms": s["p99"],
                      "min_ms": s["min"], "max_ms": s["max"]})
        b.log("fsync probe rep %d (%s, 350 bytes, %d times): p50 %.2f ms  p99 %.2f ms" % (
            rep + 1, spool_tmp, len(ms), s["median"], s["p99"]))
        calls = inprocess_calls()
        if calls:
            inprocess.append({"repeat": rep + 1, "calls": calls})
            b.log("in-process rep %d: %s" % (rep + 1, "  ".join(
                "%s p50 %.2f p99 %.2f ms" % (k, v["p50_ms"], v["p99_ms"]) for k, v in calls.items())))
        for c in conns:
            for name, url, body in tg:
                if c > 1:                                        # warm-up, not recorded
                    if name in CALLS:
                        warm_calls(url, body, token, c)
                    else:
                        wrk(url, body, token, c, 1)
                busy0, _ = b.system_cpu_s()
                by0 = b.cpu_by_daemon()
                r = wrk(url, body, token, c,
                        args.call_seconds if name in CALLS else args.seconds)
                busy1, _ = b.system_cpu_s()
                by = b.cpu_by_daemon_delta(by0, b.cpu_by_daemon())
                rps = r["requests"] / (r["duration_us"] / 1e6)
                ok = r["statuses"].get("200", 0)
                r.update({"target": name, "conns": c, "repeat": rep + 1, "rps": rps,
                          "non200": r["requests"] - ok,
                          "cpu_ms_per_req": 1000.0 * (busy1 - busy0) / max(1, r["requests"]),
                          "cpu_ms_per_req_by": {
                              k: 1000.0 * v / max(1, r["requests"]) for k, v in by.items()}})
                runs.append(r)
                b.log("api %-11s c=%-2d rep %d: %7.1f req/s  p50 %6.1f ms  p99 %7.1f ms  "
                      "non-200 %d  machine CPU %.1f ms/req" % (
                          name, c, rep + 1, rps, r["p50_us"] / 1000, r["p99_us"] / 1000,
                          r["non200"], r["cpu_ms_per_req"]))
                if name in CALLS:
                    waited = settle()
                    r["settle_s"] = waited
                    if waited is None:
                        b.log("warning: calls still queued/active 120 s after the run")
                    else:
                        b.log("Asterisk finished the run's %d calls (and its warm-up's) %.0f s "
                              "after it" % (ok, waited))
    b.save("api", {"seconds": args.seconds, "call_seconds": args.call_seconds,
                   "repeats": args.repeats, "runs": runs,
                   "fsync": fsync, "fsync_dir": spool_tmp, "inprocess": inprocess})


if __name__ == "__main__":
    main()
