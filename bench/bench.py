#!/usr/bin/env python3
"""Side-by-side benchmark: edgemon vs prometheus-node-exporter vs collectd
(write_prometheus), all collecting host metrics every second on loopback.

Usage: bench/bench.py path/to/edgemon [results.md]
Environment: BENCH_SECONDS (steady-state window, default 60),
BENCH_WRK_SECONDS (default 10), BENCH_LATENCY_REQUESTS (default 200),
BENCH_STARTS (startup samples, default 5), BENCH_CALLGRIND (1/0, default 1).

Phases, in order:
 1. startup-to-ready: each daemon alone, spawn -> first 200 on /metrics,
    median of BENCH_STARTS starts;
 2. steady state: all three started together, each scraped once a second
    for BENCH_SECONDS; CPU seconds (utime+stime) over the window, then
    VmRSS/VmHWM, series count, edgemon's loop lag;
 3. /metrics latency: BENCH_LATENCY_REQUESTS sequential GETs on one
    keep-alive connection per daemon (the same Python client for all);
 4. wrk -t2 -c16 on /metrics, one daemon at a time;
 5. callgrind instruction count of `edgemon collect --once` (optional).
"""

import http.client
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "10"))
LATENCY_REQUESTS = int(os.environ.get("BENCH_LATENCY_REQUESTS", "200"))
STARTS = int(os.environ.get("BENCH_STARTS", "5"))
CALLGRIND = os.environ.get("BENCH_CALLGRIND", "1") not in ("0", "", "no", "off")
CLK_TCK = os.sysconf("SC_CLK_TCK")

NODE_EXPORTER = shutil.which("prometheus-node-exporter") or "/usr/bin/prometheus-node-exporter"
COLLECTD = shutil.which("collectd") or "/usr/sbin/collectd"
WRITE_PROMETHEUS = "/usr/lib/collectd/write_prometheus.so"

_children = []
_tmp = tempfile.mkdtemp(prefix="edgemon-bench-")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(cmd):
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _children.append(p)
    return p


def stop(p, timeout=15):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def cleanup():
    for p in _children:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(_tmp, ignore_errors=True)


class Peer:
    """How to start one daemon on a given port, and what it is."""

    def __init__(self, name, make_cmd, binaries, available, note=""):
        self.name = name
        self.make_cmd = make_cmd
        self.binaries = binaries
        self.available = available
        self.note = note
        self.proc = None
        self.port = None
        self.results = {}

    def start(self):
        self.port = free_port()
        self.proc = spawn(self.make_cmd(self.port))
        return self.proc


def edgemon_peer(binary):
    state = os.path.join(_tmp, "edgemon-state")
    os.makedirs(state, exist_ok=True)

    def cmd(port):
        return [binary, "run", "--listen", f"127.0.0.1:{port}", "--state-dir", state,
                "--set", "collect.interval=1s", "--set", "http.access.read.rate=0",
                "--log-level", "warn"]
    return Peer("edgemon", cmd, [binary], os.access(binary, os.X_OK))


def node_exporter_peer():
    def cmd(port):
        return [NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{port}",
                "--no-collector.systemd", "--log.level=warn"]
    return Peer("node_exporter", cmd, [NODE_EXPORTER], os.access(NODE_EXPORTER, os.X_OK),
                "collects on each scrape (1/s)")


def collectd_peer():
    def cmd(port):
        d = tempfile.mkdtemp(dir=_tmp, prefix="collectd-")
        conf = os.path.join(d, "collectd.conf")
        with open(conf, "w", encoding="ascii") as f:
            f.write(f"""Hostname "bench"
FQDNLookup false
BaseDir "{d}"
PIDFile "{d}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
Interval 1
LoadPlugin logfile
<Plugin logfile>
  LogLevel warning
  File STDOUT
</Plugin>
LoadPlugin cpu
LoadPlugin memory
LoadPlugin df
LoadPlugin interface
LoadPlugin load
LoadPlugin write_prometheus
<Plugin write_prometheus>
  Host "127.0.0.1"
  Port "{port}"
</Plugin>
""")
        return [COLLECTD, "-f", "-C", conf]
    ok = os.access(COLLECTD, os.X_OK) and os.path.exists(WRITE_PROMETHEUS)
    return Peer("collectd", cmd, [COLLECTD, WRITE_PROMETHEUS], ok,
                "cpu, memory, df, interface, load plugins; Interval 1")


# ------------------------------------------------------------ measurements


