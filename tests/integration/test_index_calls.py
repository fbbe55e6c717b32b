"""index.php places real calls on the stack's Asterisk: heard by a test phone, ending at the
destination, recorded in the CDR table, retried as asked."""
import re
import time

from conftest import (AST_LOG, PHONES, active_span, cdr_rows, read_wav, request, spool_files,
                      wait_for)

MESSAGE = "Hello. This is a test call from the A P I call module. Goodbye."


def test_answered_call_hears_the_message_and_ends_at_the_destination(cdr):
    r = request("index.php", {
        "tocall": "2001",
        "message": MESSAGE,
        "language": "en_US",
        "destination": "apicall-test-dest,s,1",
        "callerid": "Apicall Test <7001>",
    })
    assert r.status == 200, r
    body = r.json()
    call_id = body["id"]
    assert re.fullmatch(r"[0-9a-f]{32}", call_id), body
    assert body["status"] == "queued"
    expected = body["message_seconds"]
    assert expected > 2.0, body

    # The destination context marks the CDR of the call's own channel when it gets there.
    dest = wait_for("the call to reach apicall-test-dest",
                    lambda: cdr_rows(cdr, "userfield = %s", (f"dest:{call_id}",)), timeout=60)
    assert dest[0]["disposition"] == "ANSWERED", dest

    # The callee leg: a CDR row for 2001, answered, with our caller id.
    callee = wait_for("the CDR row of phone 2001",
                      lambda: cdr_rows(cdr, "dst = '2001' AND calldate >= NOW() - INTERVAL 5 MINUTE"
                                            " AND clid LIKE %s", ('%7001%',)), timeout=30)
    assert any(row["disposition"] == "ANSWERED" and row["billsec"] >= 2 for row in callee), callee
    assert any("Apicall Test" in row["clid"] for row in callee), callee

    # What the phone heard: non-silent speech about as long as the synthesized message.
    rec = PHONES / f"2001-{call_id}.wav"
    wait_for(f"the recording {rec}", rec.exists, timeout=30)
    time.sleep(1.0)
    rate, samples = read_wav(rec)
    span, voiced = active_span(rate, samples)
    assert abs(span - expected) < 0.8, (span, expected)
    assert voiced > 0.5 * expected, (voiced, expected)

    # The call file is gone from the spool once Asterisk took it.
    assert not any(call_id in f for f in spool_files())


def test_repeated_message_comes_from_the_cache():
    msg = f"Cache check {time.time_ns()}."
    first = request("index.php", {"tocall": "2003", "message": msg, "language": "en",
                                     "callerid": "7009"})
    second = request("index.php", {"tocall": "2003", "message": msg, "language": "en",
                                     "callerid": "7009"})
    assert first.status == second.status == 200, (first, second)
    assert first.json()["message_cached"] is False
    assert second.json()["message_cached"] is True
    assert first.json()["id"] != second.json()["id"]


def test_unanswered_call_is_retried_maxretries_times(cdr):
    start = time.time()
    # The original's spelling `maxretires` is part of the contract.
    r = request("index.php", {"tocall": "2002", "maxretires": 1, "retrytime": 2, "waittime": 4,
                                     "callerid": "7002"})
    assert r.status == 200, r

    def attempts():
        # One attempt = one Local channel pair; its ;2 half is the leg that rang the phone.
        rows = cdr_rows(cdr, "dst = '2002' AND clid LIKE '%%7002%%' AND channel LIKE '%%;2'"
                             " AND calldate >= FROM_UNIXTIME(%s)", (int(start) - 1,))
        return rows if len({r["linkedid"] for r in rows}) >= 2 else None

    rows = wait_for("two attempts on 2002 in the CDR table", attempts, timeout=40)
    assert all(row["disposition"] != "ANSWERED" for row in rows), rows
    # And no third attempt.
    time.sleep(8)
    rows = attempts()
    assert len({r["linkedid"] for r in rows}) == 2, rows


def test_busy_phone_is_not_retried_without_maxretries(cdr):
    start = time.time()
    r = request("index.php", {"tocall": "2003", "waittime": 5, "callerid": "7003"})
    assert r.status == 200, r
    rows = wait_for("the CDR row of 2003",
                    lambda: cdr_rows(cdr, "dst = '2003' AND clid LIKE '%%7003%%' AND calldate >= FROM_UNIXTIME(%s)",
                                     (int(start) - 1,)), timeout=30)
    time.sleep(4)
    rows = cdr_rows(cdr, "dst = '2003' AND clid LIKE '%%7003%%' AND channel LIKE '%%;2'"
                         " AND calldate >= FROM_UNIXTIME(%s)", (int(start) - 1,))
    assert len(rows) == 1, rows
    assert rows[0]["disposition"] == "BUSY", rows
