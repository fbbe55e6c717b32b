"""Fixtures for the apicall-speechd tests: the real service, started with the real models on a
free loopback port (not the stack's 8765, so a running stack is left alone)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import speechlib  # noqa: E402

MODELS_DIR = os.path.join(speechlib.STACK, "speechd", "models")


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
            [sys.executable, speechlib.SERVICE, "--pid-file", self.pid_file,
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


@pytest.fixture(scope="session")
def speechd(tmp_path_factory):
    """The service as the stack runs it: every installed model preloaded."""
    svc = Service(str(tmp_path_factory.mktemp("speechd")), "main",
                  ["--models-dir", MODELS_DIR])
    yield svc
    svc.stop()


@pytest.fixture(scope="session")
def speechd_english_only(tmp_path_factory):
    """A second instance on a Unix socket without the multilingual model (no --models-dir)."""
    tmp = str(tmp_path_factory.mktemp("speechd-en"))
    svc = Service(tmp, "en", ["--unix", os.path.join(tmp, "speechd.sock")])
    yield svc
    svc.stop()
