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
