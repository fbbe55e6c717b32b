#!/usr/bin/env python3
"""Parts 2, 3 and 5 of `make bench`: real calls on the local stack.

listen  N concurrent aibot calls (UserInputMethod voice, no STT) to the test phones 2005N.
        Step 1: the prompt; the phone speaks phrase N; the answer ends after 1 s of silence and
        is kept. The webhook replies with step 2: the same (cached) prompt, then listening for
        `hold` seconds (Timeout) while the phone sends silence frames. A sampler reads /proc
        every 0.25 s: CPU time of every thread of Asterisk and of every process below it (the
        EAGI PHP processes, in which the Rust core runs), and the machine's busy time; memory
        (RSS, PSS) and MariaDB's connection count every second. The window is the time in which
        every call is in step 2's gather (from the last call to start listening, after its
        prompt as Asterisk's log shows it, to the first call's timeout webhook): nothing else of
        theirs runs. CPU seconds per call-minute = CPU in the window / (calls x window minutes).
        Audio loss: the phones' audio reaches the core bit-exact (8 kHz slin all the way), so
        each call's kept answer (answers/<id>-1.wav) must contain phrase N's samples as one
        exact run; one lost or altered 20 ms frame breaks it. Asterisk's own frame drops
        ("Exceptionally long voice queue length") on the core's side are counted too.
floor   The listening floor: N calls to the same phones with Asterisk alone on the calling side
        (context stack-selftest: Playback then Wait(15), reading and dropping the frames).
turn    Turn timing: calls to 2005N one after another (staggered), step 1 speech with STT;
        the webhook replies with step 2 whose prompt is the step-1 text again (TTS cached) or
        a new text (TTS made now), then listens 1 s for nothing, so a second webhook carries
        step 2's Timings.first_audio_ms. Also measured from outside: phone's speech end (Asterisk
        log, minus the phrase file's trailing silence) -> webhook received, and webhook reply
        sent -> Asterisk's "Playing" line of the next prompt.

  .stack/venv/bin/python tests/bench/calls.py listen --n 1,10,50,100 [--repeats 3] [--hold S]
  .stack/venv/bin/python tests/bench/calls.py floor --n 100 [--repeats 3]
  .stack/venv/bin/python tests/bench/calls.py turn [--calls 10]

The listening runs need `max_concurrent_calls` above N (bench.sh sets it for the run).
"""

import argparse
import array
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import wave
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

PROMPT = "Please answer after the tone."
PHRASES_TXT = os.path.join(b.REPO, "tests", "stack", "phrases.txt")
LINE_RE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{3})\] ")
EXT_RE = re.compile(r"/\S*libapicall\.so")


def phrases():
    with open(PHRASES_TXT) as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]


def read_wav(path):
    w = wave.open(path)
    a = array.array("h", w.readframes(w.getnframes()))
    w.close()
    return a


def sound_span(samples, threshold=64):
    """(first, last+1) index of samples louder than threshold."""
    first = next(i for i, v in enumerate(samples) if abs(v) > threshold)
    last = len(samples) - next(i for i, v in enumerate(reversed(samples)) if abs(v) > threshold)
    return first, last


def phrase_audio():
    """phrase number -> (samples, (first, last) of its sound, seconds of trailing silence)."""
    out = {}
    d = os.path.join(b.STACK, "phones", "phrases")
    for n in range(1, 10):
        p = os.path.join(d, "phrase-%d.wav" % n)
        if not os.path.exists(p):
            continue
        s = read_wav(p)
        first, last = sound_span(s)
        out[n] = (s, (first, last), (len(s) - last) / 8000.0)
    return out


def intact(answer_wav, phrase):
    """Whether the kept answer is the phrase, bit-exact and whole: its sound (from its first to
    its last sample louder than 64) must be one exact run of the phrase file's samples, covering
    at least 95 % of the phrase's own sound (the endpointer keeps 200 ms after the last loud
    frame, so a soft tail may be left out). Returns (intact, coverage) or None (no answer)."""
    try:
        ans = read_wav(answer_wav)
        first, last = sound_span(ans)
    except (OSError, EOFError, wave.Error, StopIteration):
        return None
    samples, (pf, pl), _ = phrase
    hay, needle = samples.tobytes(), ans[first:last].tobytes()
    i = hay.find(needle)
    while i >= 0 and i % 2:
        i = hay.find(needle, i + 1)
    if i < 0:
        return False, 0.0
    i //= 2
    cover = (min(pl, i + last - first) - max(pf, i)) / float(pl - pf)
    return cover >= 0.95, round(cover, 4)


