"""aibot.php on the real stack: messages, DTMF answers, the webhook loop and its failures,
the status webhook for every outcome, and the CallDetailUrl."""
import time

import pytest

import openapi_check
from conftest import AST_LOG, SPOOL, TOKEN, cdr_rows, log_time_of, request, spool_files, wait_for

DEST = "apicall-test-dest,s,1"
DECOY_ID = "1700000000.4242"     # an Asterisk unique id from 2023: before any call of a test


def aibot(body, **kw):
    r = request("aibot.php", body, **kw)
    assert r.status == 200, r
    return r.json()["id"]


def reached_dest(cdr, call_id, timeout=60):
    return wait_for(f"call {call_id} to reach {DEST}",
                    lambda: cdr_rows(cdr, "userfield = %s", (f"dest:{call_id}",)), timeout=timeout)


def test_digits_with_end_digit_then_goodbye_and_one_status(hooks, cdr):
    hooks.replies["/step"] = [{"MessageText": "Thank you. Goodbye.", "Language": "en_US"}]
    call_id = aibot({
        "PhoneNumber": "200442", "ContactId": "contact-7", "CampaignId": 99,
        "Language": "en_US", "MessageText": "Please enter your code, then press hash.",
        "UserInputMethod": "digits", "EndDigit": "#", "Timeout": 20,
        "NextMessageWebhookUrl": hooks.url + "/step", "NextMessageWebhookHeader": "X-Hook-Key: s3cret",
        "CallStatusWebhookUrl": hooks.url + "/status",
        "CallStatusWebhookHeader": {"Authorization": "Bearer status-key"},
        "GoToDestination": DEST, "callerid": "Bot <7100>",
    })
    step = hooks.wait("/step").json()
    assert step["PressedDigits"] == "42"
    assert step["InputEnd"] == "end-digit"
    assert step["ContactId"] == "contact-7" and step["CampaignId"] == "99"
    assert step["UserAnswerMp3Url"] is None and step["UserAnswerText"] is None
    assert step["UniqueID"] and step["LinkedID"]
    assert step["CallerIDNum"] == "7100"
    assert hooks.requests("/step")[0].headers["x-hook-key"] == "s3cret"

    reached_dest(cdr, call_id)
    status_req = hooks.wait("/status")
    status = status_req.json()
    assert status_req.headers["authorization"] == "Bearer status-key"
    assert status["Outcome"] == "answered" and status["Answer"] is True
    assert status["CallId"] == call_id and status["ContactId"] == "contact-7"
    assert status["Billsec"] > 0 and status["Duration"] >= status["Billsec"]
    assert status["AnswerTimestamp"]
    assert status["UniqueID"] == step["UniqueID"]

    # CallDetailUrl: token-protected CDR rows of the call.
    url = status["CallDetailUrl"]
    assert url.startswith("http://127.0.0.1:8580/apicall/cdr.php?linkedid="), url
    path = url.split("/apicall/", 1)[1]
    # Every leg of a call is made at or after its linkedid's channel: a row claiming the linkedid
    # with an older id is not searched (the lookup ranges over the indexed uniqueid).
    with cdr.cursor() as c:
        c.execute("INSERT INTO cdr (calldate, uniqueid, linkedid, channel) "
                  "VALUES (NOW(), %s, %s, 'decoy')", (DECOY_ID, status["LinkedID"]))
    try:
        detail = request(path, method="GET", body=None)
    finally:
        with cdr.cursor() as c:
            c.execute("DELETE FROM cdr WHERE uniqueid = %s", (DECOY_ID,))
    openapi_check.http_response("/cdr.php", "GET", detail)   # rows against the CdrRow schema
    rows = detail.json()["rows"]
    mine = [r for r in rows if r["uniqueid"] == status["UniqueID"]]
    assert mine, rows
    assert DECOY_ID not in [r["uniqueid"] for r in rows], rows
    # Duration and Billsec are Asterisk's: the status says what the CDR row says.
    assert abs(mine[0]["duration"] - status["Duration"]) <= 1, (mine[0], status)
    assert abs(mine[0]["billsec"] - status["Billsec"]) <= 1, (mine[0], status)
    assert request(path, method="GET", body=None, token="bad").status == 401

    time.sleep(3)
    assert len(hooks.requests("/status")) == 1
    assert len(hooks.requests("/step")) == 1


def test_expected_digit_count_ends_the_answer(hooks, cdr):
    call_id = aibot({
        "PhoneNumber": "2004123", "Language": "en_US", "MessageText": "Enter three digits.",
        "UserInputMethod": "digits", "NuberOfExpectedDigits": 3,
        "NextMessageWebhookUrl": hooks.url + "/step", "GoToDestination": DEST,
    })
    step = hooks.wait("/step").json()
    assert step["PressedDigits"] == "123"
    assert step["InputEnd"] == "digits"
    reached_dest(cdr, call_id)


