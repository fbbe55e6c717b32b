#!/usr/bin/env python3
"""Intelligibility and speed of apicall-speechd's text-to-speech engines, measured the way
LOCAL-SPEECH.md did: each engine speaks the fixed prompt set (prompts_<lang>.txt, plus the
answers of phrases_<lang>.txt where there is one), with 0.2 s / 0.3 s of silence around it, the audio
goes through 8 kHz G.711 mu-law with sox (as Asterisk carries it), and the service's own
Whisper transcribes it back (no hint prompt); word error rate against the text. Also the WER
at the engine's own rate (no telephone channel) and the real-time factor (synthesis time /
audio time, the engine as the service runs it: a process per request for pico and espeak,
the piper voice loaded once). In-process on the service's own code.

  .stack/speech-venv/bin/python tests/speechd/bench_tts.py [--lang en,it,de,es,fr]
      [--engines pico:en-US,piper:joe,...] [--json OUT] [--misses]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import speechlib  # noqa: E402

# engine:voice candidates per language (the service's default choice is among them)
CANDIDATES = {
    "en": ["pico:en-US", "pico:en-GB", "piper:joe", "espeak:en-us", "espeak:en-gb"],
    "it": ["pico:it-IT", "espeak:it"],
    "de": ["pico:de-DE", "espeak:de"],
    "es": ["pico:es-ES", "espeak:es"],
    "fr": ["pico:fr-FR", "espeak:fr-fr"],
}


def padded(pcm, rate):
    """0.2 s of silence before and 0.3 s after, as the STT bench's clips have: Whisper tends
    to drop a last word that ends right at the end of the audio."""
    import numpy as np
    return np.concatenate([np.zeros(int(0.2 * rate), np.int16), pcm,
                           np.zeros(int(0.3 * rate), np.int16)])


def telephone(pcm, rate, tmp):
    """int16 PCM -> the bytes of an 8 kHz mu-law WAV made by sox (as the phone line has it)."""
    svc = speechlib.service_module_cached()
    src = os.path.join(tmp, "in.wav")
    dst = os.path.join(tmp, "ulaw.wav")
    with open(src, "wb") as f:
        f.write(svc.wav_bytes(pcm, rate))
    # -D: no dither, as a G.711 encoder in Asterisk (and repeatable numbers)
    subprocess.run(["sox", "-D", src, "-r", "8000", "-c", "1", "-e", "mu-law", dst], check=True)
    with open(dst, "rb") as f:
        return f.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lang", default="en,it,de,es,fr")
    ap.add_argument("--engines", help="engine:voice list (default: every candidate)")
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json")
    ap.add_argument("--misses", action="store_true", help="print every transcript that differs")
    args = ap.parse_args()

    svc = speechlib.service_module_cached()
    tts = svc.Speaker(threads=args.threads)
    tts.discover()
    stt = svc.Engine(os.path.join(speechlib.STACK, "speechd", "models"), threads=args.threads)
    stt.discover(prepare=True)
    tmp = tempfile.mkdtemp(prefix="bench-tts-")
    rows = []
    print("| language | engine:voice | WER 8 kHz mu-law | WER engine rate | RTF median | "
          "synth ms median | audio s mean | STT model |")
    print("|---|---|---|---|---|---|---|---|")
    for lang in args.lang.split(","):
        texts = speechlib.phrases(lang, "prompts")
        if os.path.exists(os.path.join(speechlib.HERE, "phrases_%s.txt" % lang)):
            texts += speechlib.phrases(lang, "phrases")        # the answers set too
        name, code = stt.choose(None, lang)
        stt.load(name)
        cands = args.engines.split(",") if args.engines else CANDIDATES[lang]
        for cand in cands:
            ename, voice = cand.split(":", 1)
            engine = tts.engines.get(ename)
            if engine is None or not engine.available:
                print("| %s | %s | not installed | | | | | |" % (lang, cand))
                continue
            voice = engine.find_voice(voice)
            if ename == "piper":
                engine.load(voice)
                engine.synthesize("warm up", voice, 1.0)
            pairs_tel, pairs_hi, rtf, ms, secs = [], [], [], [], []
            for text in texts:
                t0 = time.monotonic()
                pcm, rate = engine.synthesize(text, voice, args.speed)
                el = time.monotonic() - t0
                dur = len(pcm) / rate
                rtf.append(el / dur)
                ms.append(el * 1000)
                secs.append(dur)
                pcm = padded(pcm, rate)
                for audio_bytes, pairs in ((telephone(pcm, rate, tmp), pairs_tel),
                                           (svc.wav_bytes(pcm, rate), pairs_hi)):
                    audio = svc.decode_audio(audio_bytes)
                    segs, _, _, _ = stt.transcribe(audio, name, code, None)
                    pairs.append((text, "".join(s.text for s in segs).strip()))
            e_tel, n = speechlib.wer(pairs_tel)
            e_hi, _ = speechlib.wer(pairs_hi)
            row = {"lang": lang, "engine": ename, "voice": voice, "stt": name,
                   "wer_8k_mulaw": round(100.0 * e_tel / n, 1), "errors_8k_mulaw": e_tel,
                   "wer_engine_rate": round(100.0 * e_hi / n, 1), "words": n,
                   "rtf_median": round(statistics.median(rtf), 3),
                   "synth_ms_median": round(statistics.median(ms), 1),
                   "audio_s_mean": round(statistics.mean(secs), 2), "rate": rate,
                   "misses": [(r, h) for r, h in pairs_tel
                              if speechlib.normalize(r) != speechlib.normalize(h)]}
            rows.append(row)
            print("| %s | %s:%s | %.1f %% (%d/%d) | %.1f %% | %.3f | %.0f | %.2f | %s |" % (
                lang, ename, voice, row["wer_8k_mulaw"], e_tel, n, row["wer_engine_rate"],
                row["rtf_median"], row["synth_ms_median"], row["audio_s_mean"], name), flush=True)
            if args.misses:
                for r, h in row["misses"]:
                    print("    said %r / heard %r" % (r, h))
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(tts.tmp_dir, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
