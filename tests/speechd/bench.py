#!/usr/bin/env python3
"""Word error rate and latency of apicall-speechd's engine on the fixed phrase sets, spoken by
several espeak-ng voices at 8 kHz through mu-law, per decoding setting (encoder window, hint
prompt). Runs in-process on the service's own Engine code (the models are loaded once).

  .stack/speech-venv/bin/python tests/speechd/bench.py [--lang en|it] [--voices v1,v2]
      [--configs full,auto10,auto5,...] [--hints] [--json OUT]
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import speechlib  # noqa: E402

VOICES = {
    "en": ["en-us+m3", "en-gb", "en-gb-x-rp+f3", "en-us+f2", "en-029", "en-gb-scotland+m7"],
    "it": ["it", "it+f3", "it+m3"],
    "flite": ["flite:slt", "flite:rms", "flite:awb", "flite:kal16"],   # English, if installed
}
# What an IVR would pass as SpeechContext phrases for these answers: the domain's words,
# not the exact answers.
HINTS = {
    "en": "yes, no, operator, appointment, account number, sales, delivery address, "
          "cancel, confirm, repeat the message, call me back, email, Monday, Friday",
    "it": "sì, no, operatore, appuntamento, prenotazione, confermo, annulla, richiami, "
          "messaggio, grazie",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lang", default="en")
    ap.add_argument("--voices")
    ap.add_argument("--configs", default="full,auto15,auto10")
    ap.add_argument("--hints", choices=("off", "on", "both"), default="both")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default=None)
    ap.add_argument("--json")
    args = ap.parse_args()

    svc = speechlib.service_module()
    voices = args.voices.split(",") if args.voices else VOICES[args.lang]
    if args.voices in VOICES:
        voices = VOICES[args.voices]
    texts = speechlib.phrases(args.lang)
    clips = [(t, v, speechlib.clip(t, v)) for v in voices for t in texts]
    decoded = [(t, v, svc.decode_audio(open(p, "rb").read())) for t, v, p in clips]
    eng = svc.Engine(os.path.join(speechlib.STACK, "speechd", "models"), threads=args.threads)
    eng.discover(prepare=True)
    name, lang = eng.choose(args.model, args.lang)
    t0 = time.monotonic()
    eng.load(name)
    print("model %s loaded in %.0f ms; %d clips (%d voices x %d phrases), mean %.2f s" % (
        name, (time.monotonic() - t0) * 1000, len(decoded), len(voices), len(texts),
        statistics.mean(len(a) / 16000 for _, _, a in decoded)))
    results = []
    hint_modes = {"off": [False], "on": [True], "both": [False, True]}[args.hints]
    for cfg in args.configs.split(","):
        if cfg == "full":
            eng.window = "full"
        else:
            eng.window, eng.min_window = "auto", int(cfg[4:])
        for hints in hint_modes:
            prompt = svc.hint_prompt(HINTS[args.lang], lang=lang) if hints else None
            eng.transcribe(decoded[0][2], name, lang, prompt)        # warm-up
            pairs, times, per_voice = [], [], {}
            for text, voice, audio in decoded:
                segs, _, ms, _ = eng.transcribe(audio, name, lang, prompt)
                hyp = "".join(s.text for s in segs).strip()
                pairs.append((text, hyp))
                per_voice.setdefault(voice, []).append((text, hyp))
                times.append(ms)
            e, n = speechlib.wer(pairs)
            row = {"model": name, "config": cfg, "hints": hints, "wer": round(100.0 * e / n, 1),
                   "errors": e, "words": n,
                   "ms_median": round(statistics.median(times)), "ms_p90":
                   round(sorted(times)[int(0.9 * len(times)) - 1]), "ms_max": round(max(times)),
                   "per_voice": {v: round(100.0 * speechlib.wer(p)[0] / speechlib.wer(p)[1], 1)
                                 for v, p in per_voice.items()},
                   "misses": [(r, h) for r, h in pairs
                              if speechlib.normalize(r) != speechlib.normalize(h)]}
            results.append(row)
            print("%-7s hints=%-3s WER %5.1f%% (%d/%d)  ms median %d p90 %d max %d  per voice %s"
                  % (cfg, "on" if hints else "off", row["wer"], e, n, row["ms_median"],
                     row["ms_p90"], row["ms_max"], row["per_voice"]), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
