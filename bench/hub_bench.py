#!/usr/bin/env python3
"""Hub ingest benchmark, side by side in one run on loopback.

Usage: bench/hub_bench.py path/to/edgemon [results.md]
Environment: BENCH_HUB_SECONDS (per wrk run, default 10), BENCH_HUB_CONNECTIONS (default 8),
BENCH_HUB_ROUNDS (alternating influxd/hub rounds, default 3).

The same line protocol file -- 1,000,000 points, 5 fields and 3 tags each, in
bodies of 5,000 lines, timestamped over the last hour as a fleet's live
points are -- is posted with wrk (a public load generator; a Lua script
cycles through the bodies) for BENCH_HUB_SECONDS:
 1. into the hub's POST /write: a 204 means the points are durable in the
    hub's spool (its output points at a closed port, so the hub only
    ingests: what is measured is "until durable", as the hub promises). The
    hub's history is on, as by default: what it kept and what its queue
    bound dropped meanwhile is reported;
 2. straight into influxd's own POST /write (Debian's InfluxDB 1.6);
 3. JSON agent payloads (one per request, the original agent's shape) into
    the hub's POST /metrics.
Reported: points/s of each, the ratio hub/influxd (target >= 3), CPU time
per point of each server, payloads/s, p99 request latency, the hub's peak
RSS (VmHWM) and its RSS 15 s after the load, and that no request failed.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "test", "integration"))
import bench  # noqa: E402
from influx import Influxd  # noqa: E402

SECONDS = int(os.environ.get("BENCH_HUB_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_HUB_CONNECTIONS", "8"))
ROUNDS = int(os.environ.get("BENCH_HUB_ROUNDS", "3"))
POINTS = 1_000_000
BATCH = 5000
TMP = tempfile.mkdtemp(prefix="edgemon-hub-bench-")

# wrk's Lua: each thread loads every body (args: count, directory, content
# type) and posts them in turn, starting at a random one.
LUA = """\
local bodies = {}
local n = 0
local idx = 0
local content_type = ""
init = function(args)
  n = tonumber(args[1])
  content_type = args[3]
  for i = 0, n - 1 do
    local name = n == 1 and "body-json.lp" or string.format("body-%04d.lp", i)
    local f = assert(io.open(args[2] .. "/" .. name, "rb"))
    bodies[i] = f:read("*a")
    f:close()
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  idx = math.random(0, n - 1)
end
request = function()
  idx = (idx + 1) % n
  return wrk.format("POST", nil, {["Content-Type"] = content_type}, bodies[idx])