# ------------------------------------------------------------------------------ Asterisk log

class Log:
    """Reads what the Asterisk full log got since construction."""

    def __init__(self):
        self.path = b.env()["AST_FULL_LOG"]
        self.offset = os.path.getsize(self.path)

    def lines(self):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        for raw in data.decode(errors="replace").splitlines():
            m = LINE_RE.match(raw)
            if not m:
                continue
            t = time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + int(m.group(2)) / 1000
            yield t, raw

    def calls(self, ids):
        """call id -> what the log says of it: base (the Local channel's name without ;1/;2),
        eagi (session script started), done (session script ended), says / spoke (the phone
        starts / ends its phrase), playing [(t, file)] (prompts the bot played), queue_drops
        [t] (Asterisk dropping voice frames queued to the bot's side while the session ran)."""
        ids = set(ids)
        by_base = {}
        out = {}
        noop = re.compile(r'NoOp\("(Local/[^;"]+);1", "apicall aibot ([0-9a-f]{32})"\)')
        eagi = re.compile(r'Executing \[s@apicall-aibot:\d+\] EAGI\("(Local/[^;"]+);1"')
        done = re.compile(r"<(Local/[^;>]+);1>AGI Script apicall\.php completed")
        says = re.compile(r'Verbose\("(Local/[^;"]+);2", "1,test phone 200\d says phrase')
        stay = re.compile(r'Executing \[s@phone-stay:1\] Playback\("(Local/[^;"]+);2"')
        playing = re.compile(r"<(Local/[^;>]+);1> Playing '([^']+)'")
        drop = re.compile(r"Exceptionally long voice queue length .* queuing to (Local/[^;]+);1")
        for t, line in self.lines():
            m = noop.search(line)
            if m and m.group(2) in ids:
                by_base[m.group(1)] = m.group(2)
                out[m.group(2)] = {"base": m.group(1), "playing": [], "queue_drops": []}
                continue
            for rx, key in ((says, "says"), (stay, "spoke"), (eagi, "eagi"), (done, "done")):
                m = rx.search(line)
                if m and m.group(1) in by_base:
                    out[by_base[m.group(1)]].setdefault(key, t)
            m = playing.search(line)
            if m and m.group(1) in by_base:
                out[by_base[m.group(1)]]["playing"].append((t, m.group(2)))
            m = drop.search(line)
            if m and m.group(1) in by_base:
                c = out[by_base[m.group(1)]]
                if "eagi" in c and "done" not in c:
                    c["queue_drops"].append(t)
        return out


# ------------------------------------------------------------------------------ /proc sampler

