"""index.php refuses every bad request with the right status and code, and queues nothing."""
import pytest

from conftest import TOKEN, request, spool_files

OK = {"tocall": "2003"}

CASES = [
    # (description, kwargs for request(), status, code, field)
    ("GET", dict(method="GET", body=None), 405, "method_not_allowed", None),
    ("PUT", dict(method="PUT", body=OK), 405, "method_not_allowed", None),
    ("no token", dict(body=OK, token=None), 401, "unauthorized", None),
    ("wrong token", dict(body=OK, token="0" * 64), 401, "unauthorized", None),
    ("token prefix", dict(body=OK, token=TOKEN[:-1]), 401, "unauthorized", None),
    ("empty token", dict(body=OK, token=""), 401, "unauthorized", None),
    ("text/plain", dict(body=OK, content_type="text/plain"), 415, "unsupported_media_type", None),
    ("form", dict(body=b"tocall=200", content_type="application/x-www-form-urlencoded"), 415,
     "unsupported_media_type", None),
    ("too large", dict(body=b'{"tocall":"2003","message":"' + b"a" * 70000 + b'"}'), 413,
     "body_too_large", None),
    ("malformed", dict(body=b'{"tocall": '), 400, "invalid_json", None),
    ("not an object", dict(body=b'["2003"]'), 400, "invalid_json", None),
    ("empty", dict(body=b""), 400, "invalid_json", None),
    ("duplicate keys", dict(body=b'{"tocall":"2003","tocall":"2001"}'), 400, "invalid_json", None),
    ("missing tocall", dict(body={"message": "hi"}), 400, "missing_field", "tocall"),
    ("tocall injection", dict(body={"tocall": "2003\nApplication: System"}), 400, "invalid_field",
     "tocall"),
    ("tocall channel", dict(body={"tocall": "2003@from-internal/n"}), 400, "invalid_field", "tocall"),
    ("tocall type", dict(body={"tocall": ["2003"]}), 400, "invalid_field", "tocall"),
    ("destination grammar", dict(body={"tocall": "2003", "destination": "from-internal,2001"}), 400,
     "invalid_field", "destination"),
    ("destination expression", dict(body={"tocall": "2003", "destination": "a,${X},1"}), 400,
     "invalid_field", "destination"),
    ("maxretries range", dict(body={"tocall": "2003", "maxretries": 1000}), 400, "invalid_field",
     "maxretries"),
    ("maxretires spelling range", dict(body={"tocall": "2003", "maxretires": -1}), 400,
     "invalid_field", "maxretires"),
    ("retrytime type", dict(body={"tocall": "2003", "retrytime": "soon"}), 400, "invalid_field",
     "retrytime"),
    ("waittime range", dict(body={"tocall": "2003", "waittime": 0}), 400, "invalid_field",
     "waittime"),
    ("callerid injection", dict(body={"tocall": "2003", "callerid": "A\r\nSetvar: X=1 <1>"}), 400,
     "invalid_field", "callerid"),
    ("language", dict(body={"tocall": "2003", "language": "it,x"}), 400, "invalid_field",
     "language"),
    ("voice", dict(body={"tocall": "2003", "voice": "a)b"}), 400, "invalid_field", "voice"),
    ("message NUL", dict(body={"tocall": "2003", "message": "a\u0000b"}), 400, "invalid_field",
     "message"),
    ("message type", dict(body={"tocall": "2003", "message": True}), 400, "invalid_field",
     "message"),
]


@pytest.mark.parametrize("desc,kwargs,status,code,field", CASES, ids=[c[0] for c in CASES])
def test_bad_request_is_refused_and_nothing_is_queued(desc, kwargs, status, code, field):
    before = spool_files()
    r = request("index.php", **kwargs)
    assert r.status == status, r
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    err = r.json()["error"]
    assert err["code"] == code, r
    assert err.get("field") == field, r
    assert isinstance(err["message"], str) and err["message"], r
    new = spool_files() - before
    assert not new, f"{desc}: the spool gained {new}"
    if status == 405:
        assert "POST" in r.headers.get("Allow", ""), r.headers
