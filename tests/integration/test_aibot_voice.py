"""Spoken answers on the real stack: endpointed, kept as MP3 behind a signed expiring link, and
transcribed by the local speech service."""
import hashlib
import os
import hmac
import subprocess
import tempfile
import time
import urllib.parse

import openapi_check
from conftest import REPO, STACK, cdr_rows, db_connect, request, wait_for

DEST = "apicall-test-dest,s,1"
PHRASES = [l for l in open(__file__.rsplit("/", 3)[0] + "/tests/stack/phrases.txt").read().splitlines()
           if l and not l.startswith("#")]


def url_secret():
    conn = db_connect("asterisk")
    with conn.cursor() as c:
        c.execute("SELECT val FROM kvstore_FreePBX_modules_Apicall WHERE `key`='url_secret' AND id='noid'")
        return c.fetchone()["val"]


def get(url):
    path = url.split("/apicall/", 1)[1]
    return request(path, method="GET", body=None, token=None)


def test_spoken_answer_is_transcribed_and_downloadable(hooks, cdr):
    # Recordings older than the retention period (7 days) are deleted when answers are kept.
    answers = STACK / "asterisk" / "spool" / "apicall" / "answers"
    assert answers.is_dir(), "the stack makes the answers folder (owned by asterisk)"
    stale, recent = answers / ("0" * 32 + "-1.mp3"), answers / ("1" * 32 + "-1.mp3")
    for f, age_days in ((stale, 8), (recent, 6)):
        f.write_bytes(b"old")
        t = time.time() - age_days * 86400
        os.utime(f, (t, t))
    hooks.replies["/step"] = [{"MessageText": "Thank you.", "Language": "en_US"}]
    r = request("aibot.php", {
        "PhoneNumber": "20053", "Language": "en_US", "MessageText": "How can I help you?",
        "UserInputMethod": "voice", "UserAnswerSTT": True, "SpeechContext": ["account balance"],
        "EndOfSpeakSilenceLength": 0.8,
        "NextMessageWebhookUrl": hooks.url + "/step", "GoToDestination": DEST,
    })
    assert r.status == 200, r
    call_id = r.json()["id"]
    step = hooks.wait("/step", timeout=60).json()
    assert step["InputEnd"] == "silence"
    text = (step["UserAnswerText"] or "").lower()
    # Phrase 3: "I would like to speak to an operator". The hint (SpeechContext) is not one of
    # the words checked: they must be heard, not suggested.
    for word in ("speak", "operator"):
        assert word in text, step
    t = step["Timings"]
    # EndOfSpeakSilenceLength 0.8 s: detected 0.8 s (plus at most a frame) after speech ended.
    assert 780 <= t["endpointed_ms"] <= 800 + 40, t
    assert t["endpointed_ms"] <= t["transcribed_ms"] <= t["webhook_sent_ms"] < 5000, t
    assert t["first_audio_ms"] is not None and t["first_audio_ms"] < 5000, t
    alts = step["UserAnswerAlternatives"]
    assert alts and alts[0]["transcript"] == step["UserAnswerText"]
    assert 0 < alts[0]["confidence"] <= 1

    url = step["UserAnswerMp3Url"]
    assert url.startswith("http://127.0.0.1:8580/apicall/answer.php?"), url
    ok = get(url)
    assert ok.status == 200, ok
    assert ok.headers["Content-Type"].startswith("audio/mpeg")
    openapi_check.http_response("/answer.php", "GET", ok)
    mp3 = ok.body
    # 24 kbps: about 3 kB per second; the phrase lasts about 2.6 s.
    assert 5000 < len(mp3) < 20000, len(mp3)
    # The MP3 decodes (the project's own decoder, in the apicall tool) and still says the phrase.
    with tempfile.NamedTemporaryFile(suffix=".mp3") as f:
        f.write(mp3)
        f.flush()
        heard = subprocess.run([str(REPO / "target/debug/apicall"), "stt", "--lang", "en-US",
                                "--provider", "local", "--set", "stt_url=http://127.0.0.1:8765", f.name],
                               capture_output=True, text=True, timeout=60)
    assert heard.returncode == 0, heard.stderr
    assert "operator" in heard.stdout.lower(), heard.stdout

    q = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(url).query))
    base = "answer.php?f=" + q["f"]
    assert get(f"http://x/apicall/{base}&e={q['e']}").status == 403                 # no signature
    assert get(f"http://x/apicall/{base}&e={q['e']}&s={'0' * 64}").status == 403     # forged
    assert get(f"http://x/apicall/{base}&e={int(q['e']) + 1}&s={q['s']}").status == 403  # altered
    # Expired: a genuine signature (made with the install's secret) for a time in the past.
    past = int(time.time()) - 10
    sig = hmac.new(url_secret().encode(), f"{q['f']}\n{past}".encode(), hashlib.sha256).hexdigest()
    expired = get(f"http://x/apicall/{base}&e={past}&s={sig}")
    assert expired.status == 403 and "expired" in expired.json()["error"]["message"], expired
    openapi_check.http_response("/answer.php", "GET", expired)
    # A genuine link to an answer that is gone (deleted after the retention period): 404.
    gone = "f" * 32 + "-9.mp3"
    future = int(time.time()) + 60
    sig = hmac.new(url_secret().encode(), f"{gone}\n{future}".encode(), hashlib.sha256).hexdigest()
    missing = get(f"http://x/apicall/answer.php?f={gone}&e={future}&s={sig}")
    assert missing.status == 404 and missing.json()["error"]["code"] == "not_found", missing
    openapi_check.http_response("/answer.php", "GET", missing)
    # The same genuine signature scheme with a future time works: the 403 above was the expiry.
    future = int(time.time()) + 60
    sig = hmac.new(url_secret().encode(), f"{q['f']}\n{future}".encode(), hashlib.sha256).hexdigest()
    assert get(f"http://x/apicall/{base}&e={future}&s={sig}").status == 200

    wait_for("the destination", lambda: cdr_rows(cdr, "userfield = %s", (f"dest:{call_id}",)), 30)
    assert not stale.exists() and recent.exists()
    recent.unlink()


