"""A fake InfluxDB write endpoint (a fake, not InfluxDB): records every
request it receives -- arrival time, path, headers, the line-protocol lines
after gunzip -- and answers as the test scripts it: a status with headers and
body, or a hang (accept, read, never answer). Used where a real influxd cannot
be made to misbehave on demand (500s, 429 with Retry-After, 413, hangs).
Optionally forwards accepted writes to a real influxd."""

import gzip
import http.server
import threading
import time

import harness


class Request:
    def __init__(self, path, headers, lines):
        self.at = time.monotonic()
        self.path = path
        self.headers = headers
        self.lines = lines
        # What it was answered: the status, "hang", or None while the answer
        # is still being decided.
        self.status = None


class FakeInflux:
    def __init__(self, answer=None):
        """answer(index, request) -> (status, headers dict, body bytes) or "hang"."""
        self.answer = answer or (lambda i, r: (204, {}, b""))
        self.requests = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                lines = [x for x in body.decode("utf-8", "replace").split("\n") if x]
                req = Request(self.path, dict(self.headers), lines)
                with fake.lock:
                    index = len(fake.requests)
                    fake.requests.append(req)
                reply = fake.answer(index, req)
                req.status = reply if reply == "hang" else reply[0]
                if reply == "hang":
                    fake.release.wait(60)
                    self.close_connection = True
                    return
                status, headers, payload = reply
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def count(self):
        with self.lock:
            return len(self.requests)

    def snapshot(self):
        with self.lock:
            return list(self.requests)

    def answered(self, status):
        """The requests answered with `status` (an int, or "hang")."""
        return [r for r in self.snapshot() if r.status == status]

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
