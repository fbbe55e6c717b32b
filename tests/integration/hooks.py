"""A webhook receiver for the integration tests: a real HTTP server on 127.0.0.1 that records
every request and answers what the test scripted (a JSON step, an HTTP error, garbage, a hang)."""
import json
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Received:
    def __init__(self, path, headers, body, raw_headers=()):
        self.path = path
        self.headers = headers
        # (name, value) pairs exactly as sent, names in the sender's case: a receiver's framework
        # may hand them on like that (PHP's getallheaders()).
        self.raw_headers = list(raw_headers)
        self.body = body
        self.at = time.time()

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.path} {self.body[:200]!r}>"


class HookServer:
    """`replies[path]` is a list of replies used in order (the last one repeats). A reply is a
    dict (sent as JSON 200), or a tuple (status, bytes), or ("sleep", seconds, reply)."""

    def __init__(self, port=0):
        self.replies = {}
        self.files = {}
        self.received = queue.Queue()
        self.log = []
        # path -> function(body) that raises on an invalid body; failures are kept in .errors.
        self.validators = {}
        self.errors = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                body = server.files.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "audio/wav")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                rec = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                               self.headers.items())
                server.log.append(rec)
                check = server.validators.get(self.path)
                if check:
                    try:
                        check(json.loads(body))
                    except Exception as e:  # noqa: BLE001 - reported by the fixture
                        server.errors.append(f"{self.path}: {e}")
                server.received.put(rec)
                reply = server._next_reply(self.path)
                if isinstance(reply, tuple) and reply and reply[0] == "sleep":
                    time.sleep(reply[1])
                    reply = reply[2]
                if isinstance(reply, tuple):
                    status, data = reply
                else:
                    status, data = 200, json.dumps(reply).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def _next_reply(self, path):
        replies = self.replies.get(path) or [{}]
        return replies.pop(0) if len(replies) > 1 else replies[0]

    def wait(self, path, timeout=60):
        """The next request to `path` (others stay recorded in .log)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                rec = self.received.get(timeout=0.2)
            except queue.Empty:
                continue
            if rec.path == path:
                return rec
        raise AssertionError(f"no request to {path} within {timeout} s; got {self.log}")

    def requests(self, path):
        return [r for r in self.log if r.path == path]

    def close(self):
        self.httpd.shutdown()
