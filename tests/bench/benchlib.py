"""Shared helpers of `make bench` (tests/bench): the stack's environment, the module's settings
(changed for a run and restored after it), a webhook receiver that records every POST with its
arrival time, /proc readings (CPU time and memory of processes), and small statistics.

Runs under the stack's venv (.stack/venv/bin/python: pymysql); nothing else needed.
"""

import asyncio
import glob
import http.client
import io
import json
import multiprocessing
import os
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
import types
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
STACK = os.path.join(REPO, ".stack")
BENCH = os.path.join(STACK, "bench")
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def log(msg):
    print("[bench] %s" % msg, flush=True)


def env():
    """The KEY=value lines of .stack/env (written by `make up`)."""
    out = {}
    with open(os.path.join(STACK, "env")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                out[k] = v
    return out


# ------------------------------------------------------------------------------ database

def db(e=None, database=None):
    import pymysql
    e = e or env()
    return pymysql.connect(unix_socket=e["DB_SOCKET"], user=e["DB_USER"], password=e["DB_PASS"],
                           database=database or e["DB_NAME"], autocommit=True)


SETTINGS_TABLE = "kvstore_FreePBX_modules_Apicall"
SAVED = os.path.join(BENCH, "settings-saved.json")


def set_settings(values):
    """Sets module settings (kvstore, id 'noid') for the run. The values they had (or their
    absence) are written to .stack/bench/settings-saved.json first, so restore_settings() (also
    run by bench.sh's exit trap, and at the start of the next run after a crash) puts them back."""
    os.makedirs(BENCH, exist_ok=True)
    conn = db()
    with conn.cursor() as c:
        saved = {}
        if os.path.exists(SAVED):          # a run that died: its saved values are the real ones
            with open(SAVED) as f:
                saved = json.load(f)
        for k in values:
            if k in saved:
                continue
            c.execute("SELECT val FROM %s WHERE `key`=%%s AND id='noid'" % SETTINGS_TABLE, (k,))
            row = c.fetchone()
            saved[k] = row[0] if row else None
        with open(SAVED + ".tmp", "w") as f:
            json.dump(saved, f)
        os.rename(SAVED + ".tmp", SAVED)
        for k, v in values.items():
            c.execute("DELETE FROM %s WHERE `key`=%%s AND id='noid'" % SETTINGS_TABLE, (k,))
            c.execute("INSERT INTO %s (`key`, val, type, id) VALUES (%%s, %%s, NULL, 'noid')"
                      % SETTINGS_TABLE, (k, str(v)))
    conn.close()


def restore_settings():
    if not os.path.exists(SAVED):
        return {}
    with open(SAVED) as f:
        saved = json.load(f)
    conn = db()
    with conn.cursor() as c:
        for k, v in saved.items():
            c.execute("DELETE FROM %s WHERE `key`=%%s AND id='noid'" % SETTINGS_TABLE, (k,))
            if v is not None:
                c.execute("INSERT INTO %s (`key`, val, type, id) VALUES (%%s, %%s, NULL, 'noid')"
                          % SETTINGS_TABLE, (k, v))
    conn.close()
    os.unlink(SAVED)
    return saved


# ------------------------------------------------------------------------------ the API

def post(url, body, token, timeout=30):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "token": token})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


# ------------------------------------------------------------------------------ webhooks

def tcp_idle_s(sock):
    """Seconds since the last data came in on a TCP socket (tcp_info.tcpi_last_data_recv, ms, at
    byte 52), read as a request is handled: how long it waited in the kernel for the receiver."""
    try:
        return struct.unpack_from("I", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104),
                                  52)[0] / 1000.0
    except (OSError, struct.error):
        return None


RECEIVER_NICE = -10


WATCHDOG = r"""
import sys, time
last = time.monotonic()
while True:
    time.sleep(0.05)
    now = time.monotonic()
    if now - last > 0.5:
        print("%.3f %.3f" % (time.time(), now - last - 0.05), flush=True)
    last = now
"""


class MachineWatchdog:
    """A process of its own at nice -20 that only sleeps 50 ms at a time and notes every gap over
    half a second: when it did not run either, nothing on the machine did (these machines are
    VMs whose CPUs the host can stop for seconds under load). stop() returns [(time, gap s)]."""

    def __init__(self):
        self.proc = subprocess.Popen(["nice", "-n", "-20", sys.executable, "-c", WATCHDOG],
                                     stdout=subprocess.PIPE, text=True)

    def stop(self):
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=10)
        gaps = []
        for line in out.splitlines():
            try:
                t, gap = line.split()
                gaps.append((float(t), float(gap)))
            except ValueError:
                pass
        return gaps


def peer_closed(sock):
    """Whether the other end of a TCP socket has closed its side (a FIN waits to be read), seen
    without reading: a sender that gave up on its request before the reply."""
    try:
        dup = socket.fromfd(sock.fileno(), socket.AF_INET, socket.SOCK_STREAM)
    except OSError:
        return False
    try:
        return dup.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True
    finally:
        dup.close()