def http_get(port, timeout=2.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/metrics")
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def wait_ready(peer, timeout=15.0):
    """Seconds from spawn until the first 200 on /metrics."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if peer.proc.poll() is not None:
            raise RuntimeError(f"{peer.name} exited with {peer.proc.returncode}")
        try:
            if http_get(peer.port, 1.0)[0] == 200:
                return time.monotonic() - t0
        except OSError:
            pass
        time.sleep(0.002)
    raise RuntimeError(f"{peer.name} not ready after {timeout}s")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # Fields after the command: state is [0], utime [11], stime [12].
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status_kib(pid, field):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def series_count(text):
    return sum(1 for l in text.splitlines() if l and not l.startswith("#"))


def lag_buckets(text):
    buckets = {}
    for line in text.splitlines():
        m = re.match(r'edgemon_loop_lag_seconds_bucket\{(?:[^}]*,)?le="([^"]+)"[^}]*\} (\S+)', line)
        if m:
            buckets[float(m.group(1))] = float(m.group(2))
    return buckets


def loop_lag_p99(text, before=""):
    """p99 of edgemon_loop_lag_seconds observed between two scrapes (`before`
    and `text`), interpolated inside the bucket as PromQL's histogram_quantile
    does over increase()."""
    start = lag_buckets(before)
    buckets = sorted((le, count - start.get(le, 0.0)) for le, count in lag_buckets(text).items())
    if not buckets or buckets[-1][1] == 0:
        return None
    total = buckets[-1][1]
    rank = 0.99 * total
    prev_le, prev_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * (rank - prev_count) / max(count - prev_count, 1e-12)
        prev_le, prev_count = le, count
    return None


class RawClient:
    """A minimal keep-alive HTTP/1.1 client on a plain socket, so that the
    client's own overhead stays small next to a sub-millisecond server."""

    REQUEST = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: edgemon-bench\r\n\r\n"

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def get(self):
        self.sock.sendall(self.REQUEST)
        buf = bytearray()
        head_end = -1
        while head_end < 0:
            chunk = self.sock.recv(262144)
            if not chunk:
                raise RuntimeError("connection closed")
            buf += chunk
            head_end = buf.find(b"\r\n\r\n")
        head = bytes(buf[:head_end]).lower()
        status = int(head[9:12])
        m = re.search(rb"\r\ncontent-length: *(\d+)", head)
        if m:
            want = head_end + 4 + int(m.group(1))
            while len(buf) < want:
                chunk = self.sock.recv(262144)
                if not chunk:
                    raise RuntimeError("connection closed")
                buf += chunk
            return status, len(buf) - head_end - 4
        # Chunked: the body ends with the zero-size chunk.
        while not buf.endswith(b"\r\n0\r\n\r\n"):
            chunk = self.sock.recv(262144)
            if not chunk:
                raise RuntimeError("connection closed")
            buf += chunk
        return status, len(buf) - head_end - 4

    def close(self):
        self.sock.close()


def latency(port, n):
    client = RawClient(port)
    times = []
    try:
        for i in range(n + 5):
            t0 = time.perf_counter()
            status, size = client.get()
            took = time.perf_counter() - t0
            if status != 200 or not size:
                raise RuntimeError(f"latency request {i}: status {status}")
            if i >= 5:  # the first few warm the connection and caches
                times.append(took)
    finally:
        client.close()
    times.sort()
    return (statistics.median(times), times[min(len(times) - 1, int(0.99 * len(times)))])


def wrk(port, seconds):
    exe = shutil.which("wrk")
    if not exe:
        return None, "wrk not installed"
    r = subprocess.run([exe, "-t2", "-c16", f"-d{seconds}s", f"http://127.0.0.1:{port}/metrics"],
                       capture_output=True, text=True, timeout=seconds + 60)
    m = re.search(r"Requests/sec:\s+([\d.]+)", r.stdout)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", r.stdout)
    errors = re.search(r"Socket errors: (.*)", r.stdout)
    note = ""
    if bad:
        note += f"{bad.group(1)} non-2xx; "
    if errors:
        note += f"socket errors: {errors.group(1)}"
    return (float(m.group(1)) if m else None), note


def binary_size(peer):
    return sum(os.path.getsize(b) for b in peer.binaries if os.path.exists(b))


def stripped_size(path):
    out = os.path.join(_tmp, "stripped")
    r = subprocess.run(["strip", "-o", out, path], capture_output=True)
    return os.path.getsize(out) if r.returncode == 0 else None


def callgrind(binary):
    if not shutil.which("valgrind"):
        return None, "valgrind not installed"
    out = os.path.join(_tmp, "callgrind.out")
    r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary,
                        "collect", "--once"], capture_output=True, text=True, timeout=600)
    m = re.search(r"Collected\s*:\s*(\d+)", r.stderr)
    return (int(m.group(1)) if m else None), f"exit {r.returncode}"


