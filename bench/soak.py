#!/usr/bin/env python3
"""Soak: one hub under steady work for an hour, watching its memory (issue 11:
RSS growth <= 1 % after the first 5 minutes).

Usage: bench/soak.py path/to/edgemon [results.md]
       bench/soak.py --windows [samples.csv]   (the per-window table of a run)
Environment: BENCH_SOAK_SECONDS (default 3600), BENCH_SOAK_WARMUP (default
300; a run shorter than twice that uses a quarter of it), BENCH_SOAK_RATE
(points/s, default 2000), BENCH_SOAK_SAMPLES (CSV of the 10 s samples,
default /tmp/soak-samples.csv; the VmRSS of every second goes beside it, in
soak-samples-rss.csv).

The hub (hub.py's hub_config: ingest on, history on, per-device tokens and a
fleet token) forwards to a real influxd (Debian's, influx.py) on loopback, so
its spool really forwards. For BENCH_SOAK_SECONDS, at the same time, from
threads of this process:
 - ingest: 10 POST /write a second, each one device's 8 series x 25
   timestamps (200 lines, 2 fields each) with its own token, 50 devices
   in turn: 2,000 points/s, 400 series; one device in ten uses the fleet
   token instead;
 - a GET /metrics scrape every second (keep-alive);
 - a /history, /avg_usage or /metrics_usage query every 3 s;
 - a watcher: GET /health on a new connection every second, timed;
 - every 30 s a short hostile episode from 127.0.0.2+, in turn: 20
   connections pipelining 50 GET /metrics each without reading for 5 s;
   4 clients sending 8 MiB bodies without a token; a gzip bomb (20 MiB of
   line protocol in ~40 KB, refused at max_decoded_bytes);
 - a sampler: every 10 s the hub's VmRSS and USS (Private_* of smaps_rollup),
   influxd's VmRSS, and the hub's gauges (HTTP buffers, history queue and
   file, spool queue and file, heap in use and free, SQLite's memory);
 - another: the hub's VmRSS every second, for the window medians.
Then the load stops, the spool drains, and every acknowledged point (204) is
looked for in influxd. Growth is measured on "quiet" samples: no hostile
episode running or ended within the last 15 s (an attack's buffers go back
to the kernel within the daemon's 10 s trim). The verdict compares the
median VmRSS of the quiet seconds of the last 5-minute window with that of
the first window after the warm-up mark; the sample nearest the mark against
the last one, and a least-squares slope, are reported beside it.
"""

import csv
import gzip
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "test", "integration"))
import bench  # noqa: E402
import footprint  # noqa: E402
import harness  # noqa: E402
from harness import Daemon  # noqa: E402
from hub import DB, hub_config, write_config  # noqa: E402
from influx import Influxd  # noqa: E402
from test_hostile_clients import pipeline_without_reading  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SOAK_SECONDS", "3600"))
WARMUP = float(os.environ.get("BENCH_SOAK_WARMUP", "300"))
if SECONDS < 2 * WARMUP:
    WARMUP = SECONDS / 4
RATE = int(os.environ.get("BENCH_SOAK_RATE", "2000"))
SAMPLES_CSV = os.environ.get("BENCH_SOAK_SAMPLES", "/tmp/soak-samples.csv")


def dense_path(samples_csv):
    """Where the every-second VmRSS samples go, beside the 10 s ones."""
    return os.path.splitext(samples_csv)[0] + "-rss.csv"


DENSE_CSV = dense_path(SAMPLES_CSV)
DEVICES = 50
SERIES = 8          # per device
STEPS = 25          # timestamps per series per request
LINES = SERIES * STEPS
REQUESTS_PER_S = RATE / LINES
FLEET_TOKEN = "soak-fleet-token"
QUIET_S = 15.0
WINDOW = 300.0 if SECONDS >= 1800 else max(20.0, SECONDS / 6)


