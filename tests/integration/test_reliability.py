"""Reliability on the real stack: signed webhooks checked with the README's own snippets, the
durable outbox (receiver down, Asterisk restarted, MariaDB restarted), limits, idempotency,
hostile input at every field, and 200 requests at once."""
import concurrent.futures
import hashlib
import hmac
import json
import os
import random
import re
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import openapi_check

from conftest import REPO, SPOOL, STACK, cdr_rows, db_connect, request, wait_for

ENVIRON = {**os.environ, **{k: v for k, v in (l.split("=", 1) for l in
           (STACK / "env").read_text().splitlines() if "=" in l and not l.startswith("#"))}}


# ---------------------------------------------------------------- helpers

def kv_get(key):
    conn = db_connect("asterisk")
    with conn.cursor() as c:
        c.execute("SELECT val FROM kvstore_FreePBX_modules_Apicall WHERE `key`=%s AND id='noid'", (key,))
        row = c.fetchone()
    conn.close()
    return row["val"] if row else None


def kv_set(key, value):
    conn = db_connect("asterisk")
    with conn.cursor() as c:
        c.execute("DELETE FROM kvstore_FreePBX_modules_Apicall WHERE `key`=%s AND id='noid'", (key,))
        if value is not None:
            c.execute("INSERT INTO kvstore_FreePBX_modules_Apicall (`key`, val, type, id) "
                      "VALUES (%s, %s, NULL, 'noid')", (key, value))
    conn.close()


@pytest.fixture
def setting():
    """setting(key, value): changes a module setting for one test, restored afterwards."""
    saved = {}

    def change(key, value):
        if key not in saved:
            saved[key] = kv_get(key)
        kv_set(key, value)
    yield change
    for key, value in saved.items():
        kv_set(key, value)


def php_runner(code):
    """Runs PHP with the FreePBX stand-in bootstrapped and the extension loaded (like cron)."""
    script = ("<?php $restrict_mods = true; $bootstrap_settings = ['freepbx_auth' => false];"
              " require getenv('FREEPBX_CONF'); $cfg = \\FreePBX::Apicall()->coreConfig(); " + code)
    with tempfile.NamedTemporaryFile("w", suffix=".php", delete=False) as f:
        f.write(script)
    try:
        r = subprocess.run(["php", f.name], capture_output=True, text=True, env=ENVIRON, timeout=120)
    finally:
        os.unlink(f.name)
    assert r.returncode == 0, r.stderr
    return r.stdout


def run_outbox():
    return json.loads(php_runner("echo json_encode(\\Apicall\\outbox_deliver($cfg, 60));"))


