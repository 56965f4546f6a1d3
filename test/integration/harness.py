"""Shared code for edgemon's integration tests.

Every test file is one ctest entry run as `python3 test_x.py`. This module
starts the real daemon (and real peers) on loopback, talks HTTP to them,
parses the Prometheus text format, and makes sure every process it started is
gone when the test ends, whatever happens.

Environment (set by CMake): EDGEMON_BIN, EDGEMON_SOURCE_DIR, EDGEMON_SANITIZE.
"""

import atexit
import ctypes
import gzip
import http.client
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("EDGEMON_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("EDGEMON_BIN") or os.path.join(SOURCE_DIR, "build", "edgemon")
SANITIZE = os.environ.get("EDGEMON_SANITIZE", "0").strip().upper() in (
    "1", "ON", "TRUE", "YES", "Y")
# ASan+UBSan make the daemon several times slower and bigger: every time
# bound in the tests is multiplied by this.
SLOW = 4.0 if SANITIZE else 1.0

EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Skip(Exception):
    """Raised when a required peer binary is missing."""


# ---------------------------------------------------------------- processes

_procs = []
_tmpdirs = []


def _cleanup():
    # Kill by PID and reap (waitpid) so no child outlives the test.
    for p in _procs:
        if p.poll() is None:
            try:
                p.kill()
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
    for d in _tmpdirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)
# ctest sends SIGTERM on a timeout; turn it into a normal exit so atexit runs.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(124))

try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:
    _libc = None


def _die_with_parent():
    # If the test runner itself is SIGKILLed, the kernel kills its children
    # too (PR_SET_PDEATHSIG), so no daemon is left holding a port.
    if _libc is not None:
        _libc.prctl(1, signal.SIGKILL, 0, 0, 0)


def spawn(cmd, env=None, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw):
    """Starts a child that is cleaned up at exit."""
    full_env = dict(os.environ)
    if env:
        for k, v in env.items():
            if v is None:
                full_env.pop(k, None)
            else:
                full_env[k] = v
    p = subprocess.Popen(cmd, env=full_env, stdin=subprocess.DEVNULL, stdout=stdout,
                         stderr=stderr, preexec_fn=_die_with_parent, **kw)
    _procs.append(p)
    return p


def stop_process(p, sig=signal.SIGTERM, timeout=10.0):
    """Signals one child by PID and waits for it; SIGKILL after timeout. Returns rc."""
    if p.poll() is None:
        try:
            p.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)
    return p.returncode


def make_tmpdir(prefix="edgemon-it-"):
    d = tempfile.mkdtemp(prefix=prefix)
    _tmpdirs.append(d)
    return d


