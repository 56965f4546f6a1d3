#!/usr/bin/env python3
"""Hub ingest benchmark, side by side in one run on loopback.

Usage: bench/hub_bench.py path/to/edgemon [results.md]
Environment: BENCH_HUB_SECONDS (per wrk run, default 10), BENCH_HUB_CONNECTIONS (default 8).

The same line protocol file -- 1,000,000 points, 5 fields and 3 tags each, in
bodies of 5,000 lines -- is posted with wrk (a public load generator; a Lua
script cycles through the bodies) for BENCH_HUB_SECONDS:
 1. into the hub's POST /write: a 204 means the points are durable in the
    hub's spool (its output points at a closed port, so the hub only
    ingests: what is measured is "until durable", as the hub promises);
 2. straight into influxd's own POST /write (Debian's InfluxDB 1.6);
 3. JSON agent payloads (one per request, the original agent's shape) into
    the hub's POST /metrics.
Reported: points/s of each, the ratio hub/influxd (target >= 3), payloads/s,
p99 request latency, the hub's peak RSS (VmHWM), and that no request failed.
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
    t0 = 1736800000000
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


def main():
    binary = sys.argv[1]
    results = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "results-hub.md")
    bodies = make_bodies()
    server = Influxd().start()
    server.create_database("bench")
    direct = run_wrk(f"{server.url}/write?db=bench&precision=ms", bodies, TMP,
                     "text/plain; charset=utf-8", "influxd-write")
    server.stop()
    hub, port = start_hub(binary)
    ingest = run_wrk(f"http://127.0.0.1:{port}/write?precision=ms", bodies, TMP,
                     "text/plain; charset=utf-8", "hub-write")
    payloads = run_wrk(f"http://127.0.0.1:{port}/metrics", 1, TMP, "application/json",
                       "hub-json")
    hwm = bench.status_kib(hub.pid, "VmHWM")
    bench.stop(hub)
    hub_pps = ingest["rps"] * BATCH
    direct_pps = direct["rps"] * BATCH
    failures = {n: (r["non2xx"], r["socket_errors"])
                for n, r in (("influxd", direct), ("hub", ingest), ("json", payloads))}
    table = f"""\
| measurement (wrk -t2 -c{CONNECTIONS} -d{SECONDS}s, bodies of {BATCH:,} lines) | value | p99 latency |
|---|---|---|
| influxd 1.6 POST /write | {direct_pps:,.0f} points/s | {direct['p99_ms']:.1f} ms |
| edgemon hub POST /write (204 = durable in the spool) | {hub_pps:,.0f} points/s | {ingest['p99_ms']:.1f} ms |
| **ratio hub / influxd** | **{hub_pps / direct_pps:.2f}** (target >= 3) | |
| edgemon hub POST /metrics, JSON payloads (202 = durable) | {payloads['rps']:,.0f} payloads/s | {payloads['p99_ms']:.2f} ms |
| hub peak RSS (VmHWM) over both runs | {hwm / 1024:.1f} MiB | |

Failed requests (non-2xx, socket errors): {failures}
"""
    print(table)
    with open(results, "w") as f:
        f.write(f"# Hub ingest benchmark ({time.strftime('%Y-%m-%d %H:%M')})\n\n"
                f"Command: `python3 bench/hub_bench.py {binary}`\n\n" + table)
    bench.cleanup()


if __name__ == "__main__":
    main()