def readme_snippet(lang):
    text = (REPO / "README.md").read_text()
    m = re.search(rf"<!-- verify-{lang} -->\n```{lang}\n(.*?)```", text, re.S)
    assert m, f"README has no verify-{lang} snippet"
    return m.group(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def aibot(body):
    r = request("aibot.php", body)
    assert r.status == 200, r
    return r.json()["id"]


# ---------------------------------------------------------------- signatures

def test_webhook_signature_verifies_with_the_readme_snippets(hooks, setting):
    secret = "s3cr3t-" + os.urandom(8).hex()
    setting("webhook_secret", secret)
    call_id = aibot({"PhoneNumber": "2003", "waittime": 3, "CallStatusWebhookUrl": hooks.url + "/status"})
    rec = hooks.wait("/status", timeout=30)
    assert rec.json()["CallId"] == call_id
    assert rec.headers["x-apicall-event-id"] == rec.json()["EventId"]
    # The headers exactly as they came (reqwest sends lowercase names; PHP's getallheaders()
    # hands on whatever case arrived), not rebuilt with canonical names.
    raw = dict(rec.raw_headers)
    ts = rec.headers["x-apicall-timestamp"]

    def resigned(timestamp):
        """The received headers with `timestamp`, signed with the real secret."""
        mac = hmac.new(secret.encode(), timestamp.encode() + b"." + rec.body, hashlib.sha256).hexdigest()
        new = {"x-apicall-timestamp": timestamp, "x-apicall-signature": "v1=" + mac}
        return {k: new.get(k.lower(), v) for k, v in rec.raw_headers}
    # Re-signing reproduces the delivery's own signature, so a re-signed old timestamp differs
    # from a genuine delivery in its age only.
    assert resigned(ts) == raw
    now = resigned(str(int(time.time())))
    old = resigned(str(int(ts) - 3600))
    canonical = {k.title(): v for k, v in raw.items()}

    ns = {}
    exec(readme_snippet("python"), ns)
    verify = ns["verify"]
    assert verify(secret, raw, rec.body) is True
    assert verify(secret, canonical, rec.body) is True
    assert verify(secret, now, rec.body) is True
    assert verify("wrong", raw, rec.body) is False
    assert verify(secret, raw, rec.body + b" ") is False
    assert verify(secret, old, rec.body) is False

    php = readme_snippet("php")
    def php_verify(sec, hdrs, body):
        code = ("<?php " + php + "\n$h = json_decode(getenv('H'), true);"
                " echo apicall_verify(getenv('S'), $h, file_get_contents('php://stdin')) ? 'ok' : 'bad';")
        with tempfile.NamedTemporaryFile("w", suffix=".php", delete=False) as f:
            f.write(code)
        try:
            return subprocess.run(["php", f.name], input=body, capture_output=True, timeout=30,
                                  env={**os.environ, "S": sec, "H": json.dumps(hdrs)}).stdout.decode()
        finally:
            os.unlink(f.name)
    assert php_verify(secret, raw, rec.body) == "ok"
    assert php_verify(secret, canonical, rec.body) == "ok"
    assert php_verify(secret, now, rec.body) == "ok"
    assert php_verify("wrong", raw, rec.body) == "bad"
    assert php_verify(secret, old, rec.body) == "bad"


# ---------------------------------------------------------------- outbox

def outbox_row(conn, where, args):
    with conn.cursor() as c:
        c.execute(f"SELECT * FROM apicall_outbox WHERE {where}", args)
        return c.fetchone()


def make_due(conn, event_id):
    """Skips the backoff: the runner's next run attempts the event (if it may still be sent)."""
    with conn.cursor() as c:
        c.execute("UPDATE apicall_outbox SET next_attempt_at = NOW() WHERE event_id=%s", (event_id,))


def test_receiver_down_for_the_whole_call_then_up_gets_it_once(setting):
    from hooks import HookServer
    port = free_port()        # nothing listens here yet: the receiver is down
    call_id = aibot({"PhoneNumber": "2003", "waittime": 3,
                     "CallStatusWebhookUrl": f"http://127.0.0.1:{port}/status"})

    conn = db_connect("asterisk")

    def event():
        return outbox_row(conn, "call_id=%s", (call_id,))
    ev = wait_for("the stored status event", lambda: (e := event()) and e["attempts"] >= 2 and e, 40)
    assert ev["delivered_at"] is None and ev["last_error"]

    # The receiver comes up on that port, failing twice (HTTP 500) before it takes the event;
    # the periodic runner retries (the backoff skipped, so this takes seconds, not minutes).
    hooks = HookServer(port)
    hooks.validators["/status"] = lambda b: openapi_check.webhook("callStatus", b)
    hooks.replies["/status"] = [(500, b"{}"), (500, b"{}"), {}]
    try:
        summaries = []
        deadline = time.time() + 40
        while time.time() < deadline and len(hooks.requests("/status")) < 3:
            make_due(conn, ev["event_id"])
            summaries.append(run_outbox())
        got = hooks.requests("/status")
        assert len(got) == 3, f"{len(got)} deliveries; runner summaries {summaries}"
        # Every try is the same event: same id in the header and the body, the same bytes.
        assert [r.headers["x-apicall-event-id"] for r in got] == [ev["event_id"]] * 3
        assert [r.json()["EventId"] for r in got] == [ev["event_id"]] * 3
        assert len({r.body for r in got}) == 1
        assert got[0].json()["CallId"] == call_id
        delivered = event()
        assert delivered["delivered_at"] is not None and delivered["attempts"] == 2 + 3
        # Nothing more is sent for a delivered event, even when it is made due again.
        make_due(conn, ev["event_id"])
        assert run_outbox()["delivered"] == 0
        time.sleep(1)
        assert len(hooks.requests("/status")) == 3
        assert not hooks.errors, hooks.errors
    finally:
        hooks.close()
        conn.close()


def test_a_failing_url_falls_back_to_webhook_fallback_url(hooks, setting):
    """The `webhook_fallback_url` setting: when the event's own URL answers 500, the same signed
    event (same id) goes to the fallback, in the same attempt."""
    from hooks import HookServer
    secret = "fb-" + os.urandom(8).hex()
    setting("webhook_secret", secret)
    setting("webhook_fallback_url", hooks.url + "/status")
    primary = HookServer()
    primary.replies["/primary"] = [(500, b"{}")]
    try:
        call_id = aibot({"PhoneNumber": "2003", "waittime": 3,
                         "CallStatusWebhookUrl": primary.url + "/primary"})
        rec = hooks.wait("/status", timeout=30)
        tried = primary.requests("/primary")
        assert tried, "the event's own URL was not tried first"
        event_id = tried[0].headers["x-apicall-event-id"]
        assert rec.json()["CallId"] == call_id
        assert rec.headers["x-apicall-event-id"] == rec.json()["EventId"] == event_id
        assert rec.body == tried[0].body
        mac = hmac.new(secret.encode(), rec.headers["x-apicall-timestamp"].encode() + b"." + rec.body,
                       hashlib.sha256).hexdigest()
        assert rec.headers["x-apicall-signature"] == "v1=" + mac
        conn = db_connect("asterisk")
        try:
            row = wait_for("the event marked delivered",
                           lambda: (r := outbox_row(conn, "event_id=%s", (event_id,))) and r["delivered_at"] and r,
                           10)
            assert row["attempts"] == 1, row
        finally:
            conn.close()
        time.sleep(1)
        assert len(hooks.requests("/status")) == 1 and len(primary.requests("/primary")) == 1
    finally:
        primary.close()


def store_event(conn, url, ttl_seconds):
    """An undelivered status event, due now, as the hangup path stores it."""
    event_id = os.urandom(16).hex()
    with conn.cursor() as c:
        c.execute("INSERT INTO apicall_outbox (event_id, call_id, url, headers, body, created, next_attempt_at,"
                  " attempts, expires_at) VALUES (%s, %s, %s, '[]', %s, NOW(), NOW(), 0,"
                  " NOW() + INTERVAL %s SECOND)",
                  (event_id, os.urandom(16).hex(), url, json.dumps({"EventId": event_id}), ttl_seconds))
    return event_id


def test_outbox_gives_up_after_webhook_retries_and_at_its_expiry(setting):
    """Bounded: with webhook_retries 2 and the receiver down, the runner gives the event up at
    the second failure; an event past its expires_at is never attempted. Neither is sent once
    the receiver is up."""
    from hooks import HookServer
    setting("webhook_retries", "2")
    port = free_port()
    url = f"http://127.0.0.1:{port}/status"
    conn = db_connect("asterisk")
    retried = store_event(conn, url, 3600)
    expired = store_event(conn, url, -1)
    try:
        first = run_outbox()
        row = outbox_row(conn, "event_id=%s", (retried,))
        assert row["attempts"] == 1 and row["delivered_at"] is None and row["last_error"], row
        assert first["failed"] >= 1, first
        make_due(conn, retried)
        second = run_outbox()
        assert second["expired"] >= 1, second
        with conn.cursor() as c:
            c.execute("SELECT attempts, delivered_at, expires_at <= NOW() AS gone FROM apicall_outbox"
                      " WHERE event_id IN (%s, %s) ORDER BY event_id = %s", (retried, expired, retried))
            never, given_up = c.fetchall()
        assert given_up == {"attempts": 2, "delivered_at": None, "gone": 1}, given_up
        assert never == {"attempts": 0, "delivered_at": None, "gone": 1}, never

        hooks = HookServer(port)
        try:
            make_due(conn, retried)
            make_due(conn, expired)
            after = run_outbox()
            time.sleep(1)
            assert hooks.requests("/status") == [], hooks.log
            assert after["delivered"] == 0, after
        finally:
            hooks.close()
    finally:
        with conn.cursor() as c:
            c.execute("DELETE FROM apicall_outbox WHERE event_id IN (%s, %s)", (retried, expired))
        conn.close()


def stop_asterisk():
    ast = str(REPO / "tests/stack/ast.sh")
    subprocess.run([ast, "core stop now"], capture_output=True, timeout=30)
    # This stack's Asterisk is gone when its control socket no longer answers (another stack's
    # Asterisk on the same machine must not count, so no pgrep).
    wait_for("Asterisk to stop", lambda: subprocess.run([ast, "core show version"], capture_output=True,
                                                        timeout=30).returncode != 0, 30)


def start_stack():
    """up.sh starts whatever is down (and leaves the rest)."""
    # Output to a file, not a pipe: a daemon's wrapper that up.sh leaves running may keep the
    # inherited descriptors open, and a pipe would then never reach EOF.
    with tempfile.TemporaryFile() as out:
        r = subprocess.run(["bash", str(REPO / "tests/stack/up.sh")], stdout=out, stderr=subprocess.STDOUT,
                           timeout=300)
        out.seek(0)
        tail = out.read()[-2000:].decode("utf-8", "replace")
    assert r.returncode == 0, tail


def test_asterisk_restart_with_calls_in_the_spool(hooks, cdr):
    stop_asterisk()
    try:
        ids = [aibot({"PhoneNumber": "2003", "waittime": 3, "ContactId": f"r{i}",
                      "CallStatusWebhookUrl": hooks.url + "/status"}) for i in range(3)]
        waiting = {p.name for p in (SPOOL / "outgoing").iterdir()}
        assert all(f"apicall-{i}.call" in waiting for i in ids), waiting
    finally:
        start_stack()
    got = {}
    for _ in ids:
        ev = hooks.wait("/status", timeout=60).json()
        got[ev["CallId"]] = ev
    assert set(got) == set(ids)
    time.sleep(3)
    assert len(hooks.requests("/status")) == 3
    # The calls really happened after the restart: 2003 answered busy (an event made from a
    # call that never left the spool would say failed), and Asterisk wrote each one's CDR.
    for call_id, ev in got.items():
        assert ev["Outcome"] == "busy" and ev["Attempts"] == 1, ev
        rows = cdr_rows(cdr, "userfield=%s", (f"apicall:{call_id}",))
        assert rows and any(r["disposition"] == "BUSY" and r["dst"] == "2003" for r in rows), rows


def test_mariadb_restart_gives_503_then_recovers():
    sock = ENVIRON["DB_SOCKET"]
    subprocess.run(["mariadb-admin", "--no-defaults", "-uroot", f"--socket={sock}", "shutdown"],
                   check=True, timeout=60)
    try:
        r = request("index.php", {"tocall": "2003", "waittime": 2})
        assert r.status == 503, r
        assert r.json()["error"]["code"] == "database_unavailable"
        openapi_check.http_response("/index.php", "POST", r)
    finally:
        start_stack()
    # No restart of Apache: the same workers recover by themselves.
    ok = wait_for("the API to recover", lambda: request("index.php", {"tocall": "2003", "waittime": 2})
                  .status == 200, timeout=30, interval=1)
    assert ok


# ---------------------------------------------------------------- limits

def test_allowlist_refuses_other_addresses(setting):
    setting("ip_allowlist", "10.0.0.0/8")
    r = request("index.php", {"tocall": "2003"})
    assert r.status == 403 and r.json()["error"]["code"] == "forbidden", r
    setting("ip_allowlist", "10.0.0.0/8, 127.0.0.1")
    assert request("index.php", {"tocall": "2003", "waittime": 2}).status == 200


def test_failed_tokens_are_limited_per_address(setting, no_failed_tokens):
    setting("token_failures_per_minute", "3")
    for _ in range(3):
        assert request("index.php", {"tocall": "2003"}, token="bad").status == 401
    r = request("index.php", {"tocall": "2003"})      # even the right token, for a while
    assert r.status == 429 and r.headers.get("Retry-After"), r
    assert r.json()["error"]["code"] == "too_many_requests"


def test_concurrent_call_limit(setting):
    setting("max_concurrent_calls", "1")
    first = request("index.php", {"tocall": "2002", "waittime": 8})
    assert first.status == 200, first
    second = request("aibot.php", {"PhoneNumber": "2003"})
    assert second.status == 429, second
    assert second.json()["error"]["code"] == "too_many_calls"
    openapi_check.http_response("/aibot.php", "POST", second)
    assert int(second.headers["Retry-After"]) > 0


def test_idempotency_key_returns_the_first_call(cdr):
    key = "order-" + os.urandom(6).hex()
    marker = str(random.randint(7000000, 7999999))
    body = {"tocall": "2003", "waittime": 3, "callerid": marker}
    a = request("index.php", body, headers={"Idempotency-Key": key})
    b = request("index.php", body, headers={"Idempotency-Key": key})
    assert a.status == b.status == 200, (a, b)
    assert a.json()["id"] == b.json()["id"]
    assert b.json()["replayed"] is True and "replayed" not in a.json()
    time.sleep(6)
    legs = cdr_rows(cdr, "dst='2003' AND channel LIKE '%%;2' AND clid LIKE %s", (f"%{marker}%",))
    assert len(legs) == 1, legs
    # A different key is a different call.
    c = request("index.php", body, headers={"Idempotency-Key": key + "-2"})
    assert c.json()["id"] != a.json()["id"]


# ---------------------------------------------------------------- hostile input, load

HOSTILE = ["\r", "\n", "\0", "\x07", "\x1b[2J", "\u2028", "\u202e", "é", "😀", "${SHELL}", "$[1+1]",
           ",", "|", "&", ";", "\"", "<", ">", "/", "@", "\\", " "]
WRONG_TYPES = [None, True, 12.5, [], {}, ["x"], {"a": 1}, -1, 10 ** 20]
FIELDS = {
    "index.php": ({"tocall": "2003", "waittime": "2"},
                  ["tocall", "message", "destination", "language", "voice", "maxretries", "maxretires",
                   "retrytime", "waittime", "callerid"]),
    "aibot.php": ({"PhoneNumber": "2003", "waittime": "2"},
                  ["PhoneNumber", "ContactId", "CampaignId", "Language", "MessageUrl", "MessageText",
                   "UserInputMethod", "EndOfSpeakSilenceLength", "MessageExitDigit",
                   "NuberOfExpectedDigits", "NumberOfExpectedDigits", "EndDigit", "UserAnswerSTT",
                   "SpeechContext", "CallStatusWebhookUrl", "CallStatusWebhookHeader",
                   "GoToDestination", "NextMessageWebhookUrl", "NextMessageWebhookHeader", "Timeout",
                   "callerid", "maxretries", "retrytime", "waittime"]),
}
# A valid value per field (default "2003"), so that a refusal of it with a control character
# added can only be the control character's doing.
SAMPLE = {"maxretries": "1", "maxretires": "1", "retrytime": "30", "waittime": "20", "language": "en",
          "Language": "en", "MessageUrl": "http://127.0.0.1/a.wav", "UserInputMethod": "digits",
          "EndOfSpeakSilenceLength": "1", "MessageExitDigit": "#", "NuberOfExpectedDigits": "4",
          "NumberOfExpectedDigits": "4", "EndDigit": "#", "UserAnswerSTT": "true",
          "CallStatusWebhookUrl": "http://127.0.0.1/s", "NextMessageWebhookUrl": "http://127.0.0.1/n",
          "CallStatusWebhookHeader": "X-A: 1", "NextMessageWebhookHeader": "X-A: 1", "Timeout": "5",
          "destination": "app-blackhole,hangup,1", "GoToDestination": "app-blackhole,hangup,1",
          "message": "hello", "MessageText": "hello", "SpeechContext": "yes", "voice": "en"}
# Spoken text may run over several lines: CR and LF are text there (never in a call file); NUL is not.
MULTILINE = {"message", "MessageText", "SpeechContext"}
# Fields whose type is not a scalar: a list of phrases, headers as a list or an object, a bool.
NOT_SCALAR = {"SpeechContext": (list,), "CallStatusWebhookHeader": (list, dict),
              "NextMessageWebhookHeader": (list, dict), "UserAnswerSTT": (bool,)}
CALL_FILE_KEYS = {"Channel", "CallerID", "MaxRetries", "RetryTime", "WaitTime", "Context", "Extension",
                  "Priority", "Setvar", "Archive"}


def test_hostile_values_in_every_field_never_reach_a_call_file(setting):
    """With Asterisk stopped (so nothing consumes the spool), every accepted request's call file
    is read back: only the fixed set of keys, no value with a control character; every refused
    request is a 4xx JSON error."""
    setting("max_concurrent_calls", "100000")
    stop_asterisk()
    accepted, refused = 0, 0
    try:
        for endpoint, (base, fields) in FIELDS.items():
            for field in fields:
                values = [f"2003{h}" for h in HOSTILE] + [f"{h}x" for h in HOSTILE] + WRONG_TYPES
                values += ["A" * (1024 * 1024)]
                for v in values:
                    body = dict(base, **{field: v})
                    r = request(endpoint, body)
                    if r.status == 200:
                        accepted += 1
                    else:
                        refused += 1
                        assert 400 <= r.status < 500, (endpoint, field, repr(v)[:80], r)
                        err = r.json()["error"]
                        assert err["code"] and err["message"], r
                named = lambda r: (r.status, r.json()["error"]["code"], r.json()["error"].get("field"))
                sample = SAMPLE.get(field, "2003")
                ok = request(endpoint, dict(base, **{field: sample}))
                if ok.status == 200:
                    accepted += 1
                assert ok.status == 200, (endpoint, field, sample, ok)
                controls = ["\0"] if field in MULTILINE else ["\r", "\n", "\0"]
                for bad in [sample + c for c in controls] + [c + sample for c in controls]:
                    r = request(endpoint, dict(base, **{field: bad}))
                    refused += 1
                    assert named(r) == (400, "invalid_field", field), (endpoint, field, repr(bad), r)
                for wrong in [{"a": "1"}, ["1"], True, {}, []]:
                    if isinstance(wrong, NOT_SCALAR.get(field, ())):
                        continue
                    r = request(endpoint, dict(base, **{field: wrong}))
                    refused += 1
                    assert named(r) == (400, "invalid_field", field), (endpoint, field, wrong, r)
                # Just under the 64 KiB body limit: the field's own check answers, not the 413.
                room = 64 * 1024 - len(json.dumps(dict(base, **{field: ""})).encode()) - 1
                r = request(endpoint, dict(base, **{field: "7" * room}))
                refused += 1
                assert named(r) == (400, "invalid_field", field), (endpoint, field, r)
                # Duplicate keys are refused outright.
                raw = json.dumps(base)[:-1] + f', "{field}": "1", "{field}": "2"}}'
                r = request(endpoint, raw.encode())
                assert r.status == 400 and r.json()["error"]["code"] == "invalid_json", r
        files = sorted((SPOOL / "outgoing").glob("apicall-*.call"))
        assert len(files) == accepted, (len(files), accepted)
        for f in files:
            lines = f.read_bytes().decode("utf-8").split("\n")
            assert lines[-1] == "", f
            for line in lines[:-1]:
                key, sep, value = line.partition(": ")
                assert sep and key in CALL_FILE_KEYS, (f.name, line)
                assert not any(ord(c) < 32 or ord(c) == 127 for c in value), (f.name, line)
                assert "${" not in value and "$[" not in value, (f.name, line)
    finally:
        for f in (SPOOL / "outgoing").glob("apicall-*.call"):
            f.unlink()
        start_stack()
    assert accepted > 0 and refused > accepted


def test_200_concurrent_requests_each_place_exactly_one_call(setting, cdr):
    setting("max_concurrent_calls", "1000")
    marker = str(random.randint(8000000, 8999999))
    body = {"tocall": "2003", "waittime": 5, "callerid": marker}
    with concurrent.futures.ThreadPoolExecutor(max_workers=200) as pool:
        answers = list(pool.map(lambda _: request("index.php", body), range(200)))
    assert all(a.status == 200 for a in answers), [a for a in answers if a.status != 200][:3]
    ids = {a.json()["id"] for a in answers}
    assert len(ids) == 200

    def legs():
        rows = cdr_rows(cdr, "dst='2003' AND channel LIKE '%%;2' AND clid LIKE %s", (f"%{marker}%",))
        return rows if len(rows) >= 200 else None
    rows = wait_for("200 calls in the CDR table", legs, timeout=180, interval=2)
    time.sleep(3)
    rows = cdr_rows(cdr, "dst='2003' AND channel LIKE '%%;2' AND clid LIKE %s", (f"%{marker}%",))
    assert len(rows) == 200, len(rows)
    # None of them is left in the spool (other tests' calls may still ring there).
    ours = {f"apicall-{i}.call" for i in ids}
    assert not [p.name for p in (SPOOL / "outgoing").iterdir() if p.name in ours]