def token(i):
    return f"soak-device-token-{i:02d}"


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.times = {}

    def add(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def time(self, key, seconds):
        with self.lock:
            self.times.setdefault(key, []).append(seconds)


class Soak:
    def __init__(self, binary):
        self.binary = binary
        self.stats = Stats()
        self.stop = threading.Event()
        self.stop_hostile = threading.Event()
        self.episodes = []          # (start, end, name), monotonic
        self.episode_start = None   # of the one running
        self.samples = []
        self.dense = []             # VmRSS every second
        self.acked_points = 0
        self.unknown_points = 0     # requests that failed without an answer

    # ------------------------------------------------------------ set-up

    def start(self):
        self.influx = Influxd().start()
        self.influx.create_database(DB)
        tokens = {f"d{i:02d}": token(i) for i in range(DEVICES)}
        tokens["*"] = FLEET_TOKEN
        # The hub's own collection runs every 10 s (hub.py's default is 1 h)
        # so that edgemon_process_heap_bytes and _sqlite_memory_bytes are
        # sampled through the run; its own points are the-hub's, which the
        # delivered counts below do not match.
        config = hub_config(self.influx.url, tokens=tokens)
        self.config = write_config(config.replace("  interval: 1h\n", "  interval: 10s\n", 1))
        self.hub = Daemon(config_path=self.config).start()
        self.t0 = time.monotonic()

    def url_conn(self, timeout=10):
        return http.client.HTTPConnection(self.hub.host, self.hub.port, timeout=timeout)

    # ------------------------------------------------------------ load

    def ingest(self):
        conn = self.url_conn(30)
        now_ms = int(time.time() * 1000)
        last = [now_ms - STEPS * 200] * DEVICES
        period = 1.0 / REQUESTS_PER_S
        n = 0
        start = time.monotonic()
        while not self.stop.is_set():
            dev = n % DEVICES
            fleet = (n // DEVICES) % 10 == dev % 10
            lines = []
            base = last[dev]
            for k in range(STEPS):
                ts = base + 200 * (k + 1)
                for s in range(SERIES):
                    v = (n * 7 + k * 3 + s) % 1000
                    if s == 0:
                        lines.append(f"system_metrics,device_id=d{dev:02d} cpu={v / 10},"
                                     f"memory={(v % 500) / 10} {ts}")
                    else:
                        lines.append(f"soak,device_id=d{dev:02d},sensor=s{s} v={v / 7:.3f},"
                                     f"n={v}i {ts}")
            last[dev] = base + 200 * STEPS
            body = ("\n".join(lines) + "\n").encode()
            tok = FLEET_TOKEN if fleet else token(dev)
            t = time.monotonic()
            try:
                conn.request("POST", "/write?precision=ms", body,
                             {"Authorization": "Bearer " + tok,
                              "Content-Type": "text/plain; charset=utf-8"})
                r = conn.getresponse()
                r.read()
                self.stats.time("ingest", time.monotonic() - t)
                self.stats.add(f"ingest {r.status}")
                if 200 <= r.status < 300:
                    self.acked_points += LINES
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = self.url_conn(30)
            except (OSError, http.client.HTTPException) as e:
                self.stats.add(f"ingest error {type(e).__name__}")
                self.unknown_points += LINES
                conn.close()
                conn = self.url_conn(30)
            n += 1
            delay = start + n * period - time.monotonic()
            if delay > 0:
                self.stop.wait(delay)
        conn.close()

    def periodic(self, name, every, fn):
        n = 0
        while not self.stop.is_set():
            try:
                fn()
            except (OSError, http.client.HTTPException) as e:
                self.stats.add(f"{name} error {type(e).__name__}")
            n += 1
            self.stop.wait(max(0.0, self.t0 + n * every - time.monotonic()))

    def scraper(self):
        state = {"conn": self.url_conn()}

        def scrape():
            t = time.monotonic()
            try:
                state["conn"].request("GET", "/metrics")
                r = state["conn"].getresponse()
                body = r.read()
            except (OSError, http.client.HTTPException):
                state["conn"].close()
                state["conn"] = self.url_conn()
                raise
            self.stats.time("scrape", time.monotonic() - t)
            self.stats.add(f"scrape {r.status}")
            if r.status == 200:
                self.last_metrics = body.decode("utf-8", "replace")
        self.periodic("scrape", 1.0, scrape)
        state["conn"].close()

    def querier(self):
        queries = ["/history?limit=1000&device=d{d:02d}", "/avg_usage?metric=cpu&range=1h",
                   "/metrics_usage?metric=memory&range=1h&device=d{d:02d}",
                   "/history?measurement=soak&field=v&range=5m&limit=5000",
                   "/avg_usage?metric=memory&range=15m&device=d{d:02d}"]
        n = [0]

        def query():
            q = queries[n[0] % len(queries)].format(d=n[0] % DEVICES)
            n[0] += 1
            t = time.monotonic()
            r = self.hub.get(q, timeout=30)
            self.stats.time("query", time.monotonic() - t)
            self.stats.add(f"query {r.status}")
            if r.status != 200:
                self.stats.add(f"query {r.status} {q.split('&')[0]}: "
                               f"{r.body[:80].decode(errors='replace').strip()}")
        self.periodic("query", 3.0, query)

    def watcher(self):
        def health():
            t = time.monotonic()
            r = self.hub.get("/health", timeout=10)
            self.stats.time("health", time.monotonic() - t)
            self.stats.add(f"health {r.status}")
        self.periodic("health", 1.0, health)

    # ------------------------------------------------------------ hostile clients

    def pipelined_readers(self):
        socks = pipeline_without_reading(self.hub, 20,
                                         b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 50)
        self.stop.wait(5)
        for s in socks:
            s.close()

    def bodies_without_token(self):
        body = b"m v=1\n" * (8 * 1024 * 1024 // 6)
        head = f"POST /write HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()

        def send():
            s = socket.socket()
            s.settimeout(30)
            s.bind(("127.0.0.3", 0))
            try:
                s.connect((self.hub.host, self.hub.port))
                s.sendall(head + body)
            except OSError:
                pass  # refused and closed before the body was in: expected
            try:
                answer = s.recv(200)
                self.stats.add(f"hostile no-token {answer[9:12].decode(errors='replace')}")
            except OSError:
                self.stats.add("hostile no-token closed")
            s.close()
        threads = [threading.Thread(target=send) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)

    def gzip_bomb(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.hub.port, timeout=30,
                                          source_address=("127.0.0.4", 0))
        try:
            conn.request("POST", "/write", self.bomb,
                         {"Authorization": "Bearer " + FLEET_TOKEN, "Content-Encoding": "gzip"})
            r = conn.getresponse()
            r.read()
            self.stats.add(f"hostile gzip-bomb {r.status}")
        finally:
            conn.close()

    def hostile(self):
        self.bomb = gzip.compress(b"bomb,device_id=d00 v=1 1\n" * (20 * 2**20 // 25), 9)
        attacks = [("pipelined /metrics readers", self.pipelined_readers),
                   ("8 MiB bodies without a token", self.bodies_without_token),
                   ("gzip bomb", self.gzip_bomb)]
        n = 0
        while not self.stop_hostile.wait(max(0.0, self.t0 + 30 * n + 32 - time.monotonic())):
            name, fn = attacks[n % len(attacks)]
            start = self.episode_start = time.monotonic()
            try:
                fn()
            except (OSError, http.client.HTTPException) as e:
                self.stats.add(f"hostile {name} error {type(e).__name__}")
            self.episodes.append((start, time.monotonic(), name))
            self.episode_start = None
            n += 1

    # ------------------------------------------------------------ sampling

    def quiet(self, t):
        if self.episode_start is not None:
            return False
        for start, end, _ in self.episodes[-3:]:
            if start <= t <= end + QUIET_S:
                return False
        return True

    def sample(self):
        t = time.monotonic()
        pid = self.hub.pid
        text = self.last_metrics if hasattr(self, "last_metrics") else ""
        fams = harness.parse_exposition(text) if text else {}

        def gauge(name, labels=None):
            return harness.sample_value(fams, name, labels) if fams else None
        rss, pss, uss, _ = footprint.memory(pid)
        s = {
            "t": t - self.t0,
            "rss_kib": rss,
            "pss_kib": pss,
            "uss_kib": uss,
            "anon_kib": bench.status_kib(pid, "RssAnon"),
            "influxd_rss_kib": bench.status_kib(self.influx.proc.pid, "VmRSS"),
            "http_buffered": gauge("edgemon_http_buffered_bytes"),
            "history_queue": gauge("edgemon_history_queue_bytes"),
            "history_file": gauge("edgemon_history_file_bytes"),
            "history_series": gauge("edgemon_history_series"),
            "heap_in_use": gauge("edgemon_process_heap_bytes", {"state": "in_use"}),
            "heap_free": gauge("edgemon_process_heap_bytes", {"state": "free"}),
            "sqlite_memory": gauge("edgemon_process_sqlite_memory_bytes"),
            # The history's SQLite page caches: bounded (8 + 1 MiB), filled
            # as the file grows, for the growth net of them.
            "cache_kib": sum(int(gauge("edgemon_history_cache_bytes", {"connection": c}) or 0)
                             for c in ("write", "read")) // 1024,
            "spool_file": gauge("edgemon_spool_file_bytes"),
            "queued_points": gauge("edgemon_output_queued_points", {"output": "central"}),
            "acked_points": self.acked_points,
        }
        s["quiet"] = self.quiet(t)
        self.samples.append(s)
        return s

    def rss_sampler(self):
        """VmRSS every second (a read of /proc/PID/status): what the window
        medians and the verdict are taken from."""
        with open(DENSE_CSV, "w") as f:
            f.write("t,rss_kib,quiet\n")
            n = 0
            while not self.stop.is_set():
                t = time.monotonic()
                rss = bench.status_kib(self.hub.pid, "VmRSS")
                if rss:
                    s = {"t": t - self.t0, "rss_kib": rss, "quiet": self.quiet(t)}
                    self.dense.append(s)
                    f.write(f"{s['t']:.1f},{rss},{s['quiet']}\n")
                n += 1
                self.stop.wait(max(0.0, self.t0 + n - time.monotonic()))

    def sampler(self):
        with open(SAMPLES_CSV, "w") as f:
            keys = None
            n = 0
            while not self.stop.is_set():
                s = self.sample()
                if keys is None:
                    keys = list(s)
                    f.write(",".join(keys) + "\n")
                f.write(",".join(str(s[k]) for k in keys) + "\n")
                f.flush()
                if n % 30 == 0:
                    bench.log(f"  t={s['t']:.0f}s RSS {s['rss_kib']} KiB USS {s['uss_kib']} KiB "
                              f"influxd {s['influxd_rss_kib']} KiB acked {s['acked_points']:,} "
                              f"queued {s['queued_points']}")
                n += 1
                self.stop.wait(max(0.0, self.t0 + n * 10 - time.monotonic()))

    # ------------------------------------------------------------ run

    def run(self):
        self.start()
        self.lag_start = self.hub.metrics()
        threads = [threading.Thread(target=fn, name=fn.__name__, daemon=True)
                   for fn in (self.ingest, self.scraper, self.querier, self.watcher, self.hostile,
                              self.sampler, self.rss_sampler)]
        for t in threads:
            t.start()
        warm = threading.Timer(WARMUP, lambda: setattr(self, "lag_warm", self.hub.metrics()))
        warm.start()
        # The hostile clients stop a little before the end, so that the last
        # samples are quiet ones.
        self.stop.wait(max(0.0, SECONDS - 20))
        self.stop_hostile.set()
        time.sleep(max(0.0, self.t0 + SECONDS - time.monotonic()))
        self.sample()
        self.stop.set()
        for t in threads:
            t.join(120)
        warm.cancel()
        self.wall = time.monotonic() - self.t0
        self.lag_end = self.hub.metrics()
        # Drain: every acknowledged point reaches influxd.
        drained_at = time.monotonic()
        while time.monotonic() - drained_at < 300:
            queued = harness.sample_value(harness.parse_exposition(self.hub.metrics()),
                                          "edgemon_output_queued_points", {"output": "central"})
            if queued == 0:
                break
            time.sleep(1)
        self.drain_s = time.monotonic() - drained_at
        self.final_metrics = self.hub.metrics()
        self.final_rss = bench.status_kib(self.hub.pid, "VmRSS")
        self.delivered = {}
        for m, f in (("soak", "v"), ("system_metrics", "cpu")):
            rows = self.influx.query(DB, f"SELECT count(\"{f}\") FROM \"{m}\" "
                                         f"WHERE device_id =~ /^d[0-9]+$/")
            self.delivered[m] = int(rows[0]["values"][0][1]) if rows else 0
        rc, _ = self.hub.stop(timeout=30)
        self.hub_rc = rc
        self.influx.stop()


def slope_kib_per_hour(points):
    n = len(points)
    if n < 3:
        return None
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    sxx = sum((t - mx) ** 2 for t, _ in points)
    sxy = sum((t - mx) * (v - my) for t, v in points)
    return sxy / sxx * 3600 if sxx else None


def pct(values, q):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def lag_share(after, before, over=0.01):
    a, b = bench.lag_buckets(after), bench.lag_buckets(before)
    if not a:
        return None, None, 0
    inc = {le: c - b.get(le, 0.0) for le, c in a.items()}
    total = inc[float("inf")]
    under = max((c for le, c in inc.items() if le <= over), default=0.0)
    worst = min((le for le, c in sorted(inc.items()) if c >= total), default=None)
    return (total - under) / total if total else None, worst, total


def machine():
    def run(cmd):
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
    return run(["nproc"]), run(["free", "-m"]), run(["uname", "-r"])


def windows(samples, width, dense=None):
    """Markdown rows of the quiet samples per window of `width` seconds, and
    the growth of the median RSS from the window starting at the warm-up mark
    to the last whole window. The RSS columns and the growth come from
    `dense`, the samples taken every second, when there are some: the heap
    gives back its free pages every 10 s and grows again between, so RSS is a
    sawtooth of about 0.6 MiB with that period, and samples taken every 10 s
    stay on one side of it for minutes at a time as the two clocks drift (a
    run read +7 % from one 5-minute median to the next that way, with the
    samples of every 2 s flat within 0.1 %)."""
    rows, medians = [], []
    last = max(x["t"] for x in samples)
    w = 0
    while w * width <= last:
        q = [x for x in samples if x["quiet"] and w * width <= x["t"] < (w + 1) * width]
        d = [x for x in dense or [] if x["quiet"] and w * width <= x["t"] < (w + 1) * width]
        w += 1
        if len(q) < 3:  # the last sample alone past the last window
            continue
        med = lambda key: statistics.median(x[key] for x in q)  # noqa: E731
        rss = [x["rss_kib"] for x in (d or q)]
        medians.append(((w - 1) * width, statistics.median(rss)))
        # The daemon's own account of its heap (mallinfo2: blocks in use,
        # free blocks the heap keeps) and of SQLite's share of it, sampled
        # by its `self` collector every 10 s: what a step in RssAnon is.
        heap = lambda key: (f"{statistics.median(x[key] for x in q) / 1024:,.0f}"  # noqa: E731
                            if all(x.get(key) is not None for x in q) else "n/a")
        rows.append(f"| {(w - 1) * width / 60:.1f}-{w * width / 60:.1f} | {len(q)} / {len(d)} | "
                    f"{min(rss):,} / {statistics.median(rss):,.0f} / {max(rss):,} | "
                    f"{med('uss_kib'):,.0f} | "
                    f"{med('anon_kib'):,.0f} | {heap('heap_in_use')} | {heap('heap_free')} | "
                    f"{heap('sqlite_memory')} | {med('influxd_rss_kib'):,.0f} |")
    head = ["| window (min) | quiet samples, every 10 s / every 1 s | hub VmRSS KiB min / median / "
            "max (every 1 s) | hub USS KiB "
            "median | hub RssAnon KiB median | heap in use KiB | heap free KiB | of which "
            "SQLite KiB | influxd VmRSS KiB median |",
            "|---|---|---|---|---|---|---|---|---|"]
    base = [m for t, m in medians if t >= WARMUP - 5]
    growth = 100.0 * (base[-1] - base[0]) / base[0] if len(base) > 1 else None
    return head + rows, growth


def report(s, binary):
    samples = [x for x in s.samples if x["rss_kib"]]
    quiet = [x for x in samples if x["quiet"]]
    after = [x for x in quiet if x["t"] >= WARMUP - 5]
    mark = min(quiet, key=lambda x: abs(x["t"] - WARMUP))
    end = quiet[-1]

    def growth(key):
        return 100.0 * (end[key] - mark[key]) / mark[key]
    slope = slope_kib_per_hour([(x["t"], x["rss_kib"]) for x in after])
    slope_uss = slope_kib_per_hour([(x["t"], x["uss_kib"]) for x in after])
    slope_infl = slope_kib_per_hour([(x["t"], x["influxd_rss_kib"]) for x in after])
    max_rss = max(x["rss_kib"] for x in samples)
    max_quiet = max(x["rss_kib"] for x in after)
    # Judged on the medians of 5-minute windows: one sample lands anywhere
    # in the sawtooth the heap's free top makes between trims (up to 1 MiB
    # an arena, given back every 10 s), several percent of a hub's RSS, so
    # two samples cannot resolve 1 %; a lasting step moves the medians.
    wrows, wgrowth = windows(samples, WINDOW, s.dense)
    passed = wgrowth is not None and wgrowth <= 1.0
    net_mark = mark["rss_kib"] - mark.get("cache_kib", 0)
    net_end = end["rss_kib"] - end.get("cache_kib", 0)
    net_growth = 100.0 * (net_end - net_mark) / net_mark
    slope_pct = 100.0 * slope / mark["rss_kib"] if slope is not None else None

    share_all, worst_all, turns_all = lag_share(s.lag_end, s.lag_start)
    share_w, worst_w, turns_w = lag_share(s.lag_end, getattr(s, "lag_warm", s.lag_start))
    fams = harness.parse_exposition(s.final_metrics)

    def m(name, labels=None):
        return harness.sample_value(fams, name, labels) or 0
    c = s.stats.counts
    ok = sum(v for k, v in c.items() if k.startswith("ingest 2"))
    ingest_errors = {k: v for k, v in c.items() if k.startswith("ingest") and not
                     k.startswith("ingest 2")}
    delivered = sum(s.delivered.values())
    queued_end = m("edgemon_output_queued_points", {"output": "central"})
    dead = m("edgemon_output_dead_letter_points", {"output": "central"})
    dropped = m("edgemon_output_dropped_points_total", {"output": "central"})
    counted = m("edgemon_ingest_points_total", {"endpoint": "write"})
    health = s.stats.times.get("health", [])
    scrape = s.stats.times.get("scrape", [])
    query = s.stats.times.get("query", [])
    ingest = s.stats.times.get("ingest", [])
    nproc, free, kernel = machine()
    commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", HERE, "status", "--porcelain", "--", "../src"],
                           capture_output=True, text=True).stdout.strip()
    hist_drop = {r: m("edgemon_history_dropped_points_total", {"reason": r})
                 for r in ("queue_full", "max_series", "duplicate", "too_old", "write_error")}
    episodes = {}
    for _, _, name in s.episodes:
        episodes[name] = episodes.get(name, 0) + 1
    ms = lambda v: "n/a" if v is None else f"{v * 1000:.1f} ms"  # noqa: E731
    kib = lambda v: f"{v:,} KiB ({v / 1024:.1f} MiB)"  # noqa: E731

    lines = [
        f"# Soak: one hub for {SECONDS / 60:.0f} minutes ({time.strftime('%Y-%m-%d %H:%M')})",
        "",
        f"Command: `BENCH_SOAK_SECONDS={SECONDS:.0f} python3 bench/soak.py {binary}`",
        "",
        f"Commit: {commit}{' (src/ modified)' if dirty else ''}; machine: {nproc} CPUs, "
        f"kernel {kernel}, 1-minute load at the end {os.getloadavg()[0]:.2f}.",
        "",
        "```", free, "```",
        "",
        f"Load: {RATE:,} points/s of line protocol ({REQUESTS_PER_S:.0f} POST /write a second, "
        f"{LINES} lines each, {DEVICES} devices x {SERIES} series, per-device tokens and the "
        f"fleet token), a /metrics scrape every 1 s, a history query every 3 s, /health every "
        f"1 s, a hostile episode every 30 s ({', '.join(f'{k}: {v}' for k, v in episodes.items())})."
        f" One InfluxDB output to Debian's influxd on loopback.",
        "",
        f"**Result: {'PASS' if passed else 'FAIL'}** — hub RSS growth after the first "
        f"{WARMUP / 60:.3g} minutes, median of the quiet samples of the last "
        f"{WINDOW / 60:.3g} minutes against the first {WINDOW / 60:.3g} after them: "
        + ("n/a" if wgrowth is None else f"{wgrowth:+.2f} %") + " (target <= 1 %); "
        f"the last sample against the one at the mark: {growth('rss_kib'):+.2f} %.",
        "",
        "| memory (quiet samples: no hostile episode within 15 s) | hub VmRSS | hub USS | influxd VmRSS (same points) |",
        "|---|---|---|---|",
        f"| at {mark['t'] / 60:.1f} min | {kib(mark['rss_kib'])} | {kib(mark['uss_kib'])} | "
        f"{kib(mark['influxd_rss_kib'])} |",
        f"| at end ({end['t'] / 60:.1f} min) | {kib(end['rss_kib'])} | {kib(end['uss_kib'])} | "
        f"{kib(end['influxd_rss_kib'])} |",
        f"| growth, end vs {WARMUP / 60:.3g}-min mark | {growth('rss_kib'):+.2f} % | "
        f"{growth('uss_kib'):+.2f} % | {growth('influxd_rss_kib'):+.2f} % |",
        f"| least-squares slope after {WARMUP / 60:.3g} min ({len(after)} samples) | "
        f"{slope:+,.0f} KiB/h ({slope_pct:+.2f} %/h) | {slope_uss:+,.0f} KiB/h | "
        f"{slope_infl:+,.0f} KiB/h |",
        f"| the history's page caches (bounded: 8 + 1 MiB), at the mark / at end | "
        f"{kib(mark.get('cache_kib', 0))} / {kib(end.get('cache_kib', 0))} | | |",
        f"| VmRSS growth net of those caches | {net_growth:+.2f} % "
        f"({net_mark:,} -> {net_end:,} KiB) | | |",
        f"| max, quiet samples after {WARMUP / 60:.3g} min | {kib(max_quiet)} | | "
        f"{kib(max(x['influxd_rss_kib'] for x in after))} |",
        f"| max, every sample (hostile episodes included) | {kib(max_rss)} | | "
        f"{kib(max(x['influxd_rss_kib'] for x in samples))} |",
        "",
        "| daemon health | value |",
        "|---|---|",
        f"| loop turns (250 ms timer) over 10 ms, whole run | "
        f"{'n/a' if share_all is None else f'{share_all * 100:.3f} %'} of {turns_all:,.0f}; "
        f"worst bucket le={worst_all} s |",
        f"| loop turns over 10 ms after {WARMUP / 60:.3g} min | "
        f"{'n/a' if share_w is None else f'{share_w * 100:.3f} %'} of {turns_w:,.0f}; "
        f"worst bucket le={worst_w} s |",
        f"| edgemon_loop_lag_max_seconds at end | {m('edgemon_loop_lag_max_seconds')} |",
        f"| /health (new connection each, every 1 s): p50 / p99 / max | {ms(pct(health, 0.5))} / "
        f"{ms(pct(health, 0.99))} / {ms(max(health, default=None))} ({len(health)} requests) |",
        f"| /metrics scrape: p50 / p99 / max | {ms(pct(scrape, 0.5))} / {ms(pct(scrape, 0.99))}"
        f" / {ms(max(scrape, default=None))} ({len(scrape)}) |",
        f"| history queries: p50 / p99 / max | {ms(pct(query, 0.5))} / {ms(pct(query, 0.99))} / "
        f"{ms(max(query, default=None))} ({len(query)}) |",
        f"| POST /write: p50 / p99 / max | {ms(pct(ingest, 0.5))} / {ms(pct(ingest, 0.99))} / "
        f"{ms(max(ingest, default=None))} |",
        f"| hub exit code on SIGTERM | {s.hub_rc} |",
        f"| daemon log lines (info) over the run | {s.hub.log.count()} |",
        "",
        "| points | value |",
        "|---|---|",
        f"| POST /write answered 2xx | {ok:,} requests, {s.acked_points:,} points |",
        f"| POST /write not 2xx / no answer | {ingest_errors or 'none'} (points of unanswered "
        f"requests: {s.unknown_points:,}) |",
        f"| points the hub counted (edgemon_ingest_points_total, write) | {counted:,.0f} |",
        f"| spool drained after the load in | {s.drain_s:.1f} s; queued at the end: "
        f"{queued_end:,.0f}, dead letters: {dead:,.0f}, dropped: {dropped:,.0f} |",
        f"| delivered to influxd (soak + system_metrics of the pushed devices) | {delivered:,} "
        f"({s.delivered}) |",
        f"| **acknowledged vs delivered + queued** | {s.acked_points:,} vs "
        f"{delivered + queued_end:,.0f}: "
        f"{'all there' if delivered + queued_end == s.acked_points else 'DIFFERENT'} |",
        f"| history: values stored / dropped | {m('edgemon_history_written_points_total'):,.0f}"
        f" / {hist_drop} |",
        "",
        "Other requests: " + ", ".join(f"{k}: {v}" for k, v in sorted(c.items())
                                         if not k.startswith("ingest")),
        "",
        "## Quiet samples per window",
        "",
        f"Growth of the window medians, the window from {WARMUP / 60:.3g} min to the last: "
        + ("n/a" if wgrowth is None else f"{wgrowth:+.2f} %") + ".",
        "",
    ] + wrows + [
        "",
        "## Samples every 5 minutes",
        "",
        "| t (min) | hub VmRSS KiB | hub USS KiB | influxd VmRSS KiB | HTTP buffered B | "
        "history queue B | history file MiB | spool file MiB | queued points | quiet |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    step = max(1, int(300 / 10)) if SECONDS >= 1200 else 3
    for x in samples[::step] + [samples[-1]]:
        mib = lambda v: "n/a" if v is None else f"{v / 2**20:.1f}"  # noqa: E731
        lines.append(f"| {x['t'] / 60:.1f} | {x['rss_kib']:,} | {x['uss_kib']:,} | "
                     f"{x['influxd_rss_kib']:,} | {x['http_buffered']} | {x['history_queue']} | "
                     f"{mib(x['history_file'])} | {mib(x['spool_file'])} | {x['queued_points']} | "
                     f"{'yes' if x['quiet'] else 'no'} |")
    lines += ["", f"All samples: `{SAMPLES_CSV}` (not kept in the repository).", ""]
    return "\n".join(lines), passed


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] == "--windows":  # the window table of a finished run's samples
        with open(sys.argv[2] if len(sys.argv) > 2 else SAMPLES_CSV) as f:
            def value(k, v):
                if k == "quiet":
                    return v == "True"
                if v in ("", "None"):  # a gauge the daemon did not have yet
                    return None
                return float(v) if "." in v else int(v)
            samples = [{k: value(k, v) for k, v in row.items()} for row in csv.DictReader(f)]
        dense = []
        dense_csv = dense_path(sys.argv[2] if len(sys.argv) > 2 else SAMPLES_CSV)
        if os.path.exists(dense_csv):
            with open(dense_csv) as f:
                dense = [{"t": float(r["t"]), "rss_kib": int(r["rss_kib"]),
                          "quiet": r["quiet"] == "True"} for r in csv.DictReader(f)]
        rows, growth = windows(samples, WINDOW, dense)
        print("\n".join(rows) + "\n\ngrowth of the window medians: "
              + ("n/a (fewer than two windows)" if growth is None else f"{growth:+.2f} %"))
        return
    binary = os.path.abspath(sys.argv[1])
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "results-soak.md")
    harness.BIN = binary
    soak = Soak(binary)
    bench.log(f"soak: {SECONDS:.0f} s, warm-up {WARMUP:.0f} s, {RATE} points/s")
    soak.run()
    md, passed = report(soak, sys.argv[1])
    print(md)
    with open(out, "w") as f:
        f.write(md)
    bench.log(f"wrote {out}: {'PASS' if passed else 'FAIL'}")


if __name__ == "__main__":
    main()