# ------------------------------------------------------------ phases


def phase_startup(peers):
    for peer in peers:
        samples = []
        for _ in range(STARTS):
            peer.start()
            try:
                samples.append(wait_ready(peer))
            finally:
                stop(peer.proc)
        peer.results["startup_s"] = statistics.median(samples)
        log(f"  {peer.name}: startup-to-ready median {statistics.median(samples) * 1000:.1f} ms "
            f"({', '.join(f'{s * 1000:.1f}' for s in samples)})")


def phase_steady(peers):
    for peer in peers:
        peer.start()
    for peer in peers:
        wait_ready(peer)
    # Let every daemon finish its first collections before the window opens.
    time.sleep(2.0)
    start_cpu = {p.name: cpu_seconds(p.proc.pid) for p in peers}
    conns = {p.name: http.client.HTTPConnection("127.0.0.1", p.port, timeout=5) for p in peers}
    last_body = {}
    first_body = {}
    failures = {p.name: 0 for p in peers}
    t0 = time.monotonic()
    tick = 0
    while True:
        tick += 1
        for p in peers:
            try:
                conns[p.name].request("GET", "/metrics")
                r = conns[p.name].getresponse()
                body = r.read()
                if r.status == 200:
                    last_body[p.name] = body.decode("utf-8", "replace")
                    first_body.setdefault(p.name, last_body[p.name])
                else:
                    failures[p.name] += 1
            except (OSError, http.client.HTTPException):
                failures[p.name] += 1
                conns[p.name].close()
                conns[p.name] = http.client.HTTPConnection("127.0.0.1", p.port, timeout=5)
        next_tick = t0 + tick
        if next_tick - t0 >= SECONDS:
            time.sleep(max(0.0, t0 + SECONDS - time.monotonic()))
            break
        time.sleep(max(0.0, next_tick - time.monotonic()))
    wall = time.monotonic() - t0
    for p in peers:
        conns[p.name].close()
        cpu = cpu_seconds(p.proc.pid) - start_cpu[p.name]
        p.results.update({
            "cpu_s": cpu, "cpu_pct": 100.0 * cpu / wall,
            "rss_kib": status_kib(p.proc.pid, "VmRSS"), "hwm_kib": status_kib(p.proc.pid, "VmHWM"),
            "anon_kib": status_kib(p.proc.pid, "RssAnon"),
            "series": series_count(last_body.get(p.name, "")), "scrapes": tick,
            "scrape_failures": failures[p.name],
            "metrics_bytes": len(last_body.get(p.name, "").encode()),
        })
        if p.name == "edgemon":
            p.results["loop_lag_p99_s"] = loop_lag_p99(last_body.get(p.name, ""),
                                                        first_body.get(p.name, ""))
        log(f"  {p.name}: cpu {cpu:.3f}s over {wall:.1f}s ({p.results['cpu_pct']:.3f}% of a core), "
            f"RSS {p.results['rss_kib']} KiB, HWM {p.results['hwm_kib']} KiB, "
            f"{p.results['series']} series, {failures[p.name]} failed scrapes")
    return wall


def phase_latency(peers):
    for p in peers:
        p50, p99 = latency(p.port, LATENCY_REQUESTS)
        p.results["p50_ms"], p.results["p99_ms"] = p50 * 1000, p99 * 1000
        log(f"  {p.name}: /metrics p50 {p50 * 1000:.3f} ms, p99 {p99 * 1000:.3f} ms")


def phase_wrk(peers):
    for p in peers:
        rps, note = wrk(p.port, WRK_SECONDS)
        p.results["wrk_rps"] = rps
        p.results["wrk_note"] = note
        p.results["hwm_after_wrk_kib"] = status_kib(p.proc.pid, "VmHWM")
        log(f"  {p.name}: wrk {rps} req/s {note}")


# ------------------------------------------------------------ report


def fmt(value, spec):
    if value is None:
        return "n/a"
    return format(value, spec)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}"