def test_two_step_loop_then_destination(hooks, cdr):
    hooks.replies["/step"] = [
        {"MessageText": "One more question.", "NextMessageWebhookUrl": hooks.url + "/step"},
        {"MessageText": "Goodbye."},
    ]
    call_id = aibot({
        "PhoneNumber": "200477", "Language": "en_US", "MessageText": "Press seven seven and hash.",
        "UserInputMethod": "digits", "EndDigit": "#",
        "NextMessageWebhookUrl": hooks.url + "/step", "GoToDestination": DEST,
    })
    first = hooks.wait("/step").json()
    second = hooks.wait("/step").json()
    assert (first["Step"], first["PressedDigits"]) == (1, "77")
    assert (second["Step"], second["PressedDigits"]) == (2, "")
    reached_dest(cdr, call_id)
    assert len(hooks.requests("/step")) == 2


def dest_delay(cdr, call_id, asked, timeout=30):
    """Seconds from the webhook being asked to the call entering GoToDestination (Asterisk's
    log; the clocks are the same machine's)."""
    reached_dest(cdr, call_id, timeout=timeout)
    at_dest = wait_for("the destination in the Asterisk log",
                       lambda: log_time_of(f"CDR(userfield)=dest:{call_id}"), timeout=10)
    return at_dest - asked


@pytest.mark.parametrize("reply,name", [
    ((500, b'{"error":"boom"}'), "http-500"),
    ((200, b"<html>not json</html>"), "garbage"),
    ((200, b'{"GoToDestination":"no-commas"}'), "invalid-step"),
])
def test_failing_webhook_goes_to_the_destination(hooks, cdr, setting, reply, name):
    setting("webhook_timeout", "3")
    hooks.replies["/step"] = [reply]
    call_id = aibot({
        "PhoneNumber": "200455", "Language": "en_US", "MessageText": "Press five five and hash.",
        "UserInputMethod": "digits", "EndDigit": "#",
        "NextMessageWebhookUrl": hooks.url + "/step", "GoToDestination": DEST,
    })
    asked = hooks.wait("/step").at
    # An answer that is not a next step ends the conversation at once, well inside the timeout.
    delay = dest_delay(cdr, call_id, asked)
    assert delay <= 3 + 1, delay


def test_hanging_webhook_goes_to_the_destination_within_timeout(hooks, cdr, setting):
    setting("webhook_timeout", "3")   # not the default 5: the setting is what bounds the wait
    hooks.replies["/step"] = [("sleep", 30, {"MessageText": "too late"})]
    call_id = aibot({
        "PhoneNumber": "200466", "Language": "en_US", "MessageText": "Press six six and hash.",
        "UserInputMethod": "digits", "EndDigit": "#",
        "NextMessageWebhookUrl": hooks.url + "/step", "GoToDestination": DEST,
    })
    asked = hooks.wait("/step").at
    delay = dest_delay(cdr, call_id, asked)
    assert 3 - 0.5 <= delay <= 3 + 1, delay


def test_no_key_pressed_times_out_on_time(hooks, cdr):
    # No message: the answer is awaited from the moment the call is answered. 2001 sends
    # silence and presses nothing.
    call_id = aibot({
        "PhoneNumber": "2001", "UserInputMethod": "digits", "EndDigit": "#", "Timeout": 3,
        "NextMessageWebhookUrl": hooks.url + "/step", "GoToDestination": DEST,
    })
    step = hooks.wait("/step", timeout=40)
    answered = wait_for("the call in the Asterisk log", lambda: log_time_of(f"apicall aibot {call_id}"), 10)
    assert step.json()["InputEnd"] == "timeout" and step.json()["PressedDigits"] == "", step
    waited = step.at - answered
    assert 3 <= waited <= 3 + 1, waited
    reached_dest(cdr, call_id, timeout=20)


class CountingFiles(dict):
    """The hook server's files, counting each time one is asked for."""

    def __init__(self, *a):
        super().__init__(*a)
        self.fetches = {}

    def get(self, path, default=None):
        self.fetches[path] = self.fetches.get(path, 0) + 1
        return super().get(path, default)


