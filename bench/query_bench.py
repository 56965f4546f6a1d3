#!/usr/bin/env python3
"""Query latency benchmark: edgemon's /history, /avg_usage and /metrics_usage
over a day of history for a fleet, side by side with the equivalent
InfluxQL queries on a real influxd (Debian's 1.6) holding the same points.

Usage: bench/query_bench.py path/to/edgemon path/to/history_fill [results.md]
Environment: BENCH_QUERY_DEVICES (default 50), BENCH_QUERY_HOURS (24),
BENCH_QUERY_SECONDS (wrk duration per query, 10), BENCH_QUERY_CONNECTIONS
(wrk connections, 1: latency of one query at a time, as a dashboard asks; threads = min(2, connections)), BENCH_QUERY_INFLUX (1;
0 skips influxd).

Steps:
 1. history_fill writes BENCH_QUERY_HOURS of system_metrics points (one per
    device every 10 s, 10 numeric fields) into a history file with the
    daemon's own HistoryDb, and the same points as line protocol;
 2. edgemon runs with history.path on that file (raw_retention 25h, so the
    whole day is raw) and wrk --latency measures each query for
    BENCH_QUERY_SECONDS -> p50, p99, requests/s;
 3. influxd gets the line protocol through /write (5,000 lines a request)
    and wrk measures the InfluxQL equivalents on /query.
Target: p99 <= 10 ms for edgemon's queries on a 2-core VM.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "test", "integration"))
import bench  # noqa: E402  (shared helpers: spawn, stop, free_port)

DEVICES = int(os.environ.get("BENCH_QUERY_DEVICES", "50"))
HOURS = int(os.environ.get("BENCH_QUERY_HOURS", "24"))
SECONDS = int(os.environ.get("BENCH_QUERY_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_QUERY_CONNECTIONS", "1"))
WITH_INFLUX = os.environ.get("BENCH_QUERY_INFLUX", "1") != "0"
BATCH = 5000
TMP = tempfile.mkdtemp(prefix="edgemon-query-bench-")

# (label, edgemon path, InfluxQL equivalent or None)
QUERIES = [
    ("avg_usage cpu 24h, per device",
     f"/avg_usage?metric=cpu&range={HOURS}h",
     f"SELECT mean(cpu) FROM system_metrics WHERE time > now() - {HOURS}h GROUP BY device_id"),
    ("avg_usage cpu 1h, one device",
     "/avg_usage?metric=cpu&range=1h&device=dev-7",
     "SELECT mean(cpu) FROM system_metrics WHERE time > now() - 1h AND device_id = 'dev-7'"),
    ("history one device, newest 100",
     "/history?device=dev-7&limit=100",
     "SELECT * FROM system_metrics WHERE device_id = 'dev-7' ORDER BY time DESC LIMIT 10"),
    ("history all devices, newest 100",
     "/history?limit=100",
     "SELECT * FROM system_metrics ORDER BY time DESC LIMIT 10"),
    ("history one field, 1000 points",
     "/history?field=cpu&limit=1000",
     "SELECT cpu FROM system_metrics ORDER BY time DESC LIMIT 1000"),
    ("metrics_usage cpu 24h step 1h",
     f"/metrics_usage?metric=cpu&range={HOURS}h&step=1h",
     f"SELECT mean(cpu), min(cpu), max(cpu), count(cpu) FROM system_metrics "
     f"WHERE time > now() - {HOURS}h GROUP BY time(1h), device_id"),
    ("metrics_usage cpu 24h step 5m",
     f"/metrics_usage?metric=cpu&range={HOURS}h&step=5m",
     f"SELECT mean(cpu), min(cpu), max(cpu), count(cpu) FROM system_metrics "
     f"WHERE time > now() - {HOURS}h GROUP BY time(5m), device_id"),
]


def http(method, port, path, body=None, timeout=60):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def wait_ok(port, path, timeout=60):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            return http("GET", port, path)
        except urllib.error.HTTPError as e:
            last = f"{e.code} {e.read()[:200]!r}"
        except OSError as e:
            last = str(e)
        time.sleep(0.05)
    raise SystemExit(f"{path} on port {port} not ready: {last}")


UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def parse_latency(text, pct):
    m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def wrk(url):
    exe = shutil.which("wrk")
    if not exe:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    threads = max(1, min(2, CONNECTIONS))
    r = subprocess.run([exe, f"-t{threads}", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency",
                        url], capture_output=True, text=True, timeout=SECONDS + 60)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", r.stdout)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", r.stdout)
    if bad:
        raise SystemExit(f"{url}: {bad.group(1)} non-2xx responses\n{r.stdout}")
    return {"p50": parse_latency(r.stdout, 50), "p99": parse_latency(r.stdout, 99),
            "rps": float(rps.group(1)) if rps else None}


def fill(history_fill):
    path = os.path.join(TMP, "history.db")
    lp = os.path.join(TMP, "fleet.lp")
    t0 = time.monotonic()
    out = subprocess.run([history_fill, path, "--devices", str(DEVICES), "--hours", str(HOURS),
                          "--lp", lp], check=True, capture_output=True, text=True).stdout
    bench.log(f"history_fill: {out.strip()} in {time.monotonic() - t0:.1f}s")
    return path, lp, out.strip()


def run_edgemon(binary, path):
    state = tempfile.mkdtemp(prefix="state-", dir=TMP)
    cfg = os.path.join(state, "edgemon.yaml")
    with open(cfg, "w") as f:
        f.write(f"""\
