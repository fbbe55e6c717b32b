#!/usr/bin/env python3
"""Part 4 of `make bench`: local text-to-speech and speech-to-text.

TTS  real-time factor (synthesis wall time / audio seconds) of the local speech service as the
     core asks it (POST /v1/audio/speech, WAV at 8 kHz, by language: the service picks engine
     and voice) on tests/speechd/prompts_{en,it}.txt, and of espeak-ng run as a process (what
     the core falls back to). Each prompt set is spoken `repeats` times.
STT  tests/speechd/bench.py (in-process on the service's own engine: Whisper tiny.en, encoder
     window auto/15 s, no hint prompt, which is what the service does for an answer without
     SpeechContext) on the fixed phrase set tests/speechd/phrases_en.txt spoken by 4 flite
     voices (`repeats` passes for the timing; the words are the same every pass: greedy
     decoding), 8 kHz through G.711 mu-law; with BENCH_STT_ESPEAK=1 also by the 6 espeak-ng
     voices of tests/speechd/README.md (one pass; espeak-ng at 8 kHz is hard for any listener).
     RTF = median STT ms per clip / mean clip length.

  .stack/venv/bin/python tests/bench/speech.py [--repeats 3]
"""

import argparse
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

SPEECHD = "http://127.0.0.1:8765"
SPEECH_PY = os.path.join(b.STACK, "speech-venv", "bin", "python")
PROMPTS = os.path.join(b.REPO, "tests", "speechd", "prompts_%s.txt")


def prompts(lang):
    with open(PROMPTS % lang, encoding="utf-8") as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]


def wav_seconds(data):
    with wave.open(io.BytesIO(data)) as w:
        return w.getnframes() / float(w.getframerate())


def tts_service(text, language):
    body = json.dumps({"model": "auto", "input": text, "response_format": "wav",
                       "sample_rate": 8000, "language": language}).encode()
    req = urllib.request.Request(SPEECHD + "/v1/audio/speech", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    t0 = time.monotonic()
    with urllib.request.urlopen(req, timeout=60) as r:
        data = r.read()
        hdr = {k.lower(): v for k, v in r.headers.items() if k.lower().startswith("x-")}
    el = time.monotonic() - t0
    return el, wav_seconds(data), hdr


def tts_espeak(text, voice):
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        t0 = time.monotonic()
        subprocess.run(["espeak-ng", "-v", voice, "-w", tmp.name, "--", text], check=True)
        el = time.monotonic() - t0
        with open(tmp.name, "rb") as f:
            return el, wav_seconds(f.read()), {}


def tts(repeats):
    rows = []
    for label, lang, fn, arg in (("service en-US", "en", tts_service, "en-US"),
                                 ("service it-IT", "it", tts_service, "it-IT"),
                                 ("espeak-ng en-us", "en", tts_espeak, "en-us"),
                                 ("espeak-ng it", "it", tts_espeak, "it")):
        texts = prompts(lang)
        fn(texts[0], arg)                                   # warm-up
        per_rep, all_rtf, engines, secs = [], [], set(), []
        for _ in range(repeats):
            rtf = []
            for t in texts:
                el, dur, hdr = fn(t, arg)
                rtf.append(el / dur)
                secs.append(dur)
                for k, v in hdr.items():
                    if "engine" in k or "voice" in k:
                        engines.add("%s=%s" % (k, v))
            per_rep.append(statistics.median(rtf))
            all_rtf.extend(rtf)
        row = {"what": label, "prompts": len(texts), "audio_s_mean": statistics.mean(secs),
               "rtf_median_per_repeat": per_rep, "rtf": b.summary(per_rep),
               "rtf_p99_all": b.pct(all_rtf, 99), "engine": sorted(engines)}
        rows.append(row)
        b.log("tts %-16s RTF median %.3f (repeats %s), p99 %.3f, mean audio %.2f s %s" % (
            label, row["rtf"]["median"], ", ".join("%.3f" % x for x in per_rep),
            row["rtf_p99_all"], row["audio_s_mean"], " ".join(sorted(engines))))
    return rows


def stt(repeats):
    out = []
    sets = [("flite", ",".join(["auto15"] * repeats))]
    if os.environ.get("BENCH_STT_ESPEAK"):
        sets.append((None, "auto15"))
    for voices, configs in sets:
        with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
            cmd = [SPEECH_PY, os.path.join(b.REPO, "tests", "speechd", "bench.py"),
                   "--lang", "en", "--configs", configs, "--hints", "off", "--json", tmp.name]
            if voices:
                cmd += ["--voices", voices]
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
            if p.returncode != 0:
                raise RuntimeError("bench.py failed: %s" % p.stderr[-2000:])
            m = re.search(r"(\d+) clips \((\d+) voices x (\d+) phrases\), mean ([\d.]+) s", p.stdout)
            with open(tmp.name) as f:
                rows = json.load(f)
        clips, nvoices, nphr, mean_s = int(m.group(1)), int(m.group(2)), int(m.group(3)), \
            float(m.group(4))
        ms = [r["ms_median"] for r in rows]
        rtf = [x / (1000 * mean_s) for x in ms]
        res = {"voices": voices or "espeak-ng (6 voices)", "clips": clips,
               "phrases": nphr, "voices_n": nvoices, "clip_s_mean": mean_s,
               "model": rows[0]["model"], "wer": rows[0]["wer"],
               "word_accuracy": 100 - rows[0]["wer"], "errors": rows[0]["errors"],
               "words": rows[0]["words"], "ms_median_per_repeat": ms,
               "ms_p90_per_repeat": [r["ms_p90"] for r in rows],
               "ms_max_per_repeat": [r["ms_max"] for r in rows],
               "rtf": b.summary(rtf), "per_voice": rows[0]["per_voice"]}
        out.append(res)
        b.log("stt %s: WER %.1f %% (%d/%d words), %d clips of %.2f s mean; STT ms median per "
              "repeat %s -> RTF %.3f" % (res["voices"], res["wer"], res["errors"], res["words"],
                                          clips, mean_s, ms, res["rtf"]["median"]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=int(os.environ.get("BENCH_REPEATS", 3)))
    ap.add_argument("--skip-stt", action="store_true")
    args = ap.parse_args()
    res = {"tts": tts(args.repeats)}
    if not args.skip_stt:
        res["stt"] = stt(args.repeats)
    b.save("speech", res)


if __name__ == "__main__":
    main()