end
"""


def make_bodies():
    bodies = POINTS // BATCH
    t0 = int(time.time() * 1000) - 3600 * 1000
    for b in range(bodies):
        lines = []
        for j in range(BATCH):
            i = b * BATCH + j
            lines.append(f"bench,host=edge-{i % 50:02d},region=r{i % 5},rack=k{i % 3} "
                         f"usage_user={(i % 1000) / 10},usage_system={(i % 300) / 10},"
                         f"load1={(i % 400) / 100},procs={i % 700}i,ok=true {t0 + i}")
        with open(os.path.join(TMP, f"body-{b:04d}.lp"), "w") as f:
            f.write("\n".join(lines) + "\n")
    payload = {"device_id": "edge-07", "hostname": "edge-07", "timestamp": 1736847690.5,
               "cpu_total": 12.5, "cpu_per_core": [10.0, 15.0, 9.5, 14.0],
               "memory_percent": 41.25, "memory_used": 1673527296, "memory_total": 4062691328,
               "disk_percent": 55.0, "disk_used": 16000000000, "disk_total": 32000000000,
               "heartbeat": 42, "tags": {"location": "lab", "zone": "a"}}
    with open(os.path.join(TMP, "body-json.lp"), "w") as f:
        f.write(json.dumps(payload))
    return bodies


def run_wrk(url, bodies, pattern_dir, content_type, name):
    script = os.path.join(TMP, "post.lua")
    with open(script, "w") as f:
        f.write(LUA)
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency",
                          "-s", script, url, "--", str(bodies), pattern_dir, content_type],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    rps = float(m.group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    bench.log(f"{name}: {rps:,.1f} req/s, p99 {float(p99.group(1)) * scale:.2f} ms")
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale,
            "non2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else "", "raw": out}


def cpu_seconds(pid):
    """utime + stime of a process so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric(text, name):
    m = re.search(r"^" + re.escape(name) + r" ([0-9.e+]+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def start_hub(binary):
    port = bench.free_port()
    dead = bench.free_port()  # nobody listens: the hub spools and retries
    cfg = os.path.join(TMP, "hub.yaml")
    with open(cfg, "w") as f:
        f.write(f"""\
collect:
  interval: 10s
spool:
  path: {TMP}/spool.db
ingest:
  enabled: true
  limits:
    max_pending_bytes: 256MiB
outputs:
  influxdb:
    - name: central
      url: http://127.0.0.1:{dead}
      database: bench
      retry_initial: 60s
      retry_max: 60s
      max_bytes: 16GiB
""")
    p = bench.spawn([binary, "run", "-c", cfg, "--listen", f"127.0.0.1:{port}",
                     "--state-dir", TMP, "--log-level", "warn"])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            bench.http_get(port)
            return p, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("hub did not start")


def influxd_round(bodies):
    server = Influxd().start()
    server.create_database("bench")
    cpu0 = cpu_seconds(server.proc.pid)
    r = run_wrk(f"{server.url}/write?db=bench&precision=ms", bodies, TMP,
                "text/plain; charset=utf-8", "influxd-write")
    r["cpu"] = cpu_seconds(server.proc.pid) - cpu0
    server.stop()
    return r


def hub_round(binary, bodies, last):
    """One hub run on a fresh spool; the last also measures JSON and memory."""
    for name in ("spool.db", "spool.db-wal", "spool.db-shm", "history.db", "history.db-wal",
                 "history.db-shm"):
        if os.path.exists(os.path.join(TMP, name)):
            os.remove(os.path.join(TMP, name))
    hub, port = start_hub(binary)
    cpu0 = cpu_seconds(hub.pid)
    r = run_wrk(f"http://127.0.0.1:{port}/write?precision=ms", bodies, TMP,
                "text/plain; charset=utf-8", "hub-write")
    r["cpu"] = cpu_seconds(hub.pid) - cpu0
    text = bench.http_get(port)[1].decode()
    r["kept"] = metric(text, "edgemon_history_written_points_total")
    r["queue_full"] = metric(text, 'edgemon_history_dropped_points_total{reason="queue_full"}')
    if last:
        r["json"] = run_wrk(f"http://127.0.0.1:{port}/metrics", 1, TMP, "application/json",
                            "hub-json")
        r["hwm"] = bench.status_kib(hub.pid, "VmHWM")
        time.sleep(15)  # the heap is handed back every 10 s
        r["rss_after"] = bench.status_kib(hub.pid, "VmRSS")
    bench.stop(hub)
    return r


def main():
    binary = sys.argv[1]
    results = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "results-hub.md")
    bodies = make_bodies()
    # Alternating rounds, each server fresh: the VM's speed drifts by 10-20 %
    # over a minute, and the median of each side is compared.
    direct, hub = [], []
    for i in range(ROUNDS):
        direct.append(influxd_round(bodies))
        hub.append(hub_round(binary, bodies, last=i == ROUNDS - 1))
    pps = lambda r: r["rps"] * BATCH  # noqa: E731
    # wrk counts completed requests; the CPU time covers the same window.
    us = lambda r: r["cpu"] / (pps(r) * SECONDS) * 1e6  # noqa: E731
    d = sorted(direct, key=pps)[len(direct) // 2]
    h = sorted(hub, key=pps)[len(hub) // 2]
    last = hub[-1]
    payloads = last["json"]
    rounds = ", ".join(f"{pps(a) / pps(b):.2f}" for a, b in zip(hub, direct))
    failures = {"influxd": [(r["non2xx"], r["socket_errors"]) for r in direct],
                "hub": [(r["non2xx"], r["socket_errors"]) for r in hub],
                "json": (payloads["non2xx"], payloads["socket_errors"])}
    table = f"""| measurement (wrk -t2 -c{CONNECTIONS} -d{SECONDS}s, bodies of {BATCH:,} lines; median of {ROUNDS} alternating rounds) | value | p99 latency |
|---|---|---|
| influxd 1.6 POST /write | {pps(d):,.0f} points/s ({us(d):.2f} µs CPU a point) | {d['p99_ms']:.1f} ms |
| edgemon hub POST /write (204 = durable in the spool) | {pps(h):,.0f} points/s ({us(h):.2f} µs CPU a point) | {h['p99_ms']:.1f} ms |
| **ratio hub / influxd** (of the medians; per round: {rounds}) | **{pps(h) / pps(d):.2f}** (target >= 3) | |
| values the hub's history stored during that run / dropped at its queue bound (queue_full) | {h['kept']:,.0f} / {h['queue_full']:,.0f} | |
| edgemon hub POST /metrics, JSON payloads (200 = durable) | {payloads['rps']:,.0f} payloads/s | {payloads['p99_ms']:.2f} ms |
| hub peak RSS (VmHWM) over its last round; RSS 15 s later | {last['hwm'] / 1024:.1f} MiB; {last['rss_after'] / 1024:.1f} MiB | |

Failed requests (non-2xx, socket errors): {failures}
"""
    print(table)
    with open(results, "w") as f:
        f.write(f"# Hub ingest benchmark ({time.strftime('%Y-%m-%d %H:%M')})\n\n"
                f"Command: `python3 bench/hub_bench.py {binary}`\n\n" + table)
    bench.cleanup()


if __name__ == "__main__":
    main()