ROWS = [
    ("VmRSS at end of window (MiB)", lambda r: r.get("rss_kib") and r["rss_kib"] / 1024, ".1f"),
    ("VmHWM at end of window (MiB)", lambda r: r.get("hwm_kib") and r["hwm_kib"] / 1024, ".1f"),
    ("  of which RssAnon (MiB; the rest is shared-library pages)",
     lambda r: r.get("anon_kib") and r["anon_kib"] / 1024, ".2f"),
    ("CPU seconds over the window", lambda r: r.get("cpu_s"), ".3f"),
    ("CPU, % of one core", lambda r: r.get("cpu_pct"), ".3f"),
    ("/metrics latency p50 (ms)", lambda r: r.get("p50_ms"), ".3f"),
    ("/metrics latency p99 (ms)", lambda r: r.get("p99_ms"), ".3f"),
    ("wrk -t2 -c16 requests/s", lambda r: r.get("wrk_rps"), ".0f"),
    ("VmHWM after wrk (MiB)", lambda r: r.get("hwm_after_wrk_kib") and
     r["hwm_after_wrk_kib"] / 1024, ".1f"),
    ("startup to first 200 (ms, median)", lambda r: r.get("startup_s") and r["startup_s"] * 1000,
     ".1f"),
    ("binary size (MiB)", lambda r: r.get("binary_bytes") and r["binary_bytes"] / 2**20, ".2f"),
    ("series (sample lines)", lambda r: r.get("series"), "d"),
    ("loop lag p99 (ms, edgemon only)", lambda r: r.get("loop_lag_p99_s") and
     r["loop_lag_p99_s"] * 1000, ".3f"),
    ("/metrics size (KiB)", lambda r: r.get("metrics_bytes") and r["metrics_bytes"] / 1024, ".1f"),
]


