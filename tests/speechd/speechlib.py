"""Helpers shared by the speechd tests and bench: speech clips made with espeak-ng + sox,
text normalisation and word error rate, loading bin/apicall-speechd as a module."""

import importlib.machinery
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import time
import unicodedata
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
STACK = os.path.join(REPO, ".stack")
SERVICE = os.path.join(REPO, "bin", "apicall-speechd")
CACHE = os.path.join(STACK, "speechd", "clips")


def phrases(lang="en", kind="phrases"):
    """The fixed phrase sets: kind 'phrases' (callers' answers, STT bench) or 'prompts'
    (what the module's calls say, TTS bench)."""
    with open(os.path.join(HERE, "%s_%s.txt" % (kind, lang)), encoding="utf-8") as f:
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
    # German, Spanish, French (the TTS prompt sets; accents are stripped before the lookup)
    "null": "0", "eins": "1", "zwei": "2", "drei": "3", "vier": "4", "funf": "5", "sechs": "6",
    "sieben": "7", "acht": "8", "neun": "9", "zehn": "10",
    "cero": "0", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5", "seis": "6", "siete": "7",
    "ocho": "8", "nueve": "9", "diez": "10",
    "un": "1", "une": "1", "deux": "2", "trois": "3", "cinq": "5", "sept": "7",
    "huit": "8", "neuf": "9", "dix": "10",
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


# ---------------------------------------------------------------- a service instance
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """One apicall-speechd process; .url, .get(path), .transcribe(...)."""

    def __init__(self, tmp, name, args):
        self.tmp = tmp
        self.log = os.path.join(tmp, name + ".log")
        self.pid_file = os.path.join(tmp, name + ".pid")
        self.unix = None
        if "--unix" in args:
            self.unix = args[args.index("--unix") + 1]
            self.url = None
        else:
            self.port = free_port()
            args = ["--port", str(self.port)] + args
            self.url = "http://127.0.0.1:%d" % self.port
        env = dict(os.environ, HF_HUB_OFFLINE="1")
        self.proc = subprocess.Popen(
            [sys.executable, SERVICE, "--pid-file", self.pid_file,
             "--log-file", self.log] + args,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        self.started = time.monotonic()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("apicall-speechd exited with %s: %s\n%s" % (
                    self.proc.returncode, self.proc.stderr.read().decode(), self.log_text()))
            try:
                if self.health().get("status") == "ok":
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("apicall-speechd not ready in 90 s:\n" + self.log_text())
        self.ready_s = time.monotonic() - self.started

    def log_text(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""

    def request(self, method, path, body=None, headers=None, timeout=60):
        """-> (status, headers, body bytes)."""
        if self.unix:
            import http.client

            class UnixConn(http.client.HTTPConnection):
                def connect(conn):
                    conn.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    conn.sock.settimeout(timeout)
                    conn.sock.connect(self.unix)
            c = UnixConn("localhost", timeout=timeout)
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            c.close()
            return r.status, dict(r.getheaders()), data
        req = urllib.request.Request(self.url + path, data=body, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def health(self):
        status, _, body = self.request("GET", "/health", timeout=5)
        assert status == 200
        return json.loads(body)

    def transcribe(self, audio_path=None, audio=None, filename="answer.wav", **fields):
        """POST /v1/audio/transcriptions -> (status, parsed JSON or text)."""
        if audio is None and audio_path is not None:
            with open(audio_path, "rb") as f:
                audio = f.read()
        body, ctype = multipart(fields, {"file": (filename, audio)} if audio is not None else {})
        status, headers, data = self.request("POST", "/v1/audio/transcriptions", body,
                                             {"Content-Type": ctype})
        if headers.get("Content-Type", "").startswith("application/json"):
            return status, json.loads(data)
        return status, data.decode("utf-8")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def multipart(fields, files):
    boundary = "----apicall" + uuid.uuid4().hex
    out = []
    for name, value in fields.items():
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                    % (boundary, name, value)).encode("utf-8"))
    for name, (filename, data) in files.items():
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                    "Content-Type: audio/wav\r\n\r\n" % (boundary, name, filename)).encode("utf-8")
                   + data + b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode("ascii"))
    return b"".join(out), "multipart/form-data; boundary=" + boundary


_MODULE = None


def service_module_cached():
    """service_module(), imported once per process."""
    global _MODULE
    if _MODULE is None:
        _MODULE = service_module()
    return _MODULE
