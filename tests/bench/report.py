#!/usr/bin/env python3
"""Writes BENCHMARKS.md from one `make bench` run's results folder.

  .stack/venv/bin/python tests/bench/report.py .stack/bench/results/<time> BENCHMARKS.md
"""

import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402


def load(d, name):
    p = os.path.join(d, name + ".json")
    return json.load(open(p)) if os.path.exists(p) else None


def f(v, fmt="%.1f"):
    return "-" if v is None else fmt % v


def rng(vals, fmt="%.1f"):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "-"
    if min(vals) == max(vals):
        return fmt % vals[0]
    return (fmt + "-" + fmt) % (min(vals), max(vals))


def spread(vals):
    s = b.summary(vals)
    return "-" if not s.get("spread") and s.get("spread") != 0 else "%.0f %%" % (100 * s["spread"])


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def build_text(facts):
    """Which build of the extension the PHP parts measured, from the run's facts."""
    x = facts.get("extension")
    if not isinstance(x, dict):
        return x or "?"
    if not x.get("build"):
        return "not switched (no part through PHP in this run)"
    so = x["so"] or "?"
    rel = os.path.relpath(so, b.REPO) if so.startswith(b.REPO) else so
    what = ("release build, what `make dist` ships; built by `make bench` with `cargo build "
            "--release -p apicall-php`" if x["build"] == "release" else
            "debug build, what `make up` loads")
    text = "%s (%s)" % (rel, what)
    checks = [(k, x.get(k)) for k in ("apache_start", "cli_start", "apache_end", "cli_end")
              if k in x]
    if all(v == so for _, v in checks):
        text += ("; Apache and the PHP CLI (the AGI scripts) loaded it for the run: it was "
                 "mapped in their memory at the start and at the end")
    else:
        text += "; WARNING, mapped at %s" % ", ".join(
            "%s: %s" % (k.replace("_", " "), v or "none") for k, v in checks)
    if x["build"] == "release" and x.get("debug_so"):
        text += "; `make up` loads %s, put back after the run" % (
            os.path.relpath(x["debug_so"], b.REPO) if x["debug_so"].startswith(b.REPO)
            else x["debug_so"])
    return text


def api_section(api, facts):
    out = ["## 1. API: requests/s and latency", ""]
    if not api:
        return out + ["Not measured in this run.", ""]
    runs = api["runs"]
    has_durable = any(r["target"] == "floor-durable" for r in runs)
    out += ["wrk, %d s per run for the floors and %d s for index.php and aibot.php (at 8 and "
            "32 connections after a warm-up at the same "
            "concurrency: 1 s of wrk for the floors, 4 requests per connection for index.php and "
            "aibot.php, whose every request queues a call), %d repeats interleaved (every target at every "
            "concurrency, then again). Latencies are per request; p50 and p99 are the medians of the "
            "repeats' own p50/p99 (the max p99 in brackets); spread = (max - min) / median of the "
            "repeats' requests/s. Every request goes on a new connection (`Connection: close`, as "
            "API clients mostly do; with keep-alive, 32 connections on Apache's 20 workers "
            "leave 12 waiting behind the others). The floors, on the same Apache and PHP: "
            "`floor-hello` answers a constant JSON; `floor-token` adds one token lookup in "
            "MariaDB (a new PDO connection, one SELECT); `floor-durable` adds to that what "
            "queueing a call durably cannot avoid: a 350-byte file written in the spool's tmp/, "
            "fsynced and unlinked. Ratios are against the floors at the same concurrency, "
            "measured in the same run. \"Machine CPU\" is all busy CPU of the machine "
            "during the run divided by the requests (Apache, PHP, MariaDB, and for the API also "
            "Asterisk dialling the queued calls)." % (
                api["seconds"], api.get("call_seconds", api["seconds"]), api["repeats"]), "",
            "| target | conns | req/s (median) | spread | p50 ms | p99 ms | p99 / token floor | "
            "p99 / durable floor | req/s / token floor | machine CPU ms/req | non-200 |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    conns = sorted({r["conns"] for r in runs})
    names = []
    for r in runs:
        if r["target"] not in names:
            names.append(r["target"])

    def stat(name, c, key):
        return med([r[key] for r in runs if r["target"] == name and r["conns"] == c])

    verdict, verdict_d = [], []
    for c in conns:
        fp99, frps = stat("floor-token", c, "p99_us"), stat("floor-token", c, "rps")
        dp99 = stat("floor-durable", c, "p99_us")
        for n in names:
            rs = [r for r in runs if r["target"] == n and r["conns"] == c]
            if not rs:
                continue
            rps = med([r["rps"] for r in rs])
            p99 = med([r["p99_us"] for r in rs])
            ratio = p99 / fp99 if fp99 and n not in ("floor-hello", "floor-token") else None
            ratio_d = p99 / dp99 if dp99 and n in ("index.php", "aibot.php") else None
            out.append("| %s | %d | %.0f | %s | %.1f | %.1f (%.1f) | %s | %s | %s | %.1f | %d |" % (
                n, c, rps, spread([r["rps"] for r in rs]), med([r["p50_us"] for r in rs]) / 1000,
                p99 / 1000, max(r["p99_us"] for r in rs) / 1000,
                f(ratio, "%.2fx") if ratio else "", f(ratio_d, "%.2fx") if ratio_d else "",
                f(rps / frps, "%.2fx") if frps and n not in ("floor-hello", "floor-token") else "",
                med([r["cpu_ms_per_req"] for r in rs]), sum(r["non200"] for r in rs)))
            if n in ("index.php", "aibot.php"):
                if ratio is not None:
                    verdict.append((n, c, ratio))
                if ratio_d is not None:
                    verdict_d.append((n, c, ratio_d))
    out.append("")
    if any("cpu_ms_per_req_by" in r for r in runs):
        out += ["Where the machine's CPU went, per request (ms, medians of the repeats): Apache's "
                "workers (PHP and the extension run in them), MariaDB, Asterisk (for index.php and "
                "aibot.php: dialling the calls they queue, as it goes on during the run), and the "
                "rest of the machine (short-lived processes such as the AGI scripts of aibot's "
                "busy calls, the load generator wrk, the kernel). A target's p50 at 8 and 32 "
                "connections follows from this: with both cores busy, requests/s is about "
                "2 cores / machine CPU per request.", "",
                "| target | conns | Apache (PHP + extension) | MariaDB | Asterisk | rest | machine |",
                "|---|---|---|---|---|---|---|"]
        for c in conns:
            for n in names:
                rs = [r for r in runs if r["target"] == n and r["conns"] == c
                      and "cpu_ms_per_req_by" in r]
                if not rs:
                    continue
                part = {k: med([r["cpu_ms_per_req_by"][k] for r in rs])
                        for k in ("apache2", "mariadbd", "asterisk")}
                total = med([r["cpu_ms_per_req"] for r in rs])
                out.append("| %s | %d | %.2f | %.2f | %.2f | %.2f | %.2f |" % (
                    n, c, part["apache2"], part["mariadbd"], part["asterisk"],
                    max(0.0, total - sum(part.values())), total))
        out.append("")
    c1 = min(conns) if conns else None

    def p50(name):
        v = stat(name, c1, "p50_us")
        return v / 1000 if v is not None else None

    fs = api.get("fsync") or []
    fs_p50, fs_p99 = med([x["p50_ms"] for x in fs]), med([x["p99_ms"] for x in fs])
    if c1 is not None and p50("+config") and p50("index.php"):
        text = ("Where the time goes at %d connection (medians of p50): floor %.1f ms, token "
                "floor %.1f ms" % (c1, p50("floor-hello"), p50("floor-token")))
        if has_durable and p50("floor-durable"):
            text += (", durable floor %.1f ms (so writing, fsyncing and unlinking the 350-byte "
                     "file adds %.1f ms to the token floor" % (
                         p50("floor-durable"), p50("floor-durable") - p50("floor-token")))
            if fs_p50 is not None:
                text += ("; measured directly in the same run, the same write + fsync + unlink "
                         "in %s without Apache or PHP takes %.1f ms at the median and %.1f ms "
                         "at p99 (%d repeats of %d)" % (
                             os.path.relpath(api["fsync_dir"], b.REPO)
                             if api.get("fsync_dir", "").startswith(b.REPO) else api.get("fsync_dir"),
                             fs_p50, fs_p99, len(fs), fs[0]["n"]))
            text += ")"
        text += (", the module's configuration as the entry points get it (`+config`: hello "
                 "plus includes/bootstrap.php, no call into the extension; an Apache worker keeps "
                 "the configuration between requests and checks it with one kvstore read, so the "
                 "FreePBX bootstrap runs once per worker and minute or settings change) %.1f ms; "
                 "index.php %.1f ms "
                 "and aibot.php %.1f ms, so the extension's part (token check, limits, "
                 "validation, database rows, call file and the waits for the disk) is about "
                 "%.1f ms and %.1f ms." % (
                     p50("+config"), p50("index.php"), p50("aibot.php"),
                     p50("index.php") - p50("+config"), p50("aibot.php") - p50("+config")))
        if has_durable and p50("floor-durable"):
            text += (" Above the durable floor, index.php takes %.1f ms more and aibot.php %.1f "
                     "ms more at the median." % (p50("index.php") - p50("floor-durable"),
                                                 p50("aibot.php") - p50("floor-durable")))
        out += [text, ""]
    ip = api.get("inprocess") or []
    if ip:
        names_ip = list(ip[0]["calls"].keys())
        out += ["The extension's calls of one request alone: each timed %d times in one PHP CLI "
                "process with the build measured, on the stack's MariaDB, writing call files to a "
                "spool of its own that Asterisk does not read (so nothing is dialled), medians "
                "over %d repeats. `cached_config` is the kvstore read that lets a worker skip the "
                "FreePBX bootstrap; `check_token` the allowlist, failed-attempt and token check "
                "(one query); `originate` and `aibot_queue` validate, count the active calls "
                "under the capacity lock and queue the call (call file written and fsynced; "
                "aibot.php also commits its row)." % (ip[0]["calls"][names_ip[0]]["n"], len(ip)),
                "", "| call | p50 ms | p90 ms | p99 ms |", "|---|---|---|---|"]
        for n in names_ip:
            vals = [x["calls"][n] for x in ip if n in x["calls"]]
            out.append("| %s | %.2f | %.2f | %.2f |" % (
                n, med([v["p50_ms"] for v in vals]), med([v["p90_ms"] for v in vals]),
                med([v["p99_ms"] for v in vals])))
        one = sum(med([x["calls"][n]["p50_ms"] for x in ip]) for n in
                  ("cached_config", "check_token", "originate") if n in ip[0]["calls"])
        out += ["", "So index.php's own work is about %.1f ms at the median, of which the call "
                "file's fsync is about %s ms; through Apache, the rest of its latency is PHP, "
                "Apache and the machine shared with Asterisk dialling every queued call (see "
                "machine CPU per request)." % (one, f(fs_p50, "%.1f") if fs_p50 is not None
                                                else "?"), ""]
    waits = [r.get("settle_s") for r in runs if r["target"] in ("index.php", "aibot.php")
             and "settle_s" in r]
    if waits:
        done = [w for w in waits if w is not None]
        out += ["Every call that index.php and aibot.php queue is dialled (test phone 2003, busy; "
                "aibot's failure handler runs as an AGI script), during the run on the same "
                "cores. After each of their runs the bench waited until Asterisk had finished "
                "them all before the next run: %s%s." % (
                    ("median %.0f s, max %.0f s" % (med(done), max(done))) if done else "",
                    ("; %d of %d runs still had calls up after 120 s, so the next run started "
                     "on a busy stack" % (len(waits) - len(done), len(waits)))
                    if len(done) < len(waits) else ""), ""]
    out += ["Extension measured: %s." % build_text(facts), ""]
    if verdict:
        met = [v for v in verdict if v[2] <= 2]
        out.append("Target (p99 within 2x of the token-lookup floor): %s: within 2x for %s; above "
                   "2x for %s." % ("met" if len(met) == len(verdict) else "NOT met",
                                   ", ".join("%s at %d (%.1fx)" % v for v in met) or "none",
                                   ", ".join("%s at %d (%.1fx)" % v for v in verdict if v[2] > 2)
                                   or "none"))
        out.append("")
    if verdict_d:
        met = [v for v in verdict_d if v[2] <= 2]
        out.append("Against the durable floor (the token floor plus the one write + fsync that "
                   "queueing a call durably needs; not the issue's target, which the token floor "
                   "sets): p99 within 2x for %s; above 2x for %s." % (
                       ", ".join("%s at %d (%.1fx)" % v for v in met) or "none",
                       ", ".join("%s at %d (%.1fx)" % v for v in verdict_d if v[2] > 2) or "none"))
        out.append("")
    return out


def machine_stall_note(big):
    """What the watchdog saw in the repeats that missed calls: the whole machine stopping."""
    missed = [r for r in big if r.get("listened", 0) < r.get("queued", 0)]
    gaps = [r.get("machine_stall_s_max") or 0 for r in missed]
    if not missed or "machine_stall_s_max" not in missed[0]:
        return ""
    calm = [r for r in big if (r.get("machine_stall_s_max") or 0) < 2]
    if max(gaps) < 2:
        return ("; the machine kept running in the repeats that missed calls (a nice -20 "
                "watchdog never waited over %.1f s)" % max(gaps))
    return ("; in %d of the %d repeats that missed calls the whole machine stopped, for up to "
            "%.1f s (a watchdog process at nice -20, which only sleeps 50 ms at a time, did not "
            "run either: the VM's CPUs were not scheduled), and the step-2 webhooks sent just "
            "before were read by the receiver after the module's webhook timeout had run out%s" % (
                sum(1 for g in gaps if g >= 2), len(missed), max(gaps),
                "; every repeat without such a stop listened fully" if calm and all(
                    r.get("listened", 0) >= r.get("queued", 0) for r in calm) else ""))


def listen_section(listen, endp, cores, floor=None):
    out = ["## 2. Listening cost", ""]
    if listen:
        runs = listen["runs"]
        out += ["N aibot calls at once to test phones 2005N (`UserInputMethod` voice, no STT). "
                "Step 1: the prompt, the phone speaks its phrase (1-3 s), the answer ends after "
                "1 s of silence and is kept (the audio-loss check below). Step 2 (the webhook's "
                "reply): the same prompt (cached), then listening with `Timeout` = 8 s + 0.14 s "
                "x N while the phone sends silence frames, as a line does in a pause. The window "
                "is the time in which every call of the run is in step 2's gather, from the last "
                "call to start listening to the first to time out: nothing but listening runs for "
                "these calls then. (The stack's phones speak once per call, and a dialplan of "
                "the bench's own cannot be loaded without changing the stack's scripts: "
                "extensions.conf includes fixed files only. So the long window holds the pause; "
                "the speech goes through the same path, frame for frame, in step 1.) The "
                "webhooks go to the bench's receiver, which stands for the application's server: "
                "one asyncio loop in a process of its own, run at nice %d so that the calls' "
                "processes on the same two cores cannot starve it (a real receiver runs "
                "elsewhere); its CPU is not in the figures." % b.RECEIVER_NICE, "",
                "CPU time comes from /proc/<pid>/task/*/schedstat (ns) of Asterisk's threads and "
                "of every process below it (the EAGI PHP processes, in which the Rust core runs: "
                "the main thread, which reads the caller's audio itself while it listens, and the "
                "`eagi-audio` thread, which reads and drops the audio while nobody listens), "
                "sampled every 0.25 s. Per call-minute = CPU seconds in the window / (calls "
                "listening x window minutes); medians over the repeats; spread = (max - min) / "
                "median. \"Machine\" is all busy CPU of the machine in the window per call-minute "
                "(other work on the machine included).", "",
                "| calls asked / listening | window s | Asterisk | PHP + core | **total** | spread | "
                "machine | main / eagi-audio thread | cores at this load |",
                "|---|---|---|---|---|---|---|---|---|"]
        for n in sorted({r["n"] for r in runs}):
            rs = [r for r in runs if r["n"] == n]
            ok = [r for r in rs if r.get("cpu_s_per_call_minute")]
            def m(k):
                return med([r["cpu_s_per_call_minute"][k] for r in ok])
            th_main = med([r["window"]["threads"].get("php", 0) * 60 /
                           (r["listened"] * r["window"]["seconds"]) for r in ok])
            th_eagi = med([r["window"]["threads"].get("eagi-audio", 0) * 60 /
                           (r["listened"] * r["window"]["seconds"]) for r in ok])
            listened = med([r["listened"] for r in rs])
            out.append("| %d / %s | %s | %s | %s | **%s** | %s | %s | %s / %s | %s |" % (
                n, rng([r["listened"] for r in rs], "%d"),
                f(med([r["window"]["seconds"] for r in ok])),
                f(m("asterisk"), "%.3f"), f(m("php_core"), "%.3f"), f(m("total"), "%.3f"),
                spread([r["cpu_s_per_call_minute"]["total"] for r in ok]) if ok else "-",
                f(m("machine"), "%.3f"), f(th_main, "%.3f"), f(th_eagi, "%.3f"),
                f(m("total") * listened / 60 if ok else None, "%.2f")))
        out += ["", "\"Cores at this load\" = total x calls listening / 60: the share of the "
                "machine's %s cores that the listening calls keep busy." % cores, ""]
        fl = [r for r in (floor or {}).get("runs", []) if r.get("cpu_s_per_call_minute")]
        # The module's side of the comparison: repeats in which every call listened and the
        # machine did not stop (a stop leaves few calls listening over the same CPU, which
        # says nothing about listening); at the floor's count, else at the largest such count.
        calm = [r for r in runs if r.get("cpu_s_per_call_minute") and r["listened"] == r["n"]
                and (r.get("machine_stall_s_max") or 0) < 2]
        for fn in sorted({r["n"] for r in fl}):
            frs = [r for r in fl if r["n"] == fn]
            fa = med([r["cpu_s_per_call_minute"]["asterisk"] for r in frs])
            basis = fn if any(r["n"] == fn for r in calm) else max(
                [r["n"] for r in calm], default=fn)
            mine = [r for r in calm if r["n"] == basis]
            tot = med([r["cpu_s_per_call_minute"]["total"] for r in mine])
            ast = med([r["cpu_s_per_call_minute"]["asterisk"] for r in mine])
            out += ["**Floor** (same run): %d calls to the same phones with Asterisk alone on the "
                    "calling side (context `stack-selftest`: a prompt, then `Wait(15)`, which reads "
                    "the phone's frames and drops them; no EAGI, no PHP, no core), %d repeats: "
                    "%.3f CPU s per call-minute (spread %s, window %s s). With the module "
                    "(%s), listening costs %s that (Asterisk's own share %s: feeding the EAGI "
                    "pipe)." % (
                        fn, len(frs), fa, spread([r["cpu_s_per_call_minute"]["asterisk"]
                                                  for r in frs]),
                        f(med([r["window"]["seconds"] for r in frs])),
                        ("%d calls, %d repeats in which every call listened and the machine did "
                         "not stop" % (basis, len(mine))) + (
                            "" if basis == fn else "; none of the %d-call repeats was such a "
                            "run" % fn) if mine else "no repeat in which every call listened "
                        "and the machine did not stop",
                        f(tot / fa if tot and fa else None, "%.1fx"),
                        f(ast / fa if ast and fa else None, "%.1fx")), ""]
        out += ["| calls | answers intact | late, not lost | Asterisk voice-queue drops | "
                "phone playback stretch (max) | sessions refused by MariaDB | DB connections "
                "per call | status webhooks received | API refusals |",
                "|---|---|---|---|---|---|---|---|---|"]
        for n in sorted({r["n"] for r in runs}):
            rs = [r for r in runs if r["n"] == n]
            per = [r["memory"]["db_connections_per_call"] for r in rs
                   if r.get("memory") and r["memory"].get("db_connections_per_call") is not None]
            out.append("| %d | %d/%d | %d | %d (%d calls) | %s | %d (max_connections %s) | %s | %d/%d | %d |" % (
                n, sum(r["answers_intact"] for r in rs), sum(r["answers_checked"] for r in rs),
                sum(r["answers_late_not_lost"] for r in rs), sum(r["queue_drops"] for r in rs),
                sum(r["calls_with_queue_drops"] for r in rs),
                f(max([r["phone_stretch_max"] or 0 for r in rs]), "%.2f"),
                sum(r.get("sessions_refused_by_db", 0) for r in rs),
                rs[0].get("db_max_connections", "?"), f(med(per), "%.1f"),
                sum(sum(r["outcomes"].values()) for r in rs), sum(r["queued"] for r in rs),
                sum(len(r["refused"]) for r in rs)))
        out.append("")
        notes = []
        for r in runs:
            if not r.get("cpu_s_per_call_minute"):
                notes.append("n=%d repeat %d: no window (%s)" % (
                    r["n"], r["repeat"], r.get("why_no_window", "shorter than two samples")))
            bad = {k: v for k, v in r["outcomes"].items() if k != "answered"}
            if bad:
                notes.append("n=%d repeat %d: outcomes %s" % (r["n"], r["repeat"], r["outcomes"]))
            if r.get("other_channels_before"):
                notes.append("n=%d repeat %d: %d channels of other work were up when it started" % (
                    r["n"], r["repeat"], r["other_channels_before"]))
        if notes:
            out += ["Notes: " + "; ".join(notes) + ".", ""]
        big = [r for r in runs if r["n"] == max(x["n"] for x in runs)]
        nbig = big[0]["n"] if big else 0
        asked = sum(r["n"] for r in big)
        listened = sum(r["listened"] for r in big)
        intact_n = sum(r["answers_intact"] for r in big)
        checked = sum(r["answers_checked"] for r in big)
        drops = sum(r["queue_drops"] for r in big)
        out += ["**How audio loss is checked.** The phones' audio reaches the core bit-exact "
                "(8 kHz signed linear end to end, no transcoding), so every call's kept answer "
                "(`answers/<id>-1.wav`) must hold the phone's phrase as one exact run of samples: "
                "from its first to its last sample louder than 64, found in the phrase file sample "
                "for sample, covering at least 95 % of the phrase's sound (the endpointer keeps "
                "200 ms after the last loud frame). One lost, repeated or altered 20 ms frame "
                "breaks the run. An answer whose pieces between runs of >= 200 ms of exact zeros are "
                "each an exact run of the phrase, in order, counts as \"late, not lost\": no frame "
                "came for 200 ms and the core filled the wait with silence, as it does for a far "
                "end that stops sending, but every frame arrived. Answers that fail the check are "
                "copied to the results folder (answers-not-intact/). For the "
                "whole call, including step 2's pause, Asterisk's log is searched for "
                "\"Exceptionally long voice queue length\" on the core's side of each call while "
                "its session runs: Asterisk drops queued voice frames then. \"Phone playback "
                "stretch\" is how much longer than the phrase file the test phone took to play "
                "it (1.00 = real time): above 1 the machine could not keep the phones in time.",
                "",
                "Target (%d listening calls without audio loss): %s." % (
                    nbig, ("met: %d of %d calls counted as listening, %d of %d answers intact, "
                           "no voice-queue drops" % (listened, asked, intact_n, checked))
                    if listened == asked and intact_n == checked and not drops else
                    ("NOT met: %d of %d calls counted as listening, %d of %d "
                     "answers intact (%d late, not lost), %d voice-queue drops%s" % (
                         listened, asked, intact_n, checked,
                         sum(r["answers_late_not_lost"] for r in big), drops,
                         machine_stall_note(big)))), ""]
        # MariaDB's connections at the largest N, as measured in this run.
        per = med([r["memory"]["db_connections_per_call"] for r in big
                   if r.get("memory") and r["memory"].get("db_connections_per_call") is not None])
        per_php = med([r["memory"].get("db_connections_php_per_call") for r in big
                       if r.get("memory")])
        apache_db = med([r["memory"].get("db_connections_apache") for r in big
                         if r.get("memory")])
        peaks = [r["db_connections_peak"] for r in big if r.get("db_connections_peak") is not None]
        before = med([r.get("db_connections_before") for r in big])
        db_max = big[0].get("db_max_connections", "?") if big else "?"
        refused_db = sum(r.get("sessions_refused_by_db", 0) for r in big)
        too_many = sum((r.get("applog") or {}).get("too_many_connections", 0) for r in big)
        if per is not None or peaks:
            out += ["Database connections at %d calls (MariaDB's Threads_connected, sampled every "
                    "second): %s before the calls (median of the repeats), %s per call listening "
                    "above that in the middle of the window (the table's column). Then the calls' "
                    "own PHP processes held %s connections per call and Apache's processes %s "
                    "in all (their sockets to MariaDB, from /proc). Threads_connected was %s at "
                    "the peak of a run (max of the repeats; max_connections %s); %d sessions "
                    "refused at their start and %s \"Too many connections\" lines in apicall.log "
                    "during these runs." % (
                        nbig, f(before, "%.0f"), f(per, "%.1f"), f(per_php, "%.2f"),
                        f(apache_db, "%.0f"),
                        "%d" % max(peaks) if peaks else "-", db_max, refused_db,
                        "%d" % too_many if any("applog" in r for r in big) else "-"), ""]
        why = []
        if refused_db:
            why.append("%d sessions ended at their start because MariaDB refused a connection "
                       "(\"Too many connections\"): the stack's MariaDB allows %s and the "
                       "connections peaked at %s" % (
                           refused_db, db_max, "%d" % max(peaks) if peaks else "?"))
        api_refused = sum(len(r["refused"]) for r in big)
        if api_refused:
            codes = sorted({c for r in big for c in r["refused"]})
            why.append("%d calls were refused by the API (HTTP %s)" % (
                api_refused, ", ".join(str(c) for c in codes)))
        calls = [c for r in big for c in r.get("calls", [])]
        no_end = sum(1 for c in calls if c.get("step1") and not c.get("step2"))
        no_step2 = sum(1 for c in calls if not c.get("step1"))
        if no_end:
            text = ("%d calls went on to step 2's pause (their step-1 webhook arrived) but "
                    "the module gave up on the webhook at its end (apicall.log: \"webhook "
                    "failed\"), so they are not counted as listening" % no_end)
            hit = [r for r in big
                   if any(c.get("step1") and not c.get("step2") for c in r.get("calls", []))]
            # Results from before the receiver got a process of its own: a stalled sampler
            # held the receiver's GIL too.
            stall = max([r.get("sampler_mem_s_max") or 0 for r in hit
                         if not r.get("receiver_own_process")] or [0])
            if stall > 2:
                text += ("; in those runs the bench's /proc sampler, in the same Python process "
                         "as the receiver, stalled for up to %.1f s, so the bench itself may "
                         "have answered too late" % stall)
            own = [r for r in hit if r.get("receiver_own_process")]
            delay = [r["receiver_delay_s_max"] for r in own
                     if r.get("receiver_delay_s_max") is not None]
            late = sum((r.get("webhooks_after_sender_gave_up") or {}).get("/next2", 0)
                       for r in own)
            waited = [r["webhooks_after_sender_gave_up_waited_s_max"] for r in own
                      if r.get("webhooks_after_sender_gave_up_waited_s_max") is not None]
            if delay:
                text += ("; the bench's receiver, a process of its own, answered the webhooks "
                         "it got in time within %.2f s of their arrival in its socket (max of "
                         "those runs)" % max(delay))
            if late:
                # Little time in the socket (the module's timeout is seconds): the request
                # itself came late; much: the receiver read it late.
                w = max(waited or [0])
                text += ("; %d of these webhooks reached the receiver only after the module had "
                         "given up on them (the reply found the connection closed), having "
                         "waited at most %.2f s in its socket%s" % (
                             late, w, ": they left the module late" if w < 1 else
                             ": the receiver read them late"))
                stalls = [r["receiver_stall_s_max"] for r in own if "receiver_stall_s_max" in r]
                if stalls and w >= 1:
                    text += ("; the receiver's event loop %s" % (
                        "itself stalled for up to %.1f s (its process did not run)" % max(stalls)
                        if max(stalls) > 1 else
                        "kept running (no stall over 0.6 s), so the requests waited with the "
                        "receiver idle: not understood yet"))
            why.append(text)
        if no_step2 > refused_db:
            why.append("%d calls did not reach step 2 (their step-1 webhook never arrived; "
                       "see the notes above and apicall.log)" % (no_step2 - refused_db))
        if too_many and not refused_db:
            why.append("MariaDB refused %d connections (\"Too many connections\" in "
                       "apicall.log; Threads_connected peaked at %s of %s)" % (
                           too_many, "%d" % max(peaks) if peaks else "?", db_max))
        late = sum(r["answers_late_not_lost"] for r in big)
        stretch = max([r["phone_stretch_max"] or 0 for r in big] or [0])
        busy = [r["setup_machine_busy_share"] for r in big
                if r.get("setup_machine_busy_share") is not None]
        if late or checked > intact_n or stretch > 1.05:
            parts = []
            if late:
                parts.append("%d answers had a gap of 200 ms or more (frames late, none lost)" % late)
            if checked - intact_n - late > 0:
                parts.append("%d answers lost or altered frames" % (checked - intact_n - late))
            if stretch > 1.05:
                parts.append("the test phones themselves fell behind real time (they took up to "
                             "%.1fx the phrase's length to play it)" % stretch)
            text = " and ".join(parts)
            if busy:
                text += ("; while the calls were set up (first POST to the last call listening) "
                         "the machine's CPUs were %.0f %% busy (median of the repeats, max %.0f "
                         "%%)%s" % (100 * med(busy), 100 * max(busy),
                                    ": the CPU was short" if max(busy) >= 0.9 else ""))
            why.append(text)
        lost_status = sum(r["queued"] - sum(r["outcomes"].values()) for r in big)
        if lost_status > 0:
            logged = [r.get("applog") for r in big if r.get("applog")]
            not_stored = sum(x["status_not_stored"] for x in logged)
            not_deliv = sum(x["status_not_delivered"] for x in logged)
            text = "%d of %d status webhooks did not come during the run" % (
                lost_status, sum(r["queued"] for r in big))
            if logged:
                text += ("; apicall.log during these runs: %d \"status event could not be "
                         "stored\" and %d \"status event not delivered\" (a delivery to be "
                         "retried) lines" % (not_stored, not_deliv))
            why.append(text)
        if why:
            out += ["Why: " + "; ".join(why) + ".", ""]
    else:
        out += ["Listening calls not measured in this run.", ""]
    if endp:
        out += ["**Endpointer alone** (`cost_per_frame` in rust/speech/src/endpoint.rs: a "
                "recorded stream, speech in noise, fed 20 ms at a time, 20 rounds):", "",
                "| build | ns per 20 ms frame (median) | runs | spread | share of a frame's 20 ms | "
                "CPU s per call-minute |", "|---|---|---|---|---|---|"]
        for build, vals in endp.items():
            if not vals:
                continue
            mm = statistics.median(vals)
            out.append("| %s | %.0f | %s | %s | %.4f %% | %.6f |" % (
                build, mm, ", ".join("%.0f" % v for v in vals), spread(vals), 100 * mm / 20e6,
                mm * 3000 / 1e9))
        out.append("")
    return out


def turn_section(turn):
    out = ["## 3. Turn timing", ""]
    if not turn:
        return out + ["Not measured in this run.", ""]
    calls = turn["calls"]
    present = any(c.get("timings_present") for c in calls)
    out += ["%d calls, one after another (2.5 s apart), to test phones 2005N (phrases 1-9 of "
            "tests/stack/phrases.txt), `EndOfSpeakSilenceLength` 0.5 s (the default), "
            "`UserAnswerSTT` on (local service, whisper tiny.en). The webhook answers with a "
            "step whose prompt is either the step-1 text again (TTS cached) or a new text (TTS "
            "made then). Inside figures are the webhook payloads' `Timings` (ms, from the end "
            "of speech as the endpointer places it); outside figures come from the Asterisk log "
            "(the phone's Playback of the phrase ended, minus the phrase file's trailing "
            "silence; the next prompt's `Playing` line) and the receiver's clock." % len(calls),
            ""]
    if not present:
        out += ["The payloads carry no `Timings` object yet (the field is pending in the "
                "core): only the outside figures below are measured.", ""]
    rows = [
        ("end of speech -> end detected (`endpointed_ms`)", [c.get("endpointed_ms") for c in calls]),
        ("end of speech -> transcript ready (`transcribed_ms`)", [c.get("transcribed_ms") for c in calls]),
        ("end of speech -> webhook POST sent (`webhook_sent_ms`)", [c.get("webhook_sent_ms") for c in calls]),
        ("outside: end of speech -> webhook received", [c.get("outside_webhook_ms") for c in calls]),
        ("webhook reply -> next prompt's first audio, TTS cached (`first_audio_ms`)",
         [c.get("first_audio_ms") for c in calls if c["cached"]]),
        ("same, TTS made now (`first_audio_ms`)", [c.get("first_audio_ms") for c in calls if not c["cached"]]),
        ("outside: webhook reply sent -> `Playing` line, TTS cached",
         [c.get("outside_first_audio_ms") for c in calls if c["cached"]]),
        ("outside: same, TTS made now", [c.get("outside_first_audio_ms") for c in calls if not c["cached"]]),
    ]
    out += ["| interval | median ms | p99 ms | min-max ms | n |", "|---|---|---|---|---|"]
    for label, vals in rows:
        s = b.summary(vals)
        if not s["n"]:
            out.append("| %s | - | - | - | 0 |" % label)
            continue
        out.append("| %s | %.0f | %.0f | %.0f-%.0f | %d |" % (label, s["median"], s["p99"],
                                                             s["min"], s["max"], s["n"]))
    out.append("")
    ep = [c.get("endpointed_ms") for c in calls if c.get("endpointed_ms") is not None]
    if ep:
        target = turn.get("end_silence_ms", 500) + 20
        out += ["Target (a) end detected within EndOfSpeakSilenceLength plus one frame (%d ms): "
                "%s (max %d ms by the payload). The payload counts samples from the last frame "
                "the endpointer heard as speech; the outside figures count from the phrase file's "
                "last sample louder than 64, which comes later (a word's quiet tail), so they read "
                "a few tens of ms shorter: the two agree on what happens after the end of "
                "speech, not on where it is." % (target, "met" if max(ep) <= target else "NOT met",
                                                 max(ep)), ""]
    errs = sum(c.get("errors", 0) for c in calls if "errors" in c)
    words = sum(c.get("words", 0) for c in calls if "words" in c)
    if words:
        out += ["Speech-to-text through the whole call path (phone -> Asterisk -> EAGI -> endpointer "
                "-> local service): %d errors in %d words, word accuracy %.1f %%." % (
                    errs, words, 100.0 * (words - errs) / words), ""]
    return out


def speech_section(sp):
    out = ["## 4. Speech (local TTS and STT)", ""]
    if not sp:
        return out + ["Not measured in this run.", ""]
    out += ["Real-time factor = processing time / audio duration (lower is faster; 0.1 = ten "
            "times faster than real time). Medians of the per-repeat medians; spread = (max - "
            "min) / median over the repeats.", "",
            "**Text-to-speech** on tests/speechd/prompts_{en,it}.txt: the local speech service "
            "as the core calls it (POST /v1/audio/speech, WAV 8 kHz, language given, engine "
            "picked by the service), and espeak-ng as a process (the fallback).", "",
            "| engine | prompts | mean audio s | RTF median | spread | RTF p99 (all prompts) |",
            "|---|---|---|---|---|---|"]
    for r in sp.get("tts", []):
        eng = " ".join(x.split("=", 1)[1] for x in r["engine"]) if r["engine"] else ""
        out.append("| %s%s | %d | %.2f | %.3f | %s | %.3f |" % (
            r["what"], " (%s)" % eng if eng else "", r["prompts"], r["audio_s_mean"],
            r["rtf"]["median"], spread(r["rtf_median_per_repeat"]), r["rtf_p99_all"]))
    out.append("")
    if sp.get("stt"):
        out += ["**Speech-to-text**: tests/speechd/bench.py (in-process on the service's engine, "
                "whisper tiny.en, encoder window auto/15 s, no hint prompt) on the 20 phrases of "
                "tests/speechd/phrases_en.txt, spoken by each voice, 8 kHz through G.711 mu-law. "
                "RTF = median STT time per clip / mean clip length.", "",
                "| voices | clips | mean clip s | word accuracy | WER | STT ms median | RTF median | "
                "spread |", "|---|---|---|---|---|---|---|---|"]
        for r in sp["stt"]:
            out.append("| %s | %d | %.2f | %.1f %% | %.1f %% (%d/%d) | %s | %.3f | %s |" % (
                r["voices"], r["clips"], r["clip_s_mean"], r["word_accuracy"], r["wer"],
                r["errors"], r["words"], ", ".join(str(x) for x in r["ms_median_per_repeat"]),
                r["rtf"]["median"], spread(r["ms_median_per_repeat"])))
        out.append("")
    return out


def memory_section(listen):
    out = ["## 5. Memory per concurrent call", ""]
    runs = [r for r in (listen or {}).get("runs", []) if r.get("memory")]
    if not runs:
        return out + ["Not measured in this run.", ""]
    out += ["Read from /proc/<pid>/smaps_rollup in the middle of each listening window (part 2). "
            "Asterisk's growth is its RSS then minus its RSS just before the calls, per call "
            "listening. A PHP process's RSS counts the PHP binary and libraries it shares with "
            "the others; PSS splits shared pages between the processes that map them, so PSS "
            "per call is closer to what one more call costs. Medians over the repeats. DB "
            "connections: MariaDB's Threads_connected then minus before, per call.", "",
            "| calls listening | PHP RSS MB | PHP PSS MB | Asterisk growth MB/call | "
            "**per call (PSS) MB** | per call (RSS) MB | DB connections per call |",
            "|---|---|---|---|---|---|---|"]
    for n in sorted({r["n"] for r in runs}):
        rs = [r for r in runs if r["n"] == n]
        ms = [r["memory"] for r in rs]
        out.append("| %s | %.1f | %.1f | %.2f | **%.1f** | %.1f | %s |" % (
            rng([r["listened"] for r in rs], "%d"),
            med([m["php_rss_kb_median"] for m in ms]) / 1024,
            med([m["php_pss_kb_median"] for m in ms]) / 1024,
            med([m["asterisk_delta_kb_per_call"] for m in ms]) / 1024,
            med([m["per_call_pss_kb"] for m in ms]) / 1024,
            med([m["per_call_rss_kb"] for m in ms]) / 1024,
            f(med([m.get("db_connections_per_call") for m in ms]), "%.1f")))
    out.append("")
    return out


RERUN = """## How to rerun each figure

Everything: `make bench` (brings the stack up with `make up` first; rewrites this file). Parts,
against a running stack (`make up`), as root, from the repository root; each prints its figures
and writes JSON to `.stack/bench/results/` (or `$BENCH_OUT`):

| figure | command |
|---|---|
| all, one part or a few | `BENCH_PARTS=api,turn make bench` (parts: endpointer, api, listen, floor, turn, speech) |
| 1. API | `.stack/venv/bin/python tests/bench/api.py --seconds 2 --repeats 3 --conns 1,8,32` (needs the floor pages, `max_concurrent_calls` raised and the release build loaded: `BENCH_PARTS=api make bench` does all three; see tests/bench/README.md) |
| 2. listening cost, 5. memory | `.stack/venv/bin/python tests/bench/calls.py listen --n 1,10,50,100 --repeats 3` (with `max_concurrent_calls` above 100) |
| 2. listening floor | `.stack/venv/bin/python tests/bench/calls.py floor --n 100 --repeats 3` |
| 2. endpointer alone | `cargo test --release -p apicall-speech cost_per_frame -- --nocapture` (and without `--release`) |
| 3. turn timing | `.stack/venv/bin/python tests/bench/calls.py turn --calls 10` |
| 4. speech | `.stack/venv/bin/python tests/bench/speech.py --repeats 3`; STT alone: `.stack/speech-venv/bin/python tests/speechd/bench.py --voices flite --configs auto15 --hints off` |
| this file from a results folder | `.stack/venv/bin/python tests/bench/report.py .stack/bench/results/<time> BENCHMARKS.md` |

`BENCH_REPEATS` (3), `BENCH_API_SECONDS` (2), `BENCH_LISTEN_N` (1,10,50,100) and `BENCH_BUILD`
(release; debug measures the build `make up` loads) change the defaults of `make bench`.
"""


def main():
    d, dest = sys.argv[1], sys.argv[2]
    facts = load(d, "facts") or {}
    durations = {}
    p = os.path.join(d, "durations.txt")
    if os.path.exists(p):
        for line in open(p):
            k, v = line.split()
            durations[k] = int(v)
    endp = {}
    for build, name in (("release", "endpointer.txt"), ("debug (what `make up` loads)",
                                                        "endpointer-debug.txt")):
        q = os.path.join(d, name)
        if os.path.exists(q):
            endp[build] = [float(m) for m in re.findall(r"endpointer: ([\d.]+) ns", open(q).read())]
    out = ["# Benchmarks", "",
           "Written by `make bench` (tests/bench/) on %s, commit %s%s. Numbers move with the "
           "machine: on these shared machines read the ratios against the floors and baselines "
           "measured in the same run rather than the absolute values." % (
               facts.get("date_utc", "?"), facts.get("commit", "?"),
               " with uncommitted changes" if facts.get("dirty") else ""), "",
           "| machine | |", "|---|---|",
           "| CPU | %s, %s cores |" % (facts.get("cpu", "?"), facts.get("cores", "?")),
           "| memory | %s GiB |" % facts.get("mem_gib", "?"),
           "| system | %s, kernel %s |" % (facts.get("os", "?"), facts.get("kernel", "?")),
           "| stack | %s; PHP %s (mod_php, prefork, 20 workers max); %s; MariaDB %s |" % (
               facts.get("asterisk", "?"), facts.get("php", "?"), facts.get("apache", "?"),
               facts.get("mariadb", "?")),
           "| extension (build measured) | %s |" % build_text(facts),
           "| tools | %s; %s |" % (facts.get("rustc", "?"), facts.get("wrk", "?")),
           "| load average (1/5/15 min) | start %s, end %s |" % (
               " / ".join("%.1f" % x for x in facts.get("load_start", [])) or "?",
               " / ".join("%.1f" % x for x in facts.get("load_end", [])) or "?"),
           ""]
    if durations:
        builds = []
        if "release-build-ext" in durations:
            builds.append("the release build of the extension (`cargo build --release -p "
                          "apicall-php`) %d s" % durations["release-build-ext"])
        if "release-build" in durations:
            builds.append("the release build of apicall-speech's tests (endpointer part) %d s"
                          % durations["release-build"])
        out += ["`make bench` took %s s (after `make up`): %s.%s Where nothing was built in "
                "release yet (only `make up` or `make test` ran), the first release build "
                "compiles every dependency: expect a few minutes more on a 2-core machine." % (
                    durations.get("total", "?"),
                    ", ".join("%s %d s" % (k, v) for k, v in durations.items()
                              if k not in ("total", "release-build", "release-build-ext")),
                    (" Builds in this run, before measuring: %s." % "; ".join(builds))
                    if builds else ""), ""]
    listen = load(d, "listen")
    out += api_section(load(d, "api"), facts)
    out += listen_section(listen, endp, facts.get("cores", "?"), load(d, "floor"))
    out += turn_section(load(d, "turn"))
    out += speech_section(load(d, "speech"))
    out += memory_section(listen)
    extra = os.path.join(os.path.dirname(os.path.abspath(__file__)), "NOTES.md")
    if os.path.exists(extra):
        out += [open(extra).read().rstrip(), ""]
    out += [RERUN]
    with open(dest + ".tmp", "w") as fh:
        fh.write("\n".join(out).rstrip() + "\n")
    os.rename(dest + ".tmp", dest)


if __name__ == "__main__":
    main()

