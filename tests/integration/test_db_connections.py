"""A call in progress holds no MariaDB connection while it listens.

Each answered aibot call has its own PHP process (the EAGI script) for as long as the call
lasts. If that process kept its connections (the FreePBX bootstrap's PDO, the core's pool),
every call in progress would count against MariaDB's max_connections: at 100 calls the
stack's MariaDB refused sessions and status events ("Too many connections", BENCHMARKS.md).
The connections of the process are read from the kernel's socket tables (ss), so what is
counted is what MariaDB sees, whoever opened them."""
import os
import subprocess
import time

from conftest import ENV, cdr_rows, db_connect, request, wait_for

DB_SOCKET = ENV.get("DB_SOCKET", "")
DB_PORT = ENV.get("DB_PORT", "33061")


def session_pids():
    """PIDs of the running EAGI session processes."""
    r = subprocess.run(["pgrep", "-f", "apicall.php session"], capture_output=True, text=True)
    return {int(p) for p in r.stdout.split()}


def mariadb_connections(pid):
    """How many sockets of process `pid` are connected to the stack's MariaDB (its Unix socket
    or its TCP port)."""
    unix = subprocess.run(["ss", "-xpn"], capture_output=True, text=True, check=True).stdout
    server_inodes = set()
    ours = []
    for line in unix.splitlines():
        f = line.split()
        if len(f) < 8:
            continue
        local, local_inode, peer_inode = f[4], f[5], f[7]
        if DB_SOCKET and local == DB_SOCKET:
            server_inodes.add(local_inode)
        if f"pid={pid}," in line:
            ours.append(peer_inode)
    count = sum(1 for inode in ours if inode in server_inodes)
    tcp = subprocess.run(["ss", "-tnp"], capture_output=True, text=True, check=True).stdout
    count += sum(1 for line in tcp.splitlines()
                 if f"pid={pid}," in line and f"127.0.0.1:{DB_PORT} " in line + " ")
    return count


def test_a_listening_call_holds_no_database_connection(hooks, cdr):
    hooks.replies["/step"] = [{"MessageText": "Goodbye.", "Language": "en_US"}]
    before = session_pids()   # calls of earlier tests may still be ending
    r = request("aibot.php", {
        # The phone presses 1# after the prompt; the step waits for 6 digits, so it listens
        # until the inter-digit pause (5 s) ends it.
        "PhoneNumber": "20041", "Language": "en_US", "MessageText": "Please enter your code.",
        "UserInputMethod": "digits", "NumberOfExpectedDigits": 6, "Timeout": 20,
        "NextMessageWebhookUrl": hooks.url + "/step",
        "CallStatusWebhookUrl": hooks.url + "/status",
        "GoToDestination": "apicall-test-dest,s,1",
    })
    assert r.status == 200, r
    call_id = r.json()["id"]
    pid = wait_for("the call's EAGI session process",
                   lambda: max(session_pids() - before, default=None), timeout=30, interval=0.2)
    # The framework's connection is closed by MariaDB after 2 s idle; the core's pool is closed
    # before the step starts listening. 4 s in, the call is still waiting for its digits.
    time.sleep(4)
    assert os.path.exists(f"/proc/{pid}"), "the session ended before it could be checked"
    held = mariadb_connections(pid)
    assert held == 0, f"the listening session (pid {pid}) holds {held} MariaDB connection(s)"

    # The call goes on as before, the database used again when needed (new connections): the
    # timeout ends the step, the webhook gets it, its result and the call's end are recorded,
    # the call reaches its destination, and the status event is stored and sent.
    step = hooks.wait("/step", timeout=30).json()
    assert step["InputEnd"] == "timeout" and step["PressedDigits"].startswith("1"), step
    wait_for(f"call {call_id} to reach apicall-test-dest",
             lambda: cdr_rows(cdr, "userfield = %s", (f"dest:{call_id}",)), timeout=60)
    status = hooks.wait("/status", timeout=30).json()
    assert status["CallId"] == call_id and status["Outcome"] == "answered"
    conn = db_connect("asterisk")
    try:
        with conn.cursor() as c:
            c.execute("SELECT last_webhook, ended_at FROM apicall_calls WHERE id = %s", (call_id,))
            row = c.fetchone()
    finally:
        conn.close()
    assert row["last_webhook"] == "step 1: ok" and row["ended_at"] is not None, row