def db_client_sockets():
    """Socket inodes of the clients connected to the stack's MariaDB (its unix socket, from
    `ss`; its TCP port, from /proc/net/tcp*), to tell which processes hold its connections."""
    e = b.env()
    out = set()
    try:
        ss = subprocess.run(["ss", "-Hxn"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        ss = ""
    for line in ss.splitlines():
        f = line.split()
        if len(f) >= 8 and f[4] == e["DB_SOCKET"]:
            out.add(f[7])
    port = "%04X" % int(e["DB_PORT"])
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as fh:
                next(fh)
                for line in fh:
                    f = line.split()
                    if f[2].endswith(":" + port) and f[3] == "01":    # ESTABLISHED, to MariaDB
                        out.add(f[9])
        except (OSError, StopIteration):
            pass
    return out


def db_holders(ast):
    """MariaDB connections held now by the PHP processes below Asterisk (the calls' sessions)
    and by Apache's processes, from their sockets (runs `ss`: called once per run, while the
    calls listen, not from the sampler)."""
    clients = db_client_sockets()
    kids = [p for p in b.children(ast) if b.comm(p) == "php"]
    try:
        with open(os.path.join(b.STACK, "apache", "run", "httpd.pid")) as f:
            apache = int(f.read().strip())
        apache = [apache] + b.children(apache)
    except (OSError, ValueError):
        apache = []
    return {"t": time.time(), "php_processes": len(kids),
            "php": sum(sockets_of(p, clients) for p in kids),
            "apache": sum(sockets_of(p, clients) for p in apache)}


def sockets_of(pid, inodes):
    """How many of `inodes` the process holds open."""
    n = 0
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in inodes:
                n += 1
    except OSError:
        pass
    return n


class Sampler:
    """CPU of Asterisk (all threads) and of every process below it, by thread name, plus the
    machine's busy seconds, every `every` s; memory every `mem_every` s."""

    def __init__(self, every=0.25, mem_every=1.0):
        self.ast = b.asterisk_pid()
        try:
            self.db = b.db()
        except Exception:   # noqa: BLE001 - the count of connections is optional
            self.db = None
        self.every, self.mem_every = every, mem_every
        self.cpu, self.mem = [], []
        self.ext_mapped = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def snapshot(self):
        t = time.time()
        groups = {"asterisk": b.proc_cpu_ns(self.ast) or 0}
        kids = b.children(self.ast)
        threads = {}
        php = 0
        for pid in kids:
            for task in os.listdir("/proc/%d/task" % pid) if os.path.isdir("/proc/%d/task" % pid) else []:
                try:
                    with open("/proc/%d/task/%s/schedstat" % (pid, task)) as f:
                        ns = int(f.read().split()[0])
                    with open("/proc/%d/task/%s/comm" % (pid, task)) as f:
                        name = f.read().strip()
                except (OSError, ValueError, IndexError):
                    continue
                php += ns
                threads[name] = threads.get(name, 0) + ns
        groups["children"] = php
        busy, total = b.system_cpu_s()
        return {"t": t, "groups": groups, "threads": threads, "pids": len(kids),
                "busy": busy, "total": total}

    def mem_snapshot(self):
        kids = [p for p in b.children(self.ast) if b.comm(p) == "php"]
        ast = b.mem_kb(self.ast)
        procs = [b.mem_kb(p) for p in kids]
        procs = [p for p in procs if p[0] is not None]
        # Which extension build the AGI PHP processes run (a few of them are enough).
        for pid in kids[:3]:
            try:
                with open("/proc/%d/maps" % pid) as f:
                    self.ext_mapped.update(EXT_RE.findall(f.read()))
            except OSError:
                pass
        return {"t": time.time(), "asterisk_rss": ast[0], "asterisk_pss": ast[1],
                "db_connections": self.db_connections(),
                "php": len(procs), "php_rss": [p[0] for p in procs],
                "php_pss": [p[1] for p in procs]}

    def db_connections(self):
        if not self.db:
            return None
        try:
            with self.db.cursor() as c:
                c.execute("SHOW STATUS LIKE 'Threads_connected'")
                return int(c.fetchone()[1])
        except Exception:   # noqa: BLE001
            return None

    def run(self):
        next_mem = 0
        while not self.stop.is_set():
            self.cpu.append(self.snapshot())
            if time.time() >= next_mem:
                t0 = time.perf_counter()
                self.mem.append(self.mem_snapshot())
                self.mem_cost = max(getattr(self, "mem_cost", 0), time.perf_counter() - t0)
                next_mem = time.time() + self.mem_every
            self.stop.wait(self.every)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *a):
        self.stop.set()
        self.thread.join()
        if self.db:
            self.db.close()

    def between(self, t0, t1):
        """CPU used between the first sample at/after t0 and the last at/before t1."""
        inside = [s for s in self.cpu if t0 <= s["t"] <= t1]
        if len(inside) < 2:
            return None
        a, z = inside[0], inside[-1]
        d = {k: (z["groups"][k] - a["groups"].get(k, 0)) / 1e9 for k in z["groups"]}
        # A process that started inside the window counts from 0, one that ended is lost:
        # the window holds neither (all calls listen through it), which pids shows.
        th = {k: (v - a["threads"].get(k, 0)) / 1e9 for k, v in z["threads"].items()}
        return {"t0": a["t"], "t1": z["t"], "seconds": z["t"] - a["t"], "cpu": d, "threads": th,
                "machine_busy": z["busy"] - a["busy"],
                "pids": (a["pids"], z["pids"])}


# ------------------------------------------------------------------------------ parts

def post_all(e, bodies, workers=8):
    url = e["APICALL_URL"] + "/aibot.php"
    with ThreadPoolExecutor(workers) as ex:
        return list(ex.map(lambda body: b.post(url, body, e["APICALL_TOKEN"]), bodies))


def wait_for(pred, limit, step=0.25):
    t0 = time.time()
    while time.time() - t0 < limit:
        if pred():
            return True
        time.sleep(step)
    return False


def cleanup(e, ids):
    answers = os.path.join(e["ASTSPOOLDIR"], "apicall", "answers")
    for i in ids:
        for p in (os.path.join(answers, "%s-1.wav" % i), os.path.join(answers, "%s-1.mp3" % i),
                  os.path.join(answers, "%s-2.wav" % i), os.path.join(answers, "%s-2.mp3" % i),
                  os.path.join(e["PHONES_DIR"], "2005-%s.wav" % i)):
            try:
                os.unlink(p)
            except OSError:
                pass


def prompt_seconds(path):
    """Length of a prompt Asterisk played (the .slin/.wav next to the name it logged)."""
    for p in (path, path + ".slin", re.sub(r"\.slin$", ".wav", path)):
        if p.endswith(".slin") and os.path.exists(p):
            return os.path.getsize(p) / 16000.0
        if p.endswith(".wav") and os.path.exists(p):
            with wave.open(p) as w:
                return w.getnframes() / float(w.getframerate())
    return None


def gaps_removed(answer_wav, phrase):
    """For an answer that is not intact: is every piece of it between runs of >= 200 ms of
    exact zeros (what the core feeds when no frame came for 200 ms) an exact run of the phrase,
    the pieces in order? Then frames came late and the core filled the wait with silence, but
    none was lost or altered."""
    try:
        ans = read_wav(answer_wav)
        first, last = sound_span(ans)
    except (OSError, EOFError, wave.Error, StopIteration):
        return None
    body = ans[first:last]
    pieces, start, zeros = [], 0, 0
    for i, v in enumerate(body):
        if v == 0:
            zeros += 1
            continue
        if zeros >= 1600:
            pieces.append(body[start:i - zeros])
            start = i
        zeros = 0
    pieces.append(body[start:])
    hay = phrase[0].tobytes()
    at = 0
    for piece in pieces:
        needle = piece.tobytes()
        if not needle:
            continue
        i = hay.find(needle, at)
        while i >= 0 and i % 2:
            i = hay.find(needle, i + 1)
        if i < 0:
            return False
        at = i + len(needle)
    return True


def listen_run(e, n, rep, audio, hold):
    """N calls: step 1 the phone speaks (endpointed after 1 s of silence, answer kept and
    checked); step 2 the same (cached) prompt, then listening for `hold` seconds to the phone's
    silence frames (Timeout): the window where every call listens."""
    r = b.Receiver()
    r.replies["/next"] = {"UserInputMethod": "voice", "Timeout": hold, "MessageText": PROMPT,
                          "EndOfSpeakSilenceLength": 10, "UserAnswerSTT": False,
                          "NextMessageWebhookUrl": r.url + "/next2"}
    r.start()
    log = Log()
    applog = os.path.join(e["ASTLOGDIR"], "apicall.log")
    applog_at = os.path.getsize(applog) if os.path.exists(applog) else 0
    others = b.active_channels()
    ast_before = b.mem_kb(b.asterisk_pid())
    conn = b.db()
    with conn.cursor() as cur:
        cur.execute("SHOW STATUS LIKE 'Threads_connected'")
        db_before = int(cur.fetchone()[1])
        cur.execute("SELECT @@max_connections")
        db_max = int(cur.fetchone()[0])
    conn.close()
    tag = "bench-listen-%d-%d-%d" % (n, rep, os.getpid())
    bodies = [{
        "PhoneNumber": "2005%d" % (i % 9 + 1), "Language": "en_US", "MessageText": PROMPT,
        "UserInputMethod": "voice", "EndOfSpeakSilenceLength": 1, "Timeout": 30,
        "UserAnswerSTT": False, "ContactId": "%s-%d" % (tag, i),
        "NextMessageWebhookUrl": r.url + "/next", "CallStatusWebhookUrl": r.url + "/status",
    } for i in range(n)]
    dog = b.MachineWatchdog()
    with Sampler() as s:
        t_post = time.time()
        answers = post_all(e, bodies)
        ids = [a[1]["id"] for a in answers if a[0] == 200]
        phrase_of = {a[1]["id"]: int(a[1]["PhoneNumber"][-1]) for a in answers if a[0] == 200}
        id_of_contact = {bd["ContactId"]: a[1].get("id") for bd, a in zip(bodies, answers)
                         if a[0] == 200}
        refused = [a[0] for a in answers if a[0] != 200]
        # Who holds MariaDB's connections, once every call has had its step-1 webhook and has
        # gone on to listen (no webhook is due then).
        holders = None
        if ids and wait_for(lambda: len(r.of("/next")) >= len(ids) or r.of("/status"),
                            30 + n * 0.3) and not r.of("/status"):
            time.sleep(min(5.0, hold / 3.0))
            holders = db_holders(s.ast)
        # Every status webhook, or the calls are gone and no webhook came for 8 s (a status
        # event the core could not store never comes).
        wait_for(lambda: len(r.of("/status")) >= len(ids) or (
            time.time() - max([ev["t"] for ev in r.events] or [t_post]) > 8
            and b.active_channels() <= max(0, others)), 60 + hold + n * 0.5, step=0.5)
    stalls = dog.stop()
    seen = log.calls(ids)
    step1 = {id_of_contact.get(ev["body"].get("ContactId")): ev for ev in r.of("/next")}
    step2 = {id_of_contact.get(ev["body"].get("ContactId")): ev for ev in r.of("/next2")}
    outcomes = {}
    for ev in r.of("/status"):
        o = (ev["body"] or {}).get("Outcome")
        outcomes[o] = outcomes.get(o, 0) + 1
    r.close()
    # The receiver's own delay (in its socket, then headers read -> reply sent), and the
    # webhooks that reached it after their sender had given up: for the report's "Why" when
    # the module gives up on a webhook.
    delay = [ev["waited"] + ev["replied"] - ev["t"] for ev in r.events
             if "replied" in ev and ev["waited"] is not None]
    late = [ev for ev in r.events if "error" in ev]
    late_paths = {}
    for ev in late:
        late_paths[ev["path"]] = late_paths.get(ev["path"], 0) + 1
    per_call, starts, ends = [], [], []
    for cid in ids:
        lg = seen.get(cid, {})
        c = {"id": cid, "phrase": phrase_of[cid], "step1": cid in step1, "step2": cid in step2,
             "queue_drops": len(lg.get("queue_drops", []))}
        if "says" in lg and "spoke" in lg:
            c["phone_stretch"] = round((lg["spoke"] - lg["says"]) / (len(audio[c["phrase"]][0]) / 8000.0), 3)
        if cid in step1:
            wav = os.path.join(e["ASTSPOOLDIR"], "apicall", "answers", "%s-1.wav" % cid)
            got = intact(wav, audio[c["phrase"]])
            c["intact"], c["coverage"] = (got[0], got[1]) if got else (None, None)
            if got and not got[0]:
                c["late_not_lost"] = gaps_removed(wav, audio[c["phrase"]])
                keep_dir = os.path.join(os.environ.get("BENCH_OUT") or
                                        os.path.join(b.BENCH, "results"), "answers-not-intact")
                os.makedirs(keep_dir, exist_ok=True)
                try:
                    shutil.copy(wav, os.path.join(keep_dir, "%s-phrase%d.wav" % (cid, c["phrase"])))
                except OSError:
                    pass
            tm = (step1[cid]["body"] or {}).get("Timings") or {}
            c["endpointed_ms"] = tm.get("endpointed_ms")
            c["end1"] = step1[cid]["body"].get("InputEnd")
        if cid in step2 and len(lg.get("playing", [])) >= 2:
            t2, f2 = lg["playing"][1]
            dur = prompt_seconds(f2)
            if dur is not None:
                starts.append(t2 + dur)
                ends.append(step2[cid]["t"] - 0.05)
            c["end2"] = step2[cid]["body"].get("InputEnd")
        per_call.append(c)
    n_eff = len(starts)
    # The module's log over this run: sessions MariaDB refused, and what became of the status
    # events (stored for delivery, delivered late or not at all).
    too_many = 0
    applog_counts = {"too_many_connections": 0, "status_not_stored": 0,
                     "status_not_delivered": 0}
    if os.path.exists(applog):
        with open(applog, "rb") as fh:
            fh.seek(applog_at)
            for line in fh.read().decode(errors="replace").splitlines():
                if "Too many connections" in line:
                    applog_counts["too_many_connections"] += 1
                    if "AGI: session" in line:
                        too_many += 1
                if "status event could not be stored" in line:
                    applog_counts["status_not_stored"] += 1
                if "status event not delivered" in line:
                    applog_counts["status_not_delivered"] += 1
    conns = [m["db_connections"] for m in s.mem if m["db_connections"] is not None]
    setup = s.between(t_post, max(starts)) if starts else None
    res = {"db_connections_before": db_before, "db_max_connections": db_max,
           "db_connections_peak": max(conns) if conns else None,
           "applog": applog_counts, "extension_mapped": sorted(s.ext_mapped),
           "sampler_mem_s_max": getattr(s, "mem_cost", None),
           "receiver_own_process": True, "receiver_nice": b.RECEIVER_NICE, "receiver_delay_s_max": max(delay or [None]),
           "webhooks_after_sender_gave_up": late_paths,
           "webhooks_after_sender_gave_up_waited_s_max": max(
               [ev["waited"] for ev in late if ev["waited"] is not None] or [None]),
           # Where those waited: new connections the server's loop accepted late (seconds from
           # the request's arrival to the accept), or requests on a kept-alive connection.
           "late_on_new_connection": len([ev for ev in late if ev.get("nth_on_connection") == 1]),
           "late_accept_wait_s_max": max(
               [ev["accepted"] - (ev["t"] - ev["waited"]) for ev in late
                if ev.get("accepted") and ev["waited"] is not None] or [None]),
           "late_on_kept_connection": len([ev for ev in late
                                           if (ev.get("nth_on_connection") or 1) > 1]),
           # The whole machine stopped (a nice -20 process that only sleeps did not run).
           "machine_stalls": stalls,
           "machine_stall_s_max": max([g for _, g in stalls] or [0.0]),
           # The receiver's own loop stalled (its process did not run) for this long at most.
           "receiver_stall_s_max": max([ev["stall_s"] for ev in r.events
                                        if ev["path"] == "#stall"] or [0.0]),
           "setup_machine_busy_share": (setup["machine_busy"] / (setup["seconds"] * (os.cpu_count() or 1)))
           if setup and setup["seconds"] > 0 else None,
           "sessions_refused_by_db": too_many, "n": n, "repeat": rep, "queued": len(ids),
           "refused": refused, "hold_s": hold,
           "listened": n_eff, "outcomes": outcomes, "other_channels_before": others,
           "answers_checked": sum(1 for c in per_call if c.get("intact") is not None),
           "answers_intact": sum(1 for c in per_call if c.get("intact")),
           "answers_late_not_lost": sum(1 for c in per_call if c.get("late_not_lost")),
           "queue_drops": sum(c["queue_drops"] for c in per_call),
           "calls_with_queue_drops": sum(1 for c in per_call if c["queue_drops"]),
           "phone_stretch_max": max([c["phone_stretch"] for c in per_call if "phone_stretch" in c]
                                    or [None], key=lambda x: x or 0),
           "asterisk_before_kb": ast_before, "calls": per_call,
           "setup_s": (max(starts) - t_post) if starts else None}
    if n_eff and max(starts) < min(ends):
        w0, w1 = max(starts), min(ends)
        res["window"] = s.between(w0, w1)
    if res.get("window"):
        secs = res["window"]["seconds"]
        cpu = res["window"]["cpu"]
        # Processes of calls that failed early are gone; the window holds the n_eff that listen.
        minutes = n_eff * secs / 60.0
        res["cpu_s_per_call_minute"] = {
            "asterisk": cpu["asterisk"] / minutes, "php_core": cpu["children"] / minutes,
            "total": (cpu["asterisk"] + cpu["children"]) / minutes,
            "machine": res["window"]["machine_busy"] / minutes}
        mid = (res["window"]["t0"] + res["window"]["t1"]) / 2
        mem = min(s.mem, key=lambda m: abs(m["t"] - mid)) if s.mem else None
        if mem and mem["php"]:
            res["memory"] = {
                "php_processes": mem["php"],
                "asterisk_rss_kb": mem["asterisk_rss"],
                "asterisk_delta_kb_per_call": (mem["asterisk_rss"] - ast_before[0]) / n_eff,
                "php_rss_kb_median": statistics.median(mem["php_rss"]),
                "php_pss_kb_median": statistics.median(mem["php_pss"]),
                "db_connections": mem["db_connections"],
                "db_connections_per_call": ((mem["db_connections"] - db_before) / n_eff)
                if mem["db_connections"] is not None else None,
                # Those the calls' own PHP processes and Apache's hold (their sockets to
                # MariaDB, read once while the calls listen).
                "db_holders": holders,
                "db_connections_php_per_call": holders["php"] / n_eff if holders else None,
                "db_connections_apache": holders["apache"] if holders else None,
            }
            m = res["memory"]
            m["per_call_rss_kb"] = m["asterisk_delta_kb_per_call"] + m["php_rss_kb_median"]
            m["per_call_pss_kb"] = m["asterisk_delta_kb_per_call"] + m["php_pss_kb_median"]
    else:
        res["window"] = None
        res["why_no_window"] = ("%d of %d calls reached step 2; setup spread exceeded the %d s "
                                "hold" % (n_eff, len(ids), hold)) if n_eff else "no call reached step 2"
    if not os.environ.get("BENCH_KEEP"):
        cleanup(e, ids)
    wait_for(lambda: b.active_channels() <= max(0, others), 60)
    return res


def listen(args):
    e = b.env()
    audio = phrase_audio()
    if len(audio) < 9:
        raise SystemExit("phrases missing in .stack/phones/phrases (make up makes them)")
    runs = []
    for rep in range(1, args.repeats + 1):
        for n in [int(x) for x in args.n.split(",")]:
            hold = args.hold or int(8 + 0.14 * n)
            res = listen_run(e, n, rep, audio, hold)
            runs.append(res)
            c = res.get("cpu_s_per_call_minute")
            w = res.get("window")
            b.log("listen n=%-3d rep %d: %d/%d calls listened; %s; answers intact %d/%d (late, "
                  "not lost: %d); Asterisk queue drops %d; phone playback stretch max %s; "
                  "outcomes %s%s" % (
                      n, rep, res["listened"], res["queued"],
                      ("window %.1f s, CPU s per call-minute: total %.3f (asterisk %.3f, php+core "
                       "%.3f), machine %.3f" % (w["seconds"], c["total"], c["asterisk"],
                                                c["php_core"], c["machine"])) if c else
                      "no window: %s" % res.get("why_no_window", "too short"),
                      res["answers_intact"], res["answers_checked"], res["answers_late_not_lost"],
                      res["queue_drops"], res["phone_stretch_max"], res["outcomes"],
                      "; %d refused by the API: %s" % (len(res["refused"]),
                                                       sorted(set(res["refused"])))
                      if res["refused"] else ""))
    b.save("listen", {"runs": runs})


def floor_run(e, n, rep):
    """The listening floor: the same phones and Local channels, but the calling side is
    Asterisk alone (context stack-selftest: Playback(hello-world), then Wait(15), which reads
    the phone's frames and throws them away): no EAGI, no PHP, no core. Window: from the last
    call entering Wait to the first call leaving it."""
    import pwd
    spool = e["ASTSPOOLDIR"]
    uid = pwd.getpwnam("asterisk")
    log = Log()
    others = b.active_channels()
    ids = []
    with Sampler() as s:
        for i in range(n):
            cid = "%032x" % random.getrandbits(128)
            tmp = os.path.join(spool, "tmp", "bench-floor-%s.call" % cid)
            with open(tmp, "w") as fh:
                fh.write("Channel: Local/2005%d@from-internal\nCallerID: \"bench floor\" <999>\n"
                         "MaxRetries: 0\nRetryTime: 5\nWaitTime: 20\nContext: stack-selftest\n"
                         "Extension: s\nPriority: 1\nSetvar: __APICALL_ID=%s\n" % (i % 9 + 1, cid))
            os.chown(tmp, uid.pw_uid, uid.pw_gid)
            os.rename(tmp, os.path.join(spool, "outgoing", "bench-floor-%s.call" % cid))
            ids.append(cid)
        time.sleep(3)
        wait_for(lambda: b.active_channels() <= max(0, others), 60 + n * 0.3)
    waits = re.compile(r'Executing \[s@stack-selftest:\d+\] Wait\("(Local/[^;"]+);1", "15"\)')
    phone = re.compile(r'NoOp\("(Local/[^;"]+);2", "test phone 2005 will say phrase \d for call '
                       r'([0-9a-f]{32})"\)')
    mine, starts = set(), {}
    wanted = set(ids)
    for t, line in log.lines():
        m = phone.search(line)
        if m and m.group(2) in wanted:
            mine.add(m.group(1))
            continue
        m = waits.search(line)
        if m and m.group(1) in mine:
            starts.setdefault(m.group(1), t)
    res = {"n": n, "repeat": rep, "calls": len(starts), "other_channels_before": others}
    if starts:
        w0, w1 = max(starts.values()), min(starts.values()) + 15 - 0.1
        win = s.between(w0, w1) if w0 < w1 else None
        res["window"] = win
        if win:
            minutes = len(starts) * win["seconds"] / 60.0
            res["cpu_s_per_call_minute"] = {"asterisk": win["cpu"]["asterisk"] / minutes,
                                            "machine": win["machine_busy"] / minutes}
    if not os.environ.get("BENCH_KEEP"):
        for cid in ids:
            try:
                os.unlink(os.path.join(e["PHONES_DIR"], "2005-%s.wav" % cid))
            except OSError:
                pass
    return res


def floor(args):
    e = b.env()
    runs = []
    for rep in range(1, args.repeats + 1):
        for n in [int(x) for x in args.n.split(",")]:
            res = floor_run(e, n, rep)
            runs.append(res)
            c = res.get("cpu_s_per_call_minute")
            b.log("floor n=%-3d rep %d: %d calls; %s" % (
                n, rep, res["calls"], "window %.1f s, Asterisk CPU s per call-minute %.3f, "
                "machine %.3f" % (res["window"]["seconds"], c["asterisk"], c["machine"])
                if c else "no window"))
    b.save("floor", {"runs": runs})


def words(s):
    return re.sub(r"[^a-z0-9' ]+", " ", (s or "").lower()).split()


def wer_pair(ref, hyp):
    r, h = words(ref), words(hyp)
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(h)], len(r)