class Receiver:
    """Records every POST: wall-clock time its headers were read (t), seconds it had waited in
    the kernel before that (waited), when the reply was sent (replied; or error: the sender had
    gone), path, JSON body, which request of its connection it was (nth_on_connection) and, for
    the first, when the connection was accepted.
    The reply to a path is `replies[path]` (a dict -> JSON, or a callable(body) -> dict), else
    an empty 200, which the module takes as "no next step" (the call goes to GoToDestination).

    The server is one asyncio loop on one thread (100 webhooks arrive at the same moment at the
    end of a 100-call run; a thread per connection adds a hundred threads contending for the
    GIL), in a process of its own forked by start() (in the bench's process it would share the
    GIL with the /proc sampler), ahead of the calls' processes in the scheduler (nice -10): it
    stands for the application's server, which runs on a machine of its own, and its CPU is not
    counted. It notes stalls of its own loop ("#stall" events); MachineWatchdog tells whether
    the whole machine stopped then (it did, for 17-35 s, in the runs where webhooks were read
    late). `replies` is fixed at start() (a callable runs in the receiver's process, on
    the state it had then; the view left here is read-only, so a later change fails loudly), and
    the events come back over a pipe, fetched by `events` and of()."""

    def __init__(self):
        self.replies = {}
        self._events = []
        self._lock = threading.Lock()
        # Bound here, so the URL is known before start() (replies name the receiver's paths).
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(512)            # 100 calls may post at the same moment
        self.url = "http://127.0.0.1:%d" % self._sock.getsockname()[1]
        self._conn = self._proc = None

    async def _connection(self, reader, writer):
        """One connection: requests until the sender closes it (HTTP/1.1 keep-alive)."""
        accepted = time.time()
        sock = writer.get_extra_info("socket")
        nth = 0
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                t = time.time()
                waited = tcp_idle_s(sock)
                nth += 1
                line, _, rest = head.partition(b"\r\n")
                parts = line.decode("latin-1").split(" ")
                path = parts[1] if len(parts) == 3 else ""
                headers = http.client.parse_headers(io.BytesIO(rest))
                n = int(headers.get("Content-Length") or 0)
                try:
                    raw = await reader.readexactly(n) if n else b""
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = None
                reply = self.replies.get(path)
                if callable(reply):
                    reply = reply(body)
                data = json.dumps(reply).encode() if reply is not None else b""
                ev = {"t": t, "waited": waited, "path": path, "body": body,
                      "nth_on_connection": nth, "accepted": accepted if nth == 1 else None}
                if reader.at_eof() or peer_closed(sock):
                    # The sender closed its side before the reply (its timeout): kept, so the
                    # run can tell a late webhook from a lost one, but of() leaves it out.
                    ev["error"] = "sender gone at %.3f" % time.time()
                else:
                    try:
                        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                     b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
                        await writer.drain()
                        ev["replied"] = time.time()
                    except (ConnectionError, OSError) as err:
                        ev["error"] = "%s at %.3f" % (type(err).__name__, time.time())
                with self._lock:
                    self._events.append(ev)
                if "error" in ev or (headers.get("Connection") or "").lower() == "close":
                    return
        finally:
            writer.close()

    async def _heartbeat(self):
        """Notes every stall of this process's loop over half a second (event path "#stall"):
        tells a receiver that could not run from requests that reached it late."""
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.1)
            now = time.monotonic()
            if now - last > 0.6:
                with self._lock:
                    self._events.append({"path": "#stall", "t": time.time(),
                                         "stall_s": now - last - 0.1, "body": None})
            last = now

    def _loop(self):
        async def serve():
            server = await asyncio.start_server(self._connection, sock=self._sock, backlog=512)
            beat = asyncio.ensure_future(self._heartbeat())
            async with server:
                await server.serve_forever()
            beat.cancel()
        asyncio.run(serve())

    def start(self):
        """Forks the receiver's process. The bench has no other thread running when it calls
        this (the sampler starts after), so the fork copies no lock held by another thread."""
        self._conn, child = multiprocessing.Pipe()
        self._proc = multiprocessing.get_context("fork").Process(
            target=self._serve, args=(child,), daemon=True)   # ends with the bench, also on error
        self._proc.start()
        child.close()
        self._sock.close()              # the child's copy of the socket listens
        self.replies = types.MappingProxyType(self.replies)
        return self

    def _serve(self, conn):
        """In the receiver's process: serve, and answer the bench's requests for the events
        from index k on (None, or the bench gone: stop)."""
        self._conn.close()      # the bench's end: its copy here would hide the bench's exit
        # Ahead of the calls' processes in the scheduler (see the class's comment; threads made
        # from here inherit it).
        try:
            os.setpriority(os.PRIO_PROCESS, 0, RECEIVER_NICE)
        except OSError:
            pass
        threading.Thread(target=self._loop, daemon=True).start()
        while True:
            try:
                k = conn.recv()
            except EOFError:
                k = None
            if k is None:
                break
            with self._lock:
                batch = self._events[k:]
            conn.send(batch)       # outside the lock: a slow reader must not hold the handlers

    @property
    def events(self):
        # A receiver that died raises here (EOFError, BrokenPipeError): without it every
        # webhook fails, which must not read as the module's failure.
        if self._proc:
            self._conn.send(len(self._events))
            self._events.extend(self._conn.recv())
        return self._events

    def of(self, path, call_ids=None):
        """The webhooks to `path` that got their reply (of those calls)."""
        return [e for e in self.events if e["path"] == path and "error" not in e and (
            call_ids is None or (e["body"] or {}).get("CallId") in call_ids
            or (e["body"] or {}).get("ContactId") in call_ids)]

    def close(self):
        """Fetches the last events and stops the receiver's process (they stay in `events`)."""
        if not self._proc:
            self._sock.close()
            return
        self.events                     # noqa: B018 - fetches the events that came last
        self._conn.send(None)
        self._proc.join(10)
        self._conn.close()
        self._proc = None


