"""make demo: a whole aibot conversation on the local stack, printed as it happens.

A demo webhook (this script, on 127.0.0.1) drives the call: it asks the test phone 2006 a
question, the phone answers by voice (transcribed by the local speech service), then asks for an
account number, the phone presses it, and the call says goodbye. The status webhook closes it.
"""
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENV = {}
for line in open(os.path.join(os.environ.get("STACK", ".stack"), "env")):
    if "=" in line and not line.startswith("#"):
        k, _, v = line.strip().partition("=")
        ENV[k] = v
URL, TOKEN = ENV["APICALL_URL"], ENV["APICALL_TOKEN"]
T0 = time.monotonic()
done = threading.Event()
# What the conversation produced: a demo that heard nothing is a failed demo (exit 1), not a
# quiet success.
heard = {"text": "", "digits": ""}


def say(who, text):
    print(f"[{time.monotonic() - T0:6.1f}s] {who:>8}: {text}", flush=True)


class Bot(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        reply = {}
        if self.path == "/step" and body.get("Step") == 1:
            heard["text"] = (body.get("UserAnswerText") or "").strip()
            said = heard["text"].rstrip(".") or "(nothing)"
            say("caller", f"\"{said}\"  (transcribed; recording: {body.get('UserAnswerMp3Url')})")
            reply = {"MessageText": f"You said: {said}. Please enter your account number, then press hash.",
                     "UserInputMethod": "digits", "EndDigit": "#",
                     "NextMessageWebhookUrl": f"http://127.0.0.1:{self.server.server_port}/step"}
            say("bot", reply["MessageText"])
        elif self.path == "/step":
            digits = heard["digits"] = body.get("PressedDigits", "")
            say("caller", f"pressed {digits or '(nothing)'} then #")
            reply = {"MessageText": f"Thank you. Account {' '.join(digits)}. Goodbye."}
            say("bot", reply["MessageText"])
        elif self.path == "/status":
            say("status", f"{body['Outcome']}: answered at {body['AnswerTimestamp']}, "
                          f"{body['Duration']} s in all, {body['Billsec']} s billed, "
                          f"details {body['CallDetailUrl']}")
            done.set()
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Bot)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{server.server_port}"
    question = "Hello, this is the apicall demo. How can I help you today?"
    request = {
        "PhoneNumber": "20067427", "Language": "en_US", "ContactId": "demo",
        "MessageText": question, "UserInputMethod": "voice", "UserAnswerSTT": True,
        "SpeechContext": ["pay my bill", "operator", "cancel my order"],
        "NextMessageWebhookUrl": hook + "/step", "CallStatusWebhookUrl": hook + "/status",
    }
    say("demo", f"POST {URL}/aibot.php  (test phone 2006: says phrase 7, then presses 427#)")
    req = urllib.request.Request(f"{URL}/aibot.php", data=json.dumps(request).encode(), method="POST",
                                 headers={"token": TOKEN, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            say("api", r.read().decode().strip())
    except urllib.error.HTTPError as e:
        say("api", f"HTTP {e.code} {e.read().decode()}")
        return 1
    say("bot", question)
    if not done.wait(120):
        say("demo", "no status after 120 s: see .stack/asterisk/log/full")
        return 1
    if not heard["text"] or not heard["digits"]:
        say("demo", "FAILED: " + ("nothing was transcribed" if not heard["text"] else "no digits came")
            + "; see .stack/asterisk/log/full and .stack/speechd/speechd.log")
        return 1
    say("demo", "done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