def test_message_url_is_fetched_once_then_cached(hooks, cdr):
    import hashlib
    import io
    import subprocess
    import wave
    spoken = subprocess.run(["espeak-ng", "-v", "en-us", "--stdout", "Cached message."],
                            capture_output=True, check=True).stdout
    # espeak-ng streams its WAV with an unknown length in the header: write it whole.
    with wave.open(io.BytesIO(spoken)) as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setparams(params)
        w.writeframes(frames)
    hooks.files = CountingFiles({"/cached.wav": out.getvalue()})
    # The second step plays the same MessageUrl again.
    hooks.replies["/step"] = [{"MessageUrl": hooks.url + "/cached.wav"}]
    call_id = aibot({
        "PhoneNumber": "2001", "Language": "en_US", "MessageUrl": hooks.url + "/cached.wav",
        "NextMessageWebhookUrl": hooks.url + "/step", "GoToDestination": DEST,
    })
    hooks.wait("/step")
    reached_dest(cdr, call_id, timeout=30)
    assert hooks.files.fetches == {"/cached.wav": 1}, hooks.files.fetches
    # Both steps played it, from the one cached file (named by the URL's hash).
    key = hashlib.sha256((hooks.url + "/cached.wav").encode()).hexdigest()[:32]
    played = [l for l in AST_LOG.read_text(errors="replace").splitlines() if "Playing '" in l and f"url-{key}" in l]
    assert len(played) == 2, played


def test_message_url_that_fails_goes_to_the_destination(hooks, cdr):
    hooks.files = CountingFiles()
    call_id = aibot({
        "PhoneNumber": "2001", "Language": "en_US", "MessageUrl": hooks.url + "/missing.wav",
        "UserInputMethod": "digits", "NextMessageWebhookUrl": hooks.url + "/step", "GoToDestination": DEST,
    })
    # The 404 is not dead air: the call goes on to GoToDestination at once.
    reached_dest(cdr, call_id, timeout=20)
    assert hooks.files.fetches.get("/missing.wav", 0) >= 1
    assert hooks.requests("/step") == []


def test_exit_digit_interrupts_the_message(hooks, cdr):
    import io
    import subprocess
    import wave
    # A message with a 3-second pause in the middle: the test phone presses its digits in the
    # pause, while the message is still playing.
    part = subprocess.run(["espeak-ng", "-v", "en-us", "--stdout", "Listen carefully."],
                          capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(part)) as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    silence = b"\0\0" * params.framerate * 3
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setparams(params)
        w.writeframes(frames + silence + frames * 6)
    hooks.files["/message.wav"] = out.getvalue()
    call_id = aibot({
        "PhoneNumber": "20049", "Language": "en_US", "MessageUrl": hooks.url + "/message.wav",
        "MessageExitDigit": "9", "UserInputMethod": "digits", "EndDigit": "#",
        "NextMessageWebhookUrl": hooks.url + "/step", "GoToDestination": DEST,
    })
    step = hooks.wait("/step").json()
    assert step["PressedDigits"] == "9"
    assert step["InputEnd"] == "end-digit"
    reached_dest(cdr, call_id)


@pytest.mark.parametrize("number,outcome,retries", [
    ("2002", "no-answer", 0),
    ("2003", "busy", 0),
    ("2003", "retries-exhausted", 1),
])
def test_unanswered_calls_get_exactly_one_status(hooks, cdr, number, outcome, retries):
    call_id = aibot({
        "PhoneNumber": number, "MessageText": "never heard", "waittime": 3, "maxretries": retries,
        "retrytime": 1, "ContactId": f"c-{outcome}",
        "CallStatusWebhookUrl": hooks.url + "/status",
    })
    # The status takes Duration and ids from the CDR row of the last attempt, looked up only
    # among channels made since the call was queued (FreePBX does not index `userfield`; a full
    # scan per failed call costs MariaDB ~100 ms at 300k rows). A row marked with this call but
    # with an id from before it (and the newest calldate) must not be taken.
    with cdr.cursor() as c:
        c.execute("INSERT INTO cdr (calldate, uniqueid, linkedid, userfield, duration, channel) "
                  "VALUES ('2099-01-01 00:00:00', %s, %s, %s, 999, 'decoy')",
                  (DECOY_ID, DECOY_ID, f"apicall:{call_id}"))
    if number == "2002":
        # While it rings, the call file is in the spool: it carries the call's id and nothing
        # from the request (the conversation is read from the calls table).
        f = SPOOL / "outgoing" / f"apicall-{call_id}.call"
        text = wait_for("the call file", lambda: f.exists() and f.read_text(), timeout=5, interval=0.1)
        setvars = [l.split(":", 1)[1].strip() for l in text.splitlines() if l.startswith("Setvar:")]
        assert setvars == [f"__APICALL_ID={call_id}", f"CDR(userfield)=apicall:{call_id}"], text
        assert "never heard" not in text and f"c-{outcome}" not in text, text
    try:
        status = hooks.wait("/status", timeout=40).json()
    finally:
        with cdr.cursor() as c:
            c.execute("DELETE FROM cdr WHERE uniqueid = %s", (DECOY_ID,))
    assert status["CallId"] == call_id
    assert status["Outcome"] == outcome
    attempts = [r for r in cdr_rows(cdr, "userfield = %s", (f"apicall:{call_id}",))
                if r["uniqueid"] != DECOY_ID]
    attempts.sort(key=lambda r: (r["calldate"], r["sequence"]))
    assert attempts and status["UniqueID"] == attempts[-1]["uniqueid"], (status, attempts)
    assert status["Duration"] == attempts[-1]["duration"], (status, attempts[-1])
    assert status["Answer"] is False and status["Billsec"] == 0
    assert status["AnswerTimestamp"] is None
    assert status["Attempts"] == retries + 1
    assert status["ContactId"] == f"c-{outcome}"
    assert status["UniqueID"], status
    if number == "2002":
        assert status["Duration"] >= 2, status   # it rang for the wait time
    time.sleep(4)
    assert len(hooks.requests("/status")) == 1


