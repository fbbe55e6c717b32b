"""Helpers shared by the speechd tests and bench: speech clips made with espeak-ng + sox,
text normalisation and word error rate, loading bin/apicall-speechd as a module."""

import importlib.machinery
import importlib.util
import os
import re
import subprocess
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
STACK = os.path.join(REPO, ".stack")
SERVICE = os.path.join(REPO, "bin", "apicall-speechd")
CACHE = os.path.join(STACK, "speechd", "clips")


def phrases(lang="en"):
    with open(os.path.join(HERE, "phrases_%s.txt" % lang), encoding="utf-8") as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]


def clip(text, voice, rate=8000, mulaw=True, speed=160):
    """A WAV of `text` spoken by espeak-ng `voice` (or flite's with "flite:NAME"), telephone-like: resampled to `rate` and
    through G.711 mu-law (as Asterisk carries it). Cached under .stack/speechd/clips."""
    os.makedirs(CACHE, exist_ok=True)
    key = re.sub(r"[^a-z0-9]+", "_", "%s_%s_%d_%s_%d" % (voice, text.lower(), rate,
                                                          "ulaw" if mulaw else "pcm", speed))
    path = os.path.join(CACHE, key[:150] + ".wav")
    if os.path.exists(path):
        return path
    raw = path + ".espeak.wav"
    if voice.startswith("flite:"):
        subprocess.run(["flite", "-voice", voice[6:], "-t", text, "-o", raw], check=True)
    else:
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", raw, "--", text],
                       check=True)
    enc = ["-e", "mu-law"] if mulaw else ["-e", "signed-integer", "-b", "16"]
    tmp = path + ".tmp.wav"
    # a little silence before and after, as a caller's answer has
    subprocess.run(["sox", raw, "-r", str(rate), "-c", "1"] + enc + [tmp, "pad", "0.2", "0.3"],
                   check=True)
    os.rename(tmp, path)
    os.unlink(raw)
    return path


NUMBERS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
    "uno": "1", "due": "2", "tre": "3", "quattro": "4", "cinque": "5", "sei": "6",
    "sette": "7", "otto": "8", "nove": "9", "dieci": "10",
}
CONTRACTIONS = {
    "don't": "do not", "i'm": "i am", "i'd": "i would", "that's": "that is", "it's": "it is",
    "i'll": "i will", "hasn't": "has not", "can't": "can not", "cannot": "can not",
    "won't": "will not", "isn't": "is not",
}


def normalize(text):
    """Lower case, no punctuation or accents, contractions expanded, numbers as single digits."""
    t = unicodedata.normalize("NFKD", text.lower())
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = t.replace("\u2019", "'")
    words = []
    for w in re.split(r"[\s\-]+", t):
        w = w.strip(".,!?;:\"()[]")
        if w in CONTRACTIONS:
            words.extend(CONTRACTIONS[w].split())
            continue
        w = re.sub(r"[^a-z0-9' ]", "", w).replace("'", " ")
        for x in w.split():
            x = NUMBERS.get(x, x)
            if x.isdigit() and x != "10":
                words.extend(list(x))
            elif x:
                words.append(x)
    return words


def edit_distance(ref, hyp):
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def wer(pairs):
    """Word error rate over (reference, hypothesis) pairs: (errors, reference words)."""
    errs = words = 0
    for ref, hyp in pairs:
        r, h = normalize(ref), normalize(hyp)
        errs += edit_distance(r, h)
        words += len(r)
    return errs, words


def service_module():
    """bin/apicall-speechd imported as a module (it has no .py suffix)."""
    loader = importlib.machinery.SourceFileLoader("apicall_speechd", SERVICE)
    spec = importlib.util.spec_from_loader("apicall_speechd", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod
