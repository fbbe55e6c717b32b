"""max_concurrent_calls under concurrent requests: requests that arrive together must not all
see the last free places (the count and the queueing of each call hold one lock)."""
from concurrent.futures import ThreadPoolExecutor

from conftest import SPOOL, db_connect, request, wait_for


def queued_api_calls():
    d = SPOOL / "outgoing"
    return [p for p in d.iterdir() if p.name.startswith("apicall-")] if d.exists() else []


def stored_calls():
    conn = db_connect("asterisk")
    try:
        with conn.cursor() as c:
            c.execute("SELECT COUNT(*) AS n FROM apicall_calls")
            return c.fetchone()["n"]
    finally:
        conn.close()


def talking_api_calls():
    conn = db_connect("asterisk")
    try:
        with conn.cursor() as c:
            c.execute("SELECT COUNT(*) AS n FROM apicall_calls WHERE status = 'answered' "
                      "AND answered_at > NOW() - INTERVAL 2 HOUR")
            return c.fetchone()["n"]
    finally:
        conn.close()


def test_concurrent_requests_never_exceed_max_concurrent_calls(setting):
    # Start from an empty queue, so that no earlier call ends (and frees a place) meanwhile.
    wait_for("no API call in the spool", lambda: not queued_api_calls(), timeout=60)
    places = 3
    setting("max_concurrent_calls", str(talking_api_calls() + places))
    # 2002 rings and never answers: each queued call stays in the spool for its waittime.
    bodies = [("index.php", {"tocall": "2002", "waittime": 6}),
              ("aibot.php", {"PhoneNumber": "2002", "waittime": 6})] * 12
    rows_before = stored_calls()
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        answers = list(pool.map(lambda b: request(b[0], b[1]), bodies))
    statuses = sorted(a.status for a in answers)
    assert statuses.count(200) == places, answers
    assert statuses.count(429) == len(bodies) - places, answers
    for a in answers:
        if a.status == 429:
            assert a.json()["error"]["code"] == "too_many_calls", a
    # Every call answered 200 was queued, and no other.
    ids = {a.json()["id"] for a in answers if a.status == 200}
    assert len(ids) == places
    # A refused call leaves nothing: aibot.php stores its row and writes its call file before
    # it asks for a place, and removes both when it gets none.
    aibot_ok = sum(1 for (path, _), a in zip(bodies, answers) if path == "aibot.php" and a.status == 200)
    assert stored_calls() - rows_before == aibot_ok
    assert not [p for p in (SPOOL / "tmp").iterdir() if p.name.startswith("apicall-")]
    # 2002 rings for 6 s: the calls answered 200 are still in the spool, and no other.
    queued = {p.name for p in queued_api_calls()}
    assert queued == {f"apicall-{i}.call" for i in ids}, (queued, ids)
    # Leave the spool as found, for the tests that count calls after this one.
    wait_for("the test's calls to end", lambda: not queued_api_calls(), timeout=60)
