"""A fake Shelly plug (a fake, not a plug: none can be on the test machine).
It serves the answers recorded from real plugs (test/fixtures/shelly/) on
127.0.0.1: a Gen1 Plug S (GET /shelly, /status, HTTP Basic when a password
is set) or a Gen2 Plus Plug S (GET /shelly, /rpc/Switch.GetStatus?id=0 with
HTTP Digest SHA-256 as the plug does it: the recorded 401 challenge, then
the RFC 7616 response checked with hashlib).

The test can move the plug's energy counter (as a reboot of the plug
resets it) and stop the fake (the plug unplugged)."""

import base64
import hashlib
import http.server
import json
import os
import re
import socket
import threading
import time

import harness

FIXTURES = os.path.join(harness.SOURCE_DIR, "test", "fixtures", "shelly")


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return f.read()


def recorded_challenge():
    """The WWW-Authenticate value of the recorded 401."""
    m = re.search(r"^WWW-Authenticate: (.*?)\r?$", fixture("gen2-401-challenge.http"), re.M)
    return m.group(1)


def digest_params(header):
    """The name=value pairs of an Authorization: Digest header."""
    if not header or not header.startswith("Digest "):
        return None
    return {k: v1 if v1 else v2
            for k, v1, v2 in re.findall(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))', header[7:])}


class FakeShelly:
    def __init__(self, generation, password=""):
        self.generation = generation
        self.password = password
        self.lock = threading.Lock()
        self.energy_wh = None  # None: the recorded counter
        self.delay = 0.0  # seconds before each answer (a slow plug)
        self.connections = set()  # open keep-alive connections, closed by stop()
        self.counts = {"requests": 0, "unauthorized": 0, "authorized": 0, "bad_digest": 0}
        info = json.loads(fixture("gen1-shelly.json" if generation == 1 else "gen2-shelly.json"))
        if generation == 1:
            info["auth"] = bool(password)
        else:
            info["auth_en"] = bool(password)
        self.info = info
        self.challenge = recorded_challenge()
        self.realm = re.search(r'realm="([^"]*)"', self.challenge).group(1)
        self.nonce = re.search(r'nonce="([^"]*)"', self.challenge).group(1)
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                with fake.lock:
                    fake.connections.add(self.connection)

            def finish(self):
                with fake.lock:
                    fake.connections.discard(self.connection)
                super().finish()

            def do_GET(self):
                with fake.lock:
                    delay = fake.delay
                if delay:
                    time.sleep(delay)
                status, headers, body = fake.answer(self.command, self.path, self.headers)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        """The plug unplugged: the port refuses connections from now on."""
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            for c in self.connections:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def set_energy_wh(self, wh):
        """Sets the plug's energy counter, e.g. back near 0 as after a reboot."""
        with self.lock:
            self.energy_wh = wh

    def set_delay(self, seconds):
        """Answers from now on after `seconds` (a plug on bad Wi-Fi)."""
        with self.lock:
            self.delay = seconds

    def count(self, what):
        with self.lock:
            return self.counts[what]

    # ------------------------------------------------------------ answers

    def answer(self, method, path, headers):
        with self.lock:
            self.counts["requests"] += 1
        if path == "/shelly":  # never protected, on every generation
            return self.json(self.info)
        if self.generation == 1:
            if path != "/status":
                return 404, {}, b"Not Found"
            if self.password and not self.basic_ok(headers.get("Authorization")):
                self.counted("unauthorized")
                return 401, {"WWW-Authenticate": 'Basic realm="SHPLG-S"'}, b"401 Unauthorized"
            return self.json(json.loads(fixture("gen1-status.json")))
        if not path.startswith("/rpc/Switch.GetStatus"):
            return 404, {}, b"Not Found"
        if path != "/rpc/Switch.GetStatus?id=0":
            return self.json({"code": -105, "message": "Argument 'id', value not found!"}, 500)
        if self.password:
            verdict = self.digest_ok(method, path, headers.get("Authorization"))
            if verdict != "ok":
                self.counted("unauthorized" if verdict == "none" else "bad_digest")
                return 401, {"WWW-Authenticate": self.challenge,
                             "Content-Type": "text/plain"}, b""
            self.counted("authorized")
        status = json.loads(fixture("gen2-switch-getstatus.json"))
        with self.lock:
            if self.energy_wh is not None:
                status["aenergy"]["total"] = self.energy_wh
        return self.json(status)

    def counted(self, what):
        with self.lock:
            self.counts[what] += 1

    @staticmethod
    def json(value, status=200):
        return status, {"Content-Type": "application/json"}, json.dumps(value).encode()

    def basic_ok(self, header):
        expected = base64.b64encode(f"admin:{self.password}".encode()).decode()
        return header == f"Basic {expected}"

    def digest_ok(self, method, path, header):
        p = digest_params(header)
        if p is None:
            return "none"

        def h(text):
            return hashlib.sha256(text.encode()).hexdigest()

        if (p.get("username") != "admin" or p.get("realm") != self.realm
                or p.get("nonce") != self.nonce or p.get("uri") != path
                or p.get("algorithm") != "SHA-256" or p.get("qop") != "auth"
                or not re.fullmatch(r"[0-9a-f]{8}", p.get("nc", ""))):
            return "bad"
        ha1 = h(f"admin:{self.realm}:{self.password}")
        ha2 = h(f"{method}:{path}")
        expected = h(f"{ha1}:{self.nonce}:{p['nc']}:{p.get('cnonce', '')}:auth:{ha2}")
        return "ok" if p.get("response") == expected else "bad"