history:
  enabled: true
  path: {path}
  raw_retention: {HOURS + 1}h
  aggregate_retention: 7d
  max_bytes: 4GiB
  max_query_points: 10000
""")
    port = bench.free_port()
    p = bench.spawn([binary, "run", "-c", cfg, "--listen", f"127.0.0.1:{port}",
                     "--state-dir", state, "--log-level", "warn"])
    try:
        wait_ok(port, "/avg_usage?metric=cpu&range=1h")
        body = json.loads(http("GET", port, f"/avg_usage?metric=cpu&range={HOURS}h")[1])
        bench.log(f"edgemon avg_usage: {body['samples']:,} samples over "
                  f"{len(body['devices'])} devices")
        results = {}
        for label, path_q, _ in QUERIES:
            results[label] = wrk(f"http://127.0.0.1:{port}{path_q}")
            bench.log(f"edgemon {label}: {results[label]}")
        rss = bench.status_kib(p.pid, "VmRSS")
        return results, rss
    finally:
        bench.stop(p)


def run_influxd(lp):
    from influx import Influxd  # the tests' influxd on loopback
    server = Influxd(max_body=100000000).start()
    try:
        server.create_database("bench")
        chunks = os.path.join(TMP, "chunks")
        os.makedirs(chunks, exist_ok=True)
        subprocess.run(["split", "-l", str(BATCH), "-a", "4", lp, chunks + "/c"], check=True)
        url = f"http://127.0.0.1:{server.port}/write?db=bench&precision=ms"
        args = ["curl", "-sS"]
        for i, name in enumerate(sorted(os.listdir(chunks))):
            if i:
                args.append("--next")
            args += ["-o", "/dev/null", "-w", "%{http_code}\\n", "--data-binary",
                     "@" + os.path.join(chunks, name), url]
        t0 = time.monotonic()
        r = subprocess.run(args, capture_output=True, text=True)
        if any(c != "204" for c in r.stdout.split()):
            raise SystemExit(f"influxd write failed: {set(r.stdout.split())} {r.stderr[:300]}")
        bench.log(f"influxd loaded in {time.monotonic() - t0:.1f}s")
        results = {}
        for label, _, q in QUERIES:
            if q is None:
                continue
            query = urllib.parse.urlencode({"db": "bench", "q": q})
            results[label] = wrk(f"http://127.0.0.1:{server.port}/query?{query}")
            bench.log(f"influxd {label}: {results[label]}")
        return results
    finally:
        server.stop()


def ms(v):
    return "n/a" if v is None else f"{v * 1000:.2f} ms"


def main():
    binary, history_fill = sys.argv[1], sys.argv[2]
    results_path = sys.argv[3] if len(sys.argv) > 3 else None
    try:
        path, lp, filled = fill(history_fill)
        size = os.path.getsize(path)
        ours, rss = run_edgemon(binary, path)
        theirs = run_influxd(lp) if WITH_INFLUX else {}
    finally:
        bench.cleanup()
        subprocess.run(["rm", "-rf", TMP])
    lines = [
        f"Query benchmark, {time.strftime('%Y-%m-%d')}: {HOURS} h of system_metrics for"
        f" {DEVICES} devices (one point per device every 10 s, 10 fields; {filled};"
        f" {size / 1048576:.0f} MiB), wrk {CONNECTIONS} connections x {SECONDS} s per query"
        f" (`bench/query_bench.py`, influxd 1.6 on loopback, 2-core VM). edgemon VmRSS after"
        f" the run: {rss / 1024:.1f} MiB.",
        "",
        "| query | edgemon p50 | edgemon p99 | edgemon req/s | influxd p50 | influxd p99 |"
        " influxd req/s | p99 ratio (influxd / edgemon) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, path_q, q in QUERIES:
        o = ours[label]
        t = theirs.get(label, {})
        ratio = (f"{t['p99'] / o['p99']:.1f}x" if t.get("p99") and o.get("p99") else "n/a")
        lines.append(f"| `{path_q}` | {ms(o['p50'])} | {ms(o['p99'])} | {o['rps'] or 0:,.0f} |"
                     f" {ms(t.get('p50'))} | {ms(t.get('p99'))} | {t.get('rps') or 0:,.0f} |"
                     f" {ratio} |")
    lines.append("")
    lines.append("InfluxQL compared: " + "; ".join(f"{label}: `{q}`" for label, _, q in QUERIES
                                                    if q))
    text = "\n".join(lines) + "\n"
    if results_path:
        with open(results_path, "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()