def report(peers, wall, edgemon_binary, extra):
    by = {p.name: p for p in peers}
    em = by.get("edgemon")
    names = [p.name for p in peers]
    head = ["metric"] + names + [f"edgemon/{n}" for n in names if n != "edgemon"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, get, spec in ROWS:
        vals = [get(p.results) for p in peers]
        cells = [label] + [fmt(v, spec) for v in vals]
        if em is not None:
            cells += [ratio(get(em.results), get(p.results)) for p in peers if p.name != "edgemon"]
        lines.append("| " + " | ".join(cells) + " |")
    table = "\n".join(lines)

    em_r = em.results if em else {}
    cd = by["collectd"].results if "collectd" in by else {}
    mib = (lambda k: (lambda r: r.get(k) and r[k] / 1024))("rss_kib")
    lag = em_r.get("loop_lag_p99_s") and em_r["loop_lag_p99_s"] * 1000
    targets = [
        ("VmRSS ≤ collectd's", mib(em_r), mib(cd), "MiB", lambda a, b: a <= b),
        ("CPU at a 1 s interval ≤ 0.1% of one core", em_r.get("cpu_pct"), 0.1, "%",
         lambda a, b: a <= b),
        ("/metrics p99 ≤ 0.5 ms", em_r.get("p99_ms"), 0.5, "ms", lambda a, b: a <= b),
        ("≥ 30k requests/s (wrk)", em_r.get("wrk_rps"), 30000.0, "req/s", lambda a, b: a >= b),
        ("loop lag p99 ≤ 2 ms", lag, 2.0, "ms", lambda a, b: a <= b),
    ]
    tl = ["| target | edgemon | bound | met |", "|---|---|---|---|"]
    for label, a, b, unit, ok in targets:
        measured = "n/a" if a is None else f"{a:.3f} {unit}"
        bound = "n/a" if b is None else f"{b:.3f} {unit}"
        met = "n/a" if a is None or b is None else ("yes" if ok(a, b) else "no")
        tl.append(f"| {label} | {measured} | {bound} | {met} |")

    notes = [
        f"- Date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; host: {platform.node()}, "
        f"{os.cpu_count()} CPUs, kernel {platform.release()}; 1-minute load average "
        f"{LOAD_AT_START:.2f} at the start, {os.getloadavg()[0]:.2f} at the end (other work "
        f"on the machine inflates CPU, latency and loop lag alike).",
        f"- Steady-state window: {wall:.1f} s, all three running at once, each scraped once a "
        f"second over one keep-alive connection; CPU = utime+stime delta from /proc/PID/stat.",
        f"- Latency: {LATENCY_REQUESTS} sequential GET /metrics on one keep-alive connection "
        f"(after 5 warm-up requests), a minimal socket client, identity encoding; the "
        f"client's own time is included equally for all.",
        f"- wrk: -t2 -c16 -d{WRK_SECONDS}s per daemon, one at a time "
        f"(others idle but still collecting).",
        "- edgemon: `run --set collect.interval=1s --set http.access.read.rate=0`; "
        "node_exporter 1.5: `--no-collector.systemd` (collects on each scrape); collectd 5.12: "
        "cpu, memory, df, interface, load + write_prometheus, Interval 1.",
        "- Binary size: edgemon = its binary as built; node_exporter = /usr/bin/"
        "prometheus-node-exporter; collectd = /usr/sbin/collectd + write_prometheus.so "
        "(shared libraries not counted for anyone).",
        "- Loop lag p99: from the increase of edgemon_loop_lag_seconds buckets over the steady "
        "window only, "
        "interpolated as histogram_quantile does.",
    ]
    for name in names:
        if by[name].results.get("wrk_note"):
            notes.append(f"- wrk {name}: {by[name].results['wrk_note']}")
        if by[name].results.get("scrape_failures"):
            notes.append(f"- {name}: {by[name].results['scrape_failures']} failed scrapes "
                         f"in the window")
    notes += extra

    md = ["# edgemon benchmark", "", "Generated by `make bench` (bench/run.sh).", "", table, "",
          "## edgemon against the targets (issue 2)", "", "\n".join(tl), "", "## Notes", "",
          "\n".join(notes), ""]
    return table, "\n".join(md)


LOAD_AT_START = os.getloadavg()[0]


def edgemon_control_peer(binary):
    state = os.path.join(_tmp, "edgemon-control-state")
    os.makedirs(state, exist_ok=True)
    everything = ("cpu,diskstats,filefd,filesystem,hwmon,loadavg,meminfo,netdev,network_address,"
                  "os,powersupplyclass,rapl,self,stat,thermal,time,uname")

    def cmd(port):
        return [binary, "run", "--listen", f"127.0.0.1:{port}", "--state-dir", state,
                "--set", "collect.interval=1s", "--set", f"collect.disable={everything}",
                "--log-level", "warn"]
    return Peer("edgemon-control", cmd, [binary], True)


def fetch_metrics(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/metrics")
        return conn.getresponse().read().decode("utf-8", "replace")
    finally:
        conn.close()


def steal_seconds():
    """Host-wide CPU steal time so far, from the aggregate cpu line of /proc/stat."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    out_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results.md")
    if not os.access(binary, os.X_OK):
        sys.exit(f"edgemon binary {binary} is not executable; build it first")
    peers = [edgemon_peer(binary), node_exporter_peer(), collectd_peer()]
    missing = [p.name for p in peers if not p.available]
    if missing:
        log(f"not installed, left out: {', '.join(missing)} (run `make deps-bench`)")
    peers = [p for p in peers if p.available]
    extra = []
    try:
        log(f"1/5 startup-to-ready ({STARTS} starts each)")
        phase_startup(peers)
        log(f"2/5 steady state, {SECONDS:.0f} s, all daemons at once")
        # A control: the same binary with every collector off, measuring only
        # how late the platform wakes a sleeping process. Loop lag that the
        # control shows too is not edgemon's work.
        control = edgemon_control_peer(binary)
        control.start()
        wait_ready(control)
        control_before = fetch_metrics(control.port)
        steal_before = steal_seconds()
        wall = phase_steady(peers)
        steal = steal_seconds() - steal_before
        control_p99 = loop_lag_p99(fetch_metrics(control.port), control_before)
        stop(control.proc)
        extra.append(f"- Platform during the steady window: CPU steal {steal:.2f} s (time the "
                     f"hypervisor ran other guests); loop lag p99 of a control edgemon with every "
                     f"collector disabled: "
                     + (f"{control_p99 * 1000:.3f} ms." if control_p99 is not None else "n/a."))
        log(f"3/5 /metrics latency, {LATENCY_REQUESTS} requests each")
        phase_latency(peers)
        log(f"4/5 wrk, {WRK_SECONDS} s each")
        phase_wrk(peers)
        for p in peers:
            stop(p.proc)
        for p in peers:
            p.results["binary_bytes"] = binary_size(p)
        stripped = stripped_size(binary)
        if stripped:
            extra.append(f"- edgemon binary stripped: {stripped / 2**20:.2f} MiB "
                         f"(as built: {os.path.getsize(binary) / 2**20:.2f} MiB).")
        if CALLGRIND:
            log("5/5 callgrind: edgemon collect --once")
            ir, note = callgrind(binary)
            extra.append(f"- callgrind, `edgemon collect --once` (host collectors, one pass, "
                         f"including process start-up): {ir:,} instructions (Ir) ({note})."
                         if ir else f"- callgrind: not measured ({note}).")
    finally:
        cleanup()
    table, md = report(peers, wall, binary, extra)
    print(table)
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(md)
    log(f"wrote {out_path}")


if __name__ == "__main__":
    main()