def turn(args):
    e = b.env()
    audio = phrase_audio()
    texts = phrases()
    r = b.Receiver()
    log = Log()
    # Every other call's step-2 prompt is the cached one; fixed before the receiver starts, as
    # step2 runs in its process.
    contacts = ["bench-turn-%d-%d" % (os.getpid(), i) for i in range(args.calls)]
    cached = {contact: i % 2 == 1 for i, contact in enumerate(contacts)}

    def step2(body):
        contact = (body or {}).get("ContactId") or ""
        if cached.get(contact):
            text = PROMPT
        else:
            text = "Thank you. Your reference is %s." % " ".join(
                str(random.randint(0, 9)) for _ in range(6))
        return {"MessageText": text, "UserInputMethod": "voice", "Timeout": 1,
                "UserAnswerSTT": False, "NextMessageWebhookUrl": r.url + "/turn2"}

    r.replies["/turn1"] = step2
    r.start()
    ids, calls = [], []
    for i, contact in enumerate(contacts):
        n = i % 9 + 1
        body = {"PhoneNumber": "2005%d" % n, "Language": "en_US", "MessageText": PROMPT,
                "UserInputMethod": "voice", "UserAnswerSTT": True, "Timeout": 20,
                "ContactId": contact, "NextMessageWebhookUrl": r.url + "/turn1",
                "CallStatusWebhookUrl": r.url + "/status"}
        st, reply = b.post(e["APICALL_URL"] + "/aibot.php", body, e["APICALL_TOKEN"])
        if st == 200:
            ids.append(reply["id"])
            calls.append((contact, reply["id"], n))
        time.sleep(args.gap)
    wait_for(lambda: len(r.of("/status")) >= len(ids), 90)
    seen = log.calls(ids)
    t1 = {ev["body"].get("ContactId"): ev for ev in r.of("/turn1")}
    t2 = {ev["body"].get("ContactId"): ev for ev in r.of("/turn2")}
    rows = []
    for contact, cid, n in calls:
        row = {"contact": contact, "phrase": n, "cached": cached[contact]}
        ev1, ev2 = t1.get(contact), t2.get(contact)
        if ev1:
            tm = ev1["body"].get("Timings") or {}
            row.update({k: tm.get(k) for k in ("endpointed_ms", "transcribed_ms",
                                               "webhook_sent_ms")})
            row["text"] = ev1["body"].get("UserAnswerText")
            row["errors"], row["words"] = wer_pair(texts[n - 1], row["text"])
            lg = seen.get(cid, {})
            if "spoke" in lg:
                speech_end = lg["spoke"] - audio[n][2]
                row["outside_webhook_ms"] = round(1000 * (ev1["t"] - speech_end))
            later = [t for t, f in lg.get("playing", []) if t >= ev1["replied"] - 0.002]
            if later:
                row["outside_first_audio_ms"] = round(1000 * (later[0] - ev1["replied"]))
        if ev2:
            tm = ev2["body"].get("Timings") or {}
            row["first_audio_ms"] = tm.get("first_audio_ms")
        row["timings_present"] = bool(ev1 and "Timings" in ev1["body"])
        rows.append(row)
        b.log("turn %s phrase %d (%s TTS): endpointed %s ms, transcribed %s ms, webhook sent %s"
              " ms (outside: received %s ms after speech end); next prompt first audio %s ms "
              "(outside %s ms); heard %r" % (
                  contact[-2:], n, "cached" if row["cached"] else "new", row.get("endpointed_ms"),
                  row.get("transcribed_ms"), row.get("webhook_sent_ms"),
                  row.get("outside_webhook_ms"), row.get("first_audio_ms"),
                  row.get("outside_first_audio_ms"), row.get("text")))
    r.close()
    cleanup(e, ids)
    b.save("turn", {"calls": rows, "end_silence_ms": 500})


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("listen")
    p.add_argument("--n", default="1,10,50,100")
    p.add_argument("--repeats", type=int, default=int(os.environ.get("BENCH_REPEATS", 3)))
    p.add_argument("--hold", type=int, default=0,
                   help="seconds of step-2 listening (default 8 + 0.14 N)")
    p = sub.add_parser("floor")
    p.add_argument("--n", default="100")
    p.add_argument("--repeats", type=int, default=int(os.environ.get("BENCH_REPEATS", 3)))
    p = sub.add_parser("turn")
    p.add_argument("--calls", type=int, default=10)
    p.add_argument("--gap", type=float, default=2.5)
    args = ap.parse_args()
    {"listen": listen, "turn": turn, "floor": floor}[args.cmd](args)


if __name__ == "__main__":
    main()