def write_file(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def write_recorded_tree(tree_file, root):
    """Writes a recorded file tree under `root`: test/fixtures/sysfs/*.txt
    hold one `path<TAB>content` line a file, `-> target` for a symlink, and
    stand in for hardware (power chips) this machine does not have."""
    with open(tree_file, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            path, content = line.split("\t", 1)
            full = os.path.join(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            if content.startswith("-> "):
                os.symlink(content[3:], full)
            else:
                write_file(full, content + "\n")
    return root


def require_binary(name, *candidates):
    """Path of a peer binary, or Skip if it is not installed."""
    for c in (name,) + candidates:
        path = c if os.path.isabs(c) and os.access(c, os.X_OK) else shutil.which(c)
        if path:
            return path
    raise Skip(f"{name} is not installed (make deps installs it)")


def free_port(host="127.0.0.1"):
    """A port free right now, for peers that cannot bind port 0 and report it.

    Racy by nature (another process may take it before the peer binds), so
    the start_* helpers retry with a fresh port when the peer fails to bind.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def rss_bytes(pid):
    return _status_field(pid, "VmRSS")


def hwm_bytes(pid):
    return _status_field(pid, "VmHWM")


def _status_field(pid, field):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def eventually(pred, timeout, interval=0.02, what="condition"):
    """Polls pred() until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


# ---------------------------------------------------------------- logs


class LogReader:
    """Collects a child's stderr lines on a thread (so its pipe never fills)
    and lets the test wait for a JSON log event."""

    def __init__(self, stream):
        self.lines = []
        self.events = []  # parsed JSON or None, index-aligned with lines
        self.eof = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self._thread.start()

    def _run(self, stream):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            try:
                event = json.loads(line)
                if not isinstance(event, dict):
                    event = None
            except ValueError:
                event = None
            with self._cond:
                self.lines.append(line)
                self.events.append(event)
                self._cond.notify_all()
        with self._cond:
            self.eof = True
            self._cond.notify_all()

    def wait_for(self, pred, timeout, start=0):
        """Index and event of the first JSON line at or after `start` for
        which pred(event) holds; (None, None) on timeout or EOF."""
        deadline = time.monotonic() + timeout
        with self._cond:
            i = start
            while True:
                while i < len(self.events):
                    e = self.events[i]
                    if e is not None and pred(e):
                        return i, e
                    i += 1
                left = deadline - time.monotonic()
                if self.eof or left <= 0:
                    return None, None
                self._cond.wait(left)

    def wait_event(self, name, timeout, start=0):
        return self.wait_for(lambda e: e.get("event") == name, timeout, start)

    def count(self):
        with self._cond:
            return len(self.lines)

    def join(self, timeout=5):
        self._thread.join(timeout)

    def tail(self, n=40):
        with self._cond:
            return "\n".join(self.lines[-n:])


# ---------------------------------------------------------------- the daemon


class Daemon:
    """`edgemon run` on loopback port 0, with a temp state dir.

    Use as a context manager: on a clean exit from the block the daemon is
    stopped with SIGTERM and must exit 0 (under ASan a leak or an error
    makes the exit code non-zero, so this is checked every time).
    """

    def __init__(self, sets=(), config_path=None, listen=("127.0.0.1:0",), args=(),
                 env=None, log_level="info", ready_timeout=10.0, state_dir=None):
        self.sets = list(sets)
        # Given: reused across restarts (the spool lives there); else a new temp dir.
        self.state_dir = state_dir
        self.config_path = config_path
        self.listen_args = list(listen)
        self.extra_args = list(args)
        self.env = dict(env or {})
        self.log_level = log_level
        self.ready_timeout = ready_timeout * SLOW
        self.proc = None
        self.log = None
        self.listen = []
        self.exit_code = None

    def command(self):
        cmd = [BIN, "run"]
        if self.config_path:
            cmd += ["-c", self.config_path]
        for addr in self.listen_args:
            cmd += ["--listen", addr]
        cmd += ["--state-dir", self.state_dir, "--log-level", self.log_level]
        for s in self.sets:
            cmd += ["--set", s]
        return cmd + self.extra_args

    def start(self):
        if self.state_dir is None:
            self.state_dir = make_tmpdir("edgemon-state-")
        # A stray NOTIFY_SOCKET from the environment must not receive our
        # notifications; tests that want them pass it explicitly.
        env = {"NOTIFY_SOCKET": None, "WATCHDOG_USEC": None, "WATCHDOG_PID": None}
        env.update(self.env)
        self.spawned_at = time.monotonic()
        self.proc = spawn(self.command(), env=env)
        self.log = LogReader(self.proc.stderr)
        _, ready = self.log.wait_event("ready", self.ready_timeout)
        if ready is None:
            self.kill()
            raise AssertionError(
                f"daemon never logged a ready line within {self.ready_timeout:.0f}s "
                f"(rc={self.proc.returncode}); command: {' '.join(self.command())}\n"
                f"stderr:\n{self.log.tail()}")
        self.ready_at = time.monotonic()
        self.listen = parse_listen(str(ready.get("listen", "")))
        check(self.listen, f"ready line has no usable listen field: {ready}")
        return self

    @property
    def pid(self):
        return self.proc.pid

    @property
    def host(self):
        return self.listen[0][0]

    @property
    def port(self):
        return self.listen[0][1]

    def running(self):
        return self.proc.poll() is None

    def request(self, method, path, headers=None, body=None, timeout=5.0):
        return http_request(self.host, self.port, method, path, headers, body, timeout * SLOW)

    def get(self, path, headers=None, timeout=5.0):
        return self.request("GET", path, headers, None, timeout)

    def get_json(self, path, expect=200):
        r = self.get(path)
        check(r.status == expect, f"GET {path}: status {r.status}, expected {expect}: {r.body[:300]!r}")
        return r.json()

    def wait_collected(self, timeout=10.0):
        """Waits until every collector has run once (the ready line comes
        when the listeners are up, before slow collectors such as
        filesystem have finished their first round). Returns /status."""
        def all_ran():
            status = self.get_json("/status")
            collectors = status.get("collectors") or []
            return status if collectors and all(c.get("last_run") for c in collectors) else None
        return eventually(all_ran, timeout * SLOW, interval=0.02,
                          what="every collector's first run")

    def metrics(self):
        r = self.get("/metrics")
        check(r.status == 200, f"GET /metrics: status {r.status}: {r.body[:300]!r}")
        return r.body.decode("utf-8")

    def stop(self, sig=signal.SIGTERM, timeout=None):
        """Signals the daemon, waits, returns (exit code, seconds taken)."""
        timeout = (10.0 if timeout is None else timeout) * SLOW
        t0 = time.monotonic()
        self.exit_code = stop_process(self.proc, sig, timeout)
        took = time.monotonic() - t0
        self.log.join()
        return self.exit_code, took

    def stop_checked(self, timeout=None):
        rc, took = self.stop(timeout=timeout)
        check(rc == 0, f"daemon exited {rc} on SIGTERM after {took:.2f}s, expected 0; "
                       f"stderr tail:\n{self.log.tail()}")
        return took

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop_checked()
        else:
            if self.log is not None:
                print(f"--- daemon stderr tail ---\n{self.log.tail()}\n---", file=sys.stderr)
            self.kill()
        return False


def parse_listen(text):
    """'127.0.0.1:1234,[::1]:5678' -> [('127.0.0.1', 1234), ('::1', 5678)]."""
    out = []
    for item in filter(None, (t.strip() for t in text.split(","))):
        host, _, port = item.rpartition(":")
        host = host.strip("[]")
        if host and port.isdigit():
            out.append((host, int(port)))
    return out


def run_cli(args, timeout=30.0, env=None, stdin_text=None):
    """Runs a one-shot edgemon subcommand; returns CompletedProcess (text)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([BIN] + list(args), capture_output=True, text=True,
                          timeout=timeout * SLOW, env=full_env, input=stdin_text)


# ---------------------------------------------------------------- HTTP


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # lower-case name -> value (last one wins)
        self.body = body

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError as e:
            raise AssertionError(f"body is not JSON ({e}): {self.body[:300]!r}")

    def __repr__(self):
        return f"<{self.status} {self.reason} {self.headers} {self.body[:200]!r}>"


def http_request(host, port, method, path, headers=None, body=None, timeout=5.0):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        return Response(r.status, r.reason, hdrs, data)
    finally:
        conn.close()


def wait_http_ok(host, port, path, timeout, proc=None):
    """Polls until GET path answers 200 (peers without a ready line)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            if http_request(host, port, "GET", path, timeout=2).status == 200:
                return True
        except OSError as e:
            last = e
        time.sleep(0.02)
    raise AssertionError(f"http://{host}:{port}{path} not ready after {timeout:.0f}s: {last}")


def connect(host, port, timeout=5.0):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def recv_until_close(sock, timeout=5.0, limit=1 << 24):
    """Reads until the peer closes, the deadline passes or limit bytes."""
    deadline = time.monotonic() + timeout
    chunks = []
    total = 0
    while total < limit:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not data:
            break
        chunks.append(data)
        total += len(data)
    return b"".join(chunks)


def recv_responses(sock, count, timeout=5.0):
    """Reads exactly `count` HTTP responses from a socket (or fewer if the
    peer closes or the deadline passes)."""
    deadline = time.monotonic() + timeout
    buf = b""
    responses = []
    while True:
        more, buf = parse_responses(buf)
        responses += more
        if len(responses) >= count:
            return responses
        left = deadline - time.monotonic()
        if left <= 0:
            return responses
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except (socket.timeout, ConnectionResetError):
            return responses
        if not data:
            return responses
        buf += data


def parse_responses(buf, head_only=False):
    """Splits a byte stream into complete HTTP/1.1 responses.

    Returns ([Response...], rest). Bodies are delimited by Content-Length or
    chunked encoding; with neither, the body runs to the end of the buffer.
    """
    out = []
    while True:
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return out, buf
        head = buf[:end].decode("latin-1").split("\r\n")
        parts = head[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise AssertionError(f"not an HTTP response: {buf[:200]!r}")
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        rest = buf[end + 4:]
        if head_only:
            body, rest = b"", rest
        elif "content-length" in headers:
            n = int(headers["content-length"])
            if len(rest) < n:
                return out, buf
            body, rest = rest[:n], rest[n:]
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            decoded = _dechunk(rest)
            if decoded is None:
                return out, buf
            body, rest = decoded
        else:
            body, rest = rest, b""
        out.append(Response(status, reason, headers, body))
        buf = rest


def _dechunk(data):
    body = b""
    pos = 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(data[pos:eol].split(b";")[0], 16)
        pos = eol + 2
        if size == 0:
            end = data.find(b"\r\n", pos)
            if end < 0:
                return None
            return body, data[end + 2:]
        if len(data) < pos + size + 2:
            return None
        body += data[pos:pos + size]
        pos += size + 2


def check_json_error(resp, status):
    """The daemon's error contract: JSON {"error": ..., "status": N}."""
    check(resp.status == status, f"expected status {status}, got {resp.status}: {resp.body[:300]!r}")
    ctype = resp.header("content-type", "")
    check(ctype.startswith("application/json"),
          f"{status} response Content-Type is {ctype!r}, expected application/json")
    doc = resp.json()
    check(isinstance(doc, dict) and isinstance(doc.get("error"), str) and doc["error"],
          f"{status} body has no 'error' string: {doc}")
    check(doc.get("status") == status, f"{status} body has status {doc.get('status')!r}")
    return doc


# ---------------------------------------------------------------- exposition


class Family:
    def __init__(self, name):
        self.name = name
        self.help = None
        self.type = None
        self.samples = []  # (sample name, {label: value}, float)

    def label_names(self):
        names = set()
        for _, labels, _ in self.samples:
            names.update(labels)
        if self.type == "histogram":
            names.discard("le")
        if self.type == "summary":
            names.discard("quantile")
        return names

    def series(self):
        return {(n, frozenset(l.items())): v for n, l, v in self.samples}


_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}


def parse_exposition(text):
    """Parses text format 0.0.4 strictly enough to catch what Prometheus
    would reject or mis-group. Returns {family name: Family} in order."""
    families = {}
    closed = set()
    current = None

    def family_for(name, line_no):
        nonlocal current
        if current is not None:
            if name == current.name:
                return current
            for suffix in _SUFFIXES.get(current.type, ()):
                if name == current.name + suffix:
                    return current
        if name in families or name in closed:
            raise ValueError(f"line {line_no}: samples of {name} are not contiguous")
        if current is not None:
            closed.add(current.name)
        current = families[name] = Family(name)
        return current

    if text and not text.endswith("\n"):
        raise ValueError("exposition does not end with a newline")
    for line_no, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                fam = family_for(parts[2], line_no)
                if fam.samples:
                    raise ValueError(f"line {line_no}: {parts[1]} for {parts[2]} after its samples")
                value = parts[3] if len(parts) > 3 else ""
                if parts[1] == "HELP":
                    if fam.help is not None:
                        raise ValueError(f"line {line_no}: second HELP for {parts[2]}")
                    fam.help = value
                else:
                    if fam.type is not None:
                        raise ValueError(f"line {line_no}: second TYPE for {parts[2]}")
                    if value not in ("counter", "gauge", "histogram", "summary", "untyped"):
                        raise ValueError(f"line {line_no}: bad TYPE {value!r}")
                    fam.type = value
            continue
        name, labels, value = parse_sample(line, line_no)
        family_for(name, line_no).samples.append((name, labels, value))
    return families


def parse_sample(line, line_no=0):
    i = 0
    n = len(line)
    while i < n and (line[i].isalnum() or line[i] in "_:"):
        i += 1
    name = line[:i]
    if not name or name[0].isdigit():
        raise ValueError(f"line {line_no}: bad metric name in {line!r}")
    labels = {}
    if i < n and line[i] == "{":
        i += 1
        while True:
            while i < n and line[i] in " \t":
                i += 1
            if i < n and line[i] == "}":
                i += 1
                break
            j = i
            while j < n and (line[j].isalnum() or line[j] == "_"):
                j += 1
            label = line[i:j]
            if not label or label[0].isdigit() or j + 1 >= n or line[j:j + 2] != '="':
                raise ValueError(f"line {line_no}: bad label at column {i + 1} in {line!r}")
            j += 2
            value = []
            while True:
                if j >= n:
                    raise ValueError(f"line {line_no}: unterminated label value in {line!r}")
                c = line[j]
                if c == "\\":
                    nxt = line[j + 1:j + 2]
                    if nxt not in ("\\", '"', "n"):
                        raise ValueError(f"line {line_no}: bad escape \\{nxt} in {line!r}")
                    value.append("\n" if nxt == "n" else nxt)
                    j += 2
                    continue
                if c == '"':
                    j += 1
                    break
                value.append(c)
                j += 1
            if label in labels:
                raise ValueError(f"line {line_no}: duplicate label {label} in {line!r}")
            labels[label] = "".join(value)
            i = j
            while i < n and line[i] in " \t":
                i += 1
            if i < n and line[i] == ",":
                i += 1
                continue
            if i < n and line[i] == "}":
                i += 1
                break
            raise ValueError(f"line {line_no}: expected , or }} at column {i + 1} in {line!r}")
    rest = line[i:].split()
    if len(rest) not in (1, 2):
        raise ValueError(f"line {line_no}: expected value [timestamp] in {line!r}")
    try:
        value = float(rest[0])
        if len(rest) == 2:
            int(rest[1])
    except ValueError:
        raise ValueError(f"line {line_no}: bad number in {line!r}")
    return name, labels, value


def sample_value(families, name, labels=None, default=None):
    """Value of one series (labels must match exactly when given)."""
    for fam in families.values():
        for n, l, v in fam.samples:
            if n == name and (labels is None or l == labels):
                return v
    return default


def settled_rounds(daemon, collector="loadavg"):
    """The runs of `collector` read at a moment when every round counted is
    durable: all collectors have run equally often (no round half done) and
    the spool holds every point produced. None at any other moment; poll it
    with eventually(). A SIGKILL after such a reading may lose only a round
    that started after it."""
    families = parse_exposition(daemon.metrics())
    fam = families.get("edgemon_collector_runs_total")
    check(fam is not None, "no edgemon_collector_runs_total")
    runs = {l["collector"]: v for _, l, v in fam.samples}
    check(collector in runs, f"no runs counter for {collector}")
    uncommitted = sample_value(families, "edgemon_spool_uncommitted_points")
    check(uncommitted is not None, "no edgemon_spool_uncommitted_points")
    if len(set(runs.values())) != 1 or uncommitted != 0:
        return None
    return int(runs[collector])


def histogram_quantile(fam, q, labels_filter=None):
    """Upper bound of the bucket holding quantile q (like PromQL, without
    interpolation, so the result is an upper bound)."""
    buckets = []
    for n, l, v in fam.samples:
        if n.endswith("_bucket") and (labels_filter is None or labels_filter(l)):
            buckets.append((float(l["le"]), v))
    buckets.sort()
    if not buckets or buckets[-1][1] == 0:
        return None
    target = q * buckets[-1][1]
    for le, count in buckets:
        if count >= target:
            return le
    return math.inf


def decompress_if_gzip(resp):
    if resp.header("content-encoding", "").lower() == "gzip":
        return gzip.decompress(resp.body)
    return resp.body


# ---------------------------------------------------------------- peers


def start_node_exporter(attempts=3):
    """prometheus-node-exporter on a free loopback port; returns (proc, port)."""
    exe = require_binary("prometheus-node-exporter", "node_exporter")
    last = ""
    for _ in range(attempts):
        port = free_port()
        p = spawn([exe, f"--web.listen-address=127.0.0.1:{port}", "--no-collector.systemd",
                   "--log.level=warn"], stderr=subprocess.PIPE)
        try:
            if wait_http_ok("127.0.0.1", port, "/metrics", 15 * SLOW, proc=p):
                return p, port
        except AssertionError as e:
            last = str(e)
        stop_process(p, timeout=5)
        last = p.stderr.read().decode("utf-8", "replace")[-500:] or last
    raise AssertionError(f"node_exporter did not start: {last}")


def promtool_check_metrics(text):
    """Runs `promtool check metrics` on text; returns (rc, stderr lines)."""
    exe = require_binary("promtool")
    r = subprocess.run([exe, "check", "metrics"], input=text.encode("utf-8"),
                       capture_output=True, timeout=60)
    out = (r.stdout + r.stderr).decode("utf-8", "replace")
    return r.returncode, [l for l in out.splitlines() if l.strip()]


# ---------------------------------------------------------------- runner


def main(namespace):
    """Runs every test_* function of the calling module in order.

    `python3 test_x.py [name-substring...]` runs a subset. Exits 1 if any
    test failed; prints SKIP and exits 0 if a required peer is missing.
    """
    only = [a for a in sys.argv[1:] if not a.startswith("-")]
    tests = [(n, f) for n, f in namespace.items()
             if n.startswith("test_") and callable(f) and (not only or any(o in n for o in only))]
    if not os.access(BIN, os.X_OK):
        print(f"FAIL: edgemon binary not found or not executable: {BIN}")
        sys.exit(1)
    failed = []
    skipped = []
    for name, fn in tests:
        t0 = time.monotonic()
        print(f"=== {name}", flush=True)
        try:
            fn()
        except Skip as e:
            skipped.append(name)
            print(f"SKIP: {name}: {e}", flush=True)
            continue
        except Exception:  # noqa: BLE001 - report every failure, run the rest
            failed.append(name)
            traceback.print_exc()
            print(f"FAIL: {name} ({time.monotonic() - t0:.1f}s)", flush=True)
            continue
        print(f"PASS: {name} ({time.monotonic() - t0:.1f}s)", flush=True)
    print(f"{len(tests) - len(failed) - len(skipped)} passed, {len(failed)} failed, "
          f"{len(skipped)} skipped" + (f": {', '.join(failed)}" if failed else ""))
    sys.exit(1 if failed else 0)