def test_bad_aibot_requests_queue_nothing():
    before = spool_files()
    for body, field in [
        ({}, "PhoneNumber"),
        ({"PhoneNumber": "2001\n"}, "PhoneNumber"),
        ({"PhoneNumber": "2001", "UserInputMethod": "telepathy"}, "UserInputMethod"),
        ({"PhoneNumber": "2001", "NextMessageWebhookUrl": "gopher://x"}, "NextMessageWebhookUrl"),
        ({"PhoneNumber": "2001", "CallStatusWebhookHeader": "A: b\r\nC: d"}, "CallStatusWebhookHeader"),
        ({"PhoneNumber": "2001", "GoToDestination": "x,y"}, "GoToDestination"),
    ]:
        r = request("aibot.php", body)
        assert r.status == 400, (body, r)
        assert r.json()["error"]["field"] == field, (body, r)
    assert request("aibot.php", {"PhoneNumber": "2001"}, token="nope").status == 401
    assert spool_files() - before == set()


def test_callee_hanging_up_mid_conversation_is_reported(hooks):
    # 2001 hangs up after 5 s of silence: here, while the call waits for digits.
    call_id = aibot({
        "PhoneNumber": "2001", "Language": "en_US", "MessageText": "Enter your code.",
        "UserInputMethod": "digits", "Timeout": 30,
        "NextMessageWebhookUrl": hooks.url + "/step", "CallStatusWebhookUrl": hooks.url + "/status",
    })
    status = hooks.wait("/status", timeout=60).json()
    assert status["CallId"] == call_id
    assert status["Outcome"] == "callee-hangup"
    assert status["Answer"] is True and status["Billsec"] > 0
    # The conversation ended with the hangup: no step was reported, and one status only.
    assert hooks.requests("/step") == []
    time.sleep(3)
    assert len(hooks.requests("/status")) == 1, hooks.requests("/status")


def test_a_number_that_cannot_be_reached_is_failed(hooks):
    # Nothing in from-internal answers to 2999: the originate fails at once.
    call_id = aibot({"PhoneNumber": "2999", "waittime": 3, "CallStatusWebhookUrl": hooks.url + "/status"})
    status = hooks.wait("/status", timeout=30).json()
    assert status["CallId"] == call_id
    assert status["Outcome"] == "failed" and status["Answer"] is False
    time.sleep(2)
    assert len(hooks.requests("/status")) == 1


def test_mp3_message_url_is_decoded_and_played(hooks, cdr):
    import subprocess
    import tempfile
    from conftest import PHONES, active_span, read_wav
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", f"{d}/m.wav",
                        "This message came from an M P 3 file."], check=True)
        subprocess.run(["sox", f"{d}/m.wav", "-r", "22050", f"{d}/m.mp3"], check=True)
        hooks.files["/message.mp3"] = open(f"{d}/m.mp3", "rb").read()
    assert hooks.files["/message.mp3"][:3] == b"ID3" or hooks.files["/message.mp3"][0] == 0xFF
    call_id = aibot({"PhoneNumber": "2001", "MessageUrl": hooks.url + "/message.mp3",
                     "GoToDestination": DEST})
    reached_dest(cdr, call_id)
    rec = PHONES / f"2001-{call_id}.wav"
    wait_for("the phone's recording", rec.exists, timeout=20)
    time.sleep(1)
    span, voiced = active_span(*read_wav(rec))
    assert span > 2.0 and voiced > 1.0, (span, voiced)
