"""Fixtures for the integration suite: the running local stack (`make up`) and ways to observe it.

Everything here talks to real parts: Apache + mod_php with the extension (HTTP), MariaDB (CDRs,
kvstore), Asterisk (its CLI and log), and the files the test phones record.
"""
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import wave
from array import array
from pathlib import Path

import pymysql
import pytest

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / ".stack"


def load_env():
    env_file = STACK / "env"
    if not env_file.exists():
        pytest.exit("the local stack is not up: run `make up` (or `make test`)", returncode=2)
    env = {}
    for line in env_file.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            env[key.replace("export ", "").strip()] = value.strip().strip("'\"")
    return env


ENV = load_env()
URL = ENV["APICALL_URL"]
TOKEN = ENV["APICALL_TOKEN"]
SPOOL = STACK / "asterisk" / "spool"
PHONES = STACK / "phones"
AST_LOG = STACK / "asterisk" / "log" / "full"


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


def request(path, body=None, method="POST", token=TOKEN, content_type="application/json",
            headers=None):
    """An HTTP request to the module's public folder; returns status, headers and body."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    h = dict(headers or {})
    if token is not None:
        h["token"] = token
    if content_type is not None and data is not None:
        h["Content-Type"] = content_type
    req = urllib.request.Request(f"{URL}/{path}", data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return Response(r.status, dict(r.headers), r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, dict(e.headers), e.read())


@pytest.fixture
def api():
    return request


@pytest.fixture
def hooks():
    import openapi_check
    from hooks import HookServer
    server = HookServer()
    # Every webhook body the module sends in any test must match openapi.yaml.
    server.validators["/step"] = lambda b: openapi_check.webhook("nextMessage", b)
    server.validators["/status"] = lambda b: openapi_check.webhook("callStatus", b)
    yield server
    server.close()
    assert not server.errors, server.errors


def log_time_of(pattern, since=0.0):
    """Unix time of the first line of Asterisk's full log that contains `pattern` (None if none)."""
    import datetime
    if not AST_LOG.exists():
        return None
    with open(AST_LOG, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8", "replace")
            if pattern in line and line.startswith("["):
                stamp = line[1:line.index("]")]
                t = datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").timestamp()
                if t >= since:
                    return t
    return None


def db_connect(database):
    return pymysql.connect(host="127.0.0.1", port=int(ENV.get("DB_PORT", 33061)),
                           user="freepbxuser", password="apicall-stack-pw", database=database,
                           autocommit=True, cursorclass=pymysql.cursors.DictCursor)


@pytest.fixture
def cdr():
    conn = db_connect("asteriskcdrdb")
    yield conn
    conn.close()


def cdr_rows(conn, where, args=()):
    with conn.cursor() as c:
        c.execute(f"SELECT * FROM cdr WHERE {where} ORDER BY sequence", args)
        return c.fetchall()


def wait_for(what, fn, timeout, interval=0.5):
    """Polls fn() until it returns something truthy; fails naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def spool_files():
    """Every file in the spool's outgoing/ and tmp/ folders."""
    out = set()
    for sub in ("outgoing", "tmp"):
        d = SPOOL / sub
        if d.exists():
            out |= {f"{sub}/{p.name}" for p in d.iterdir()}
    return out


def ast(cmd):
    """Runs an Asterisk CLI command against the stack's Asterisk."""
    r = subprocess.run([str(REPO / "tests/stack/ast.sh"), cmd], capture_output=True, text=True,
                       timeout=30)
    return r.stdout


def read_wav(path):
    """(rate, samples) of a 16-bit mono WAV."""
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, path
        frames = w.readframes(w.getnframes())
        return w.getframerate(), array("h", frames)


def active_span(rate, samples, frame_ms=20, threshold_dbfs=-45.0):
    """(seconds from first to last non-silent 20 ms frame, seconds of non-silent frames)."""
    n = rate * frame_ms // 1000
    limit = (10 ** (threshold_dbfs / 20) * 32768) ** 2
    active = []
    for i in range(0, len(samples) - n + 1, n):
        frame = samples[i:i + n]
        power = sum(s * s for s in frame) / n
        active.append(power > limit)
    if not any(active):
        return 0.0, 0.0
    first = active.index(True)
    last = len(active) - 1 - active[::-1].index(True)
    return (last - first + 1) * frame_ms / 1000, sum(active) * frame_ms / 1000


def _setting_row(conn, key):
    with conn.cursor() as c:
        c.execute("SELECT val FROM kvstore_FreePBX_modules_Apicall WHERE `key`=%s AND id='noid'", (key,))
        row = c.fetchone()
    return row["val"] if row else None


def _put_setting(conn, key, value):
    with conn.cursor() as c:
        c.execute("DELETE FROM kvstore_FreePBX_modules_Apicall WHERE `key`=%s AND id='noid'", (key,))
        if value is not None:
            c.execute("INSERT INTO kvstore_FreePBX_modules_Apicall (`key`, val, type, id) "
                      "VALUES (%s, %s, NULL, 'noid')", (key, str(value)))


@pytest.fixture
def setting():
    """setting(key, value): a module setting (kvstore, read by every request and call) changed
    for one test and put back afterwards, even when the test fails."""
    conn = db_connect("asterisk")
    saved = {}

    def change(key, value):
        saved.setdefault(key, _setting_row(conn, key))
        _put_setting(conn, key, value)
    yield change
    for key, value in saved.items():
        _put_setting(conn, key, value)
    conn.close()


@pytest.fixture
def no_failed_tokens():
    """The failed-token record of every address cleared before and after the test: tests that
    present wrong tokens on purpose would otherwise leave the per-address limit used up."""
    def clear():
        conn = db_connect("asterisk")
        try:
            with conn.cursor() as c:
                c.execute("DELETE FROM apicall_auth_failures")
        finally:
            conn.close()
    clear()
    yield
    clear()
