"""openapi.yaml describes what the module really answers and sends."""
import json

import pytest

import openapi_check
from conftest import request


def test_the_spec_is_a_valid_openapi_3_1_document():
    spec = openapi_check.SPEC
    assert spec["openapi"].startswith("3.1")
    assert set(spec["paths"]) == {"/index.php", "/aibot.php", "/cdr.php", "/answer.php"}
    assert set(spec["webhooks"]) == {"nextMessage", "callStatus"}
    # Every schema is valid JSON Schema 2020-12.
    import jsonschema
    for name, s in spec["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(s)


CASES = [
    ("/index.php", "POST", {"tocall": "2003", "waittime": 2}, {}),
    ("/index.php", "POST", {"tocall": "20 03"}, {}),
    ("/index.php", "POST", {}, {}),
    ("/index.php", "POST", b"{nope", {}),
    ("/index.php", "POST", {"tocall": "2003"}, {"token": "wrong"}),
    ("/index.php", "GET", None, {}),
    ("/index.php", "POST", {"tocall": "2003"}, {"content_type": "text/plain"}),
    ("/index.php", "POST", b'{"tocall":"' + b"1" * 70000 + b'"}', {}),
    ("/aibot.php", "POST", {"PhoneNumber": "2003", "waittime": 2}, {}),
    ("/aibot.php", "POST", {"PhoneNumber": "2003", "UserInputMethod": "fax"}, {}),
    ("/aibot.php", "POST", {"PhoneNumber": "2003"}, {"token": None}),
    ("/cdr.php", "GET", None, {}),
    ("/cdr.php", "GET", None, {"query": "?uniqueid=1.2"}),
    ("/cdr.php", "GET", None, {"query": "?linkedid=x;y"}),
    ("/cdr.php", "POST", {}, {}),
    ("/answer.php", "GET", None, {"query": "?f=x.mp3&e=1&s=00", "token": None}),
]


@pytest.mark.parametrize("path,method,body,opts", CASES, ids=[f"{c[1]} {c[0]} {i}" for i, c in enumerate(CASES)])
def test_real_responses_match_the_spec(path, method, body, opts):
    opts = dict(opts)
    query = opts.pop("query", "")
    r = request(path.lstrip("/") + query, body=body, method=method, **opts)
    openapi_check.response(path, method, r.status, json.loads(r.body))


def test_the_checker_rejects_what_the_spec_forbids():
    with pytest.raises(AssertionError):
        openapi_check.response("/index.php", "POST", 200, {"id": "not-hex", "status": "queued", "tocall": "1"})
    with pytest.raises(AssertionError):
        openapi_check.response("/index.php", "POST", 400, {"error": {"code": "nope", "field": None, "message": "x"}})
    with pytest.raises(AssertionError):
        openapi_check.response("/index.php", "POST", 418, {})
    with pytest.raises(AssertionError):
        openapi_check.webhook("callStatus", {"Outcome": "answered"})
    with pytest.raises(AssertionError):
        openapi_check.webhook("nextMessage", {"UniqueID": "1.2", "LinkedID": "1.2", "CallerIDNum": "", "CallerIDName": "",
                                              "ConnectedLineIDNum": "", "ConnectedLineIDName": "", "ContactId": None,
                                              "CampaignId": None, "PressedDigits": "12a", "UserAnswerMp3Url": None,
                                              "UserAnswerText": None, "UserAnswerAlternatives": [], "Step": 1,
                                              "InputEnd": "digits"})


def test_refusals_of_the_access_checks_match_the_spec(setting, no_failed_tokens):
    # 403: the client's address is not in ip_allowlist, on every token-protected entry point.
    setting("ip_allowlist", "10.0.0.0/8")
    for path, body, method in [("index.php", {"tocall": "2003"}, "POST"),
                               ("aibot.php", {"PhoneNumber": "2003"}, "POST"),
                               ("cdr.php?linkedid=1.2", None, "GET")]:
        r = request(path, body=body, method=method)
        assert r.status == 403 and r.json()["error"]["code"] == "forbidden", (path, r)
        openapi_check.http_response("/" + path.split("?")[0], method, r)
    setting("ip_allowlist", "")
    # 429: too many failed tokens from this address refuses even the right token for a while.
    setting("token_failures_per_minute", "2")
    for _ in range(2):
        r = request("aibot.php", {"PhoneNumber": "2003"}, token="bad")
        assert r.status == 401, r
        openapi_check.http_response("/aibot.php", "POST", r)
    for path, body, method in [("aibot.php", {"PhoneNumber": "2003"}, "POST"),
                               ("cdr.php?linkedid=1.2", None, "GET")]:
        r = request(path, body=body, method=method)
        assert r.status == 429 and int(r.headers["Retry-After"]) > 0, (path, r)
        assert r.json()["error"]["code"] == "too_many_requests", r
        openapi_check.http_response("/" + path.split("?")[0], method, r)


def test_an_idempotency_key_still_in_flight_gets_the_declared_409():
    import hashlib
    import os
    from conftest import db_connect
    # A first request with this key is being handled (its row is claimed, no answer stored yet):
    # that is the state a concurrent repeat of the request meets.
    key = "in-flight-" + os.urandom(6).hex()
    digest = hashlib.sha256(f"originate\n{key}".encode()).hexdigest()
    conn = db_connect("asterisk")
    with conn.cursor() as c:
        c.execute("INSERT INTO apicall_idempotency (idem_key, endpoint, created) VALUES (%s, 'originate', NOW())",
                  (digest,))
    try:
        r = request("index.php", {"tocall": "2003", "waittime": 2}, headers={"Idempotency-Key": key})
        assert r.status == 409, r
        assert r.json()["error"]["code"] == "idempotency_conflict" and int(r.headers["Retry-After"]) >= 1, r
        openapi_check.http_response("/index.php", "POST", r)
    finally:
        with conn.cursor() as c:
            c.execute("DELETE FROM apicall_idempotency WHERE idem_key = %s", (digest,))
        conn.close()


def test_the_checker_knows_the_audio_answer():
    from conftest import Response
    mp3 = Response(200, {"Content-Type": "audio/mpeg"}, b"\xff\xf3\x00")
    openapi_check.http_response("/answer.php", "GET", mp3)
    with pytest.raises(AssertionError):
        openapi_check.http_response("/answer.php", "GET", Response(200, {"Content-Type": "text/html"}, b"<p>"))
    with pytest.raises(AssertionError):
        openapi_check.http_response("/cdr.php", "GET", Response(200, {"Content-Type": "audio/mpeg"}, b"\xff"))
    # 500 and 503 are declared on every entry point: each can happen (public.php's guard).
    for path, method in [("/index.php", "post"), ("/aibot.php", "post"), ("/cdr.php", "get"), ("/answer.php", "get")]:
        assert {"500", "503"} <= set(openapi_check.SPEC["paths"][path][method]["responses"]), path