def test_silence_times_out_without_a_recording(hooks):
    # 2002 never answers, 2001 records and says nothing: use 2001 with a short Timeout.
    r = request("aibot.php", {
        "PhoneNumber": "2001", "Language": "en_US", "MessageText": "Say something.",
        "UserInputMethod": "voice", "UserAnswerSTT": True, "Timeout": 3,
        "NextMessageWebhookUrl": hooks.url + "/step",
    })
    assert r.status == 200, r
    step = hooks.wait("/step", timeout=40).json()
    assert step["InputEnd"] == "timeout"
    assert step["UserAnswerMp3Url"] is None and step["UserAnswerText"] is None


def test_speech_then_digits_conversation(hooks):
    hooks.replies["/step"] = [
        {"MessageText": "Now enter your account number, then hash.", "UserInputMethod": "digits",
         "EndDigit": "#", "NextMessageWebhookUrl": hooks.url + "/step"},
        {"MessageText": "Goodbye."},
    ]
    r = request("aibot.php", {
        "PhoneNumber": "20067427", "Language": "en_US", "MessageText": "What would you like to do?",
        "UserInputMethod": "voice", "UserAnswerSTT": True,
        "NextMessageWebhookUrl": hooks.url + "/step",
    })
    assert r.status == 200, r
    first = hooks.wait("/step", timeout=60).json()
    second = hooks.wait("/step", timeout=60).json()
    assert "pay" in (first["UserAnswerText"] or "").lower() and "bill" in first["UserAnswerText"].lower(), first
    assert second["PressedDigits"] == "427", second
    assert second["Step"] == 2


def test_answer_link_works_until_answer_url_lifetime_then_403(hooks, setting):
    setting("answer_url_lifetime", "4")
    hooks.replies["/step"] = [{}]
    r = request("aibot.php", {
        "PhoneNumber": "20051", "Language": "en_US", "MessageText": "Say something.",
        "UserInputMethod": "voice", "NextMessageWebhookUrl": hooks.url + "/step",
    })
    assert r.status == 200, r
    step = hooks.wait("/step", timeout=60)
    url = step.json()["UserAnswerMp3Url"]
    assert url, step
    e = int(dict(urllib.parse.parse_qsl(urllib.parse.urlparse(url).query))["e"])
    # The link's own expiry is the lifetime set: 4 s after it was made.
    assert step.at - 1 <= e - 4 <= step.at + 1, (e, step.at)
    assert get(url).status == 200
    time.sleep(max(0.0, e - time.time()) + 1.2)
    late = get(url)
    assert late.status == 403 and "expired" in late.json()["error"]["message"], late
