"""make demo's script (tests/stack/demo.py) on the real stack: the conversation it prints holds
the caller's transcribed answer and the digits pressed, and it exits 0 only then."""
import os
import re
import subprocess
import sys

from conftest import REPO, STACK


def test_demo_prints_a_transcript_and_the_digits():
    r = subprocess.run([sys.executable, str(REPO / "tests/stack/demo.py")], capture_output=True, text=True,
                       timeout=150, env={**os.environ, "STACK": str(STACK)})
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    # Phone 2006 says phrase 7 ("I want to pay my bill"), then presses 4 2 7 #.
    said = re.search(r'caller: "([^"]+)"\s+\(transcribed', out)
    assert said and "bill" in said.group(1).lower(), out
    assert "caller: pressed 427 then #" in out, out
    assert re.search(r"status: answered: answered at \d{4}-\d\d-\d\d", out), out