# ------------------------------------------------------------------------------ /proc

def proc_cpu_ns(pid):
    """CPU time of every thread of pid (ns, from schedstat: exact, not in clock ticks), or None."""
    total = 0
    try:
        for p in glob.glob("/proc/%d/task/*/schedstat" % pid):
            try:
                with open(p) as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
        return total
    except OSError:
        return None


def proc_cpu_ticks_s(pid):
    """utime + stime (+ waited-for children) of a process in seconds, from /proc/pid/stat."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def mem_kb(pid):
    """(RSS, PSS) of a process in kB, from smaps_rollup."""
    rss = pss = None
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def children(pid):
    """Every descendant pid of pid."""
    out = []
    todo = [pid]
    while todo:
        p = todo.pop()
        for t in glob.glob("/proc/%d/task/*/children" % p):
            try:
                with open(t) as f:
                    kids = [int(x) for x in f.read().split()]
            except OSError:
                continue
            out.extend(kids)
            todo.extend(kids)
    return out


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def asterisk_pid():
    with open(os.path.join(STACK, "asterisk", "run", "asterisk.pid")) as f:
        return int(f.read().strip())


def system_cpu_s():
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    total = sum(v[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


DAEMONS = ("apache2", "mariadbd", "asterisk")


def cpu_by_daemon():
    """{pid: (name, CPU seconds)} of the stack's long-lived processes (Apache's workers, which
    run PHP and the extension; MariaDB; Asterisk), from /proc/<pid>/stat. Compared across a run,
    a pid present at both ends counts its difference, one that appeared counts all of its time;
    processes that ended during the run (short-lived ones such as the AGI scripts) fall to the
    rest of the machine's CPU."""
    out = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                s = f.read()
        except OSError:
            continue
        name = s[s.find("(") + 1:s.rfind(")")]
        if name in DAEMONS:
            f = s.rsplit(")", 1)[1].split()
            out[int(p)] = (name, (int(f[11]) + int(f[12])) / CLK_TCK)
    return out


def cpu_by_daemon_delta(before, after):
    """CPU seconds per daemon name between two cpu_by_daemon() snapshots."""
    d = {n: 0.0 for n in DAEMONS}
    for pid, (name, cpu) in after.items():
        prev = before.get(pid)
        d[name] += cpu - (prev[1] if prev and prev[0] == name else 0.0)
    return d


def ast(cmd):
    return subprocess.run([os.path.join(REPO, "tests", "stack", "ast.sh"), cmd],
                          capture_output=True, text=True, timeout=30).stdout


def active_channels(*patterns):
    """Channels up in Asterisk; with patterns, only those whose name contains one of them."""
    if patterns:
        return sum(1 for line in ast("core show channels concise").splitlines()
                   if any(p in line.split("!", 1)[0] for p in patterns))
    out = ast("core show channels count")
    for line in out.splitlines():
        if "active channel" in line:
            return int(line.split()[0])
    return -1


# ------------------------------------------------------------------------------ statistics

def pct(values, p):
    """The p-th percentile (nearest rank) of values."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def summary(values):
    """median, p99, min, max, spread ((max-min)/median) and n of a list of numbers."""
    values = [v for v in values if v is not None]
    if not values:
        return {"n": 0}
    med = statistics.median(values)
    return {"n": len(values), "median": med, "p99": pct(values, 99), "min": min(values),
            "max": max(values),
            "spread": ((max(values) - min(values)) / med) if med else None}


def save(name, data):
    d = os.environ.get("BENCH_OUT") or os.path.join(BENCH, "results")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".json"), "w") as f:
        json.dump(data, f, indent=1)
    return os.path.join(d, name + ".json")
