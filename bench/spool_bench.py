#!/usr/bin/env python3
"""Store-and-forward benchmark: the spool and the InfluxDB output against a
real influxd (Debian's 1.6) on loopback.

Usage: bench/spool_bench.py path/to/edgemon path/to/spool_fill [results.md]
Environment: BENCH_SPOOL_POINTS (backlog size, default 1000000),
BENCH_SPOOL_RUNS (hyperfine runs, default 3).

Phases:
 1. spool write throughput: hyperfine runs spool_fill (the daemon's own Spool
    class) appending BENCH_SPOOL_POINTS points in batches of 5,000, with
    spool.sync normal and full -> points/s;
 2. replay vs direct: the same points (a) replayed by edgemon from a spool
    backlog into influxd (batch_size 5000, gzip on, replay_rate unlimited),
    (b) written straight into influxd by one curl process, 5,000 lines per
    request on one keep-alive connection -> points/s and the ratio;
 3. memory: edgemon's VmRSS with an empty spool vs with the backlog queued
    (output unreachable, so the backlog just sits there);
 4. loop lag p99 during the replay (from edgemon_loop_lag_seconds).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "test", "integration"))
import bench  # noqa: E402  (shared helpers: spawn, stop, free_port, loop lag)
from influx import Influxd  # noqa: E402  (the tests' influxd on loopback)

POINTS = int(os.environ.get("BENCH_SPOOL_POINTS", "1000000"))
RUNS = int(os.environ.get("BENCH_SPOOL_RUNS", "3"))
BATCH = 5000
TMP = tempfile.mkdtemp(prefix="edgemon-spool-bench-")

def http(method, port, path, body=None, timeout=60):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def count_points(server, db):
    return sum(sr["values"][0][1]
               for sr in server.query(db, 'SELECT count("v") FROM "spool_fill"'))


def fill(spool_fill, path, sync="normal"):
    subprocess.run([spool_fill, path, "main", str(POINTS // BATCH), str(BATCH), "--sync", sync,
                    "--precision", "ms", "--per-batch"], check=True, stdout=subprocess.DEVNULL)


def phase_write(spool_fill):
    out = {}
    for sync in ("normal", "full"):
        path = os.path.join(TMP, f"w-{sync}.db")
        js = os.path.join(TMP, f"hf-{sync}.json")
        cmd = (f"{spool_fill} {path} main {POINTS // BATCH} {BATCH} --sync {sync} "
               f"--precision ms --per-batch >/dev/null")
        subprocess.run(["hyperfine", "--runs", str(RUNS), "--prepare", f"rm -f {path}*",
                        "--export-json", js, cmd], check=True, stdout=subprocess.DEVNULL)
        with open(js) as f:
            mean = json.load(f)["results"][0]["mean"]
        out[sync] = POINTS / mean
        bench.log(f"spool write sync={sync}: {out[sync]:,.0f} points/s")
    return out


def edgemon_cmd(binary, port, state, spool, influx_port, db, extra=()):
    cfg = os.path.join(state, "edgemon.yaml")
    with open(cfg, "w") as f:
        f.write(f"""\
collect:
  interval: 1s
spool:
  path: {spool}
outputs:
  influxdb:
    - name: main
      url: http://127.0.0.1:{influx_port}
      database: {db}
      batch_size: {BATCH}
      replay_rate: 0
      flush_interval: 1s
""" + "".join(extra))
    return [binary, "run", "-c", cfg, "--listen", f"127.0.0.1:{port}", "--state-dir", state,
            "--log-level", "warn"]


def status(port):
    return json.loads(http("GET", port, "/status")[1])


def metrics(port):
    return http("GET", port, "/metrics")[1].decode()


def wait_http(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return status(port)
        except OSError:
            time.sleep(0.02)
    raise SystemExit("edgemon did not start")


def rss_kib(pid):
    return bench.status_kib(pid, "VmRSS")


def phase_memory(binary, spool_fill):
    """RSS with an empty spool vs the backlog, output unreachable."""
    dead = bench.free_port()
    out = {}
    for name, filled in (("empty", False), ("backlog", True)):
        state = tempfile.mkdtemp(prefix=f"mem-{name}-", dir=TMP)
        spool = os.path.join(state, "spool.db")
        if filled:
            fill(spool_fill, spool)
        port = bench.free_port()
        p = bench.spawn(edgemon_cmd(binary, port, state, spool, dead, "x"))
        wait_http(port)
        time.sleep(5)  # several rounds and fetch/retry cycles over the backlog
        st = status(port)["outputs"][0]
        out[name] = (rss_kib(p.pid), st["queued"]["points"])
        bench.stop(p)
        bench.log(f"RSS {name}: {out[name][0]} KiB with {out[name][1]:,} points queued")
    return out


def phase_replay(binary, spool_fill):
    server = Influxd().start()
    iport = server.port
    try:
        # (b) direct: the same lines, straight into influxd with curl.
        src = os.path.join(TMP, "direct-src.db")
        fill(spool_fill, src)
        lp = os.path.join(TMP, "all.lp")
        with open(lp, "w") as f:
            subprocess.run([binary, "spool", "--spool", src, "dump", "--format", "lp"],
                           stdout=f, check=True)
        chunks = os.path.join(TMP, "chunks")
        os.makedirs(chunks)
        subprocess.run(["split", "-l", str(BATCH), "-a", "4", lp, chunks + "/c"], check=True)
        files = sorted(os.listdir(chunks))
        server.create_database("direct")
        url = f"http://127.0.0.1:{iport}/write?db=direct&precision=ms"
        # One curl process, one keep-alive connection, one request per chunk.
        args = ["curl", "-sS"]
        for i, name in enumerate(files):
            if i:
                args.append("--next")
            args += ["-o", "/dev/null", "-w", "%{http_code}\\n", "--data-binary",
                     "@" + os.path.join(chunks, name), url]
        t0 = time.monotonic()
        r = subprocess.run(args, capture_output=True, text=True)
        direct_s = time.monotonic() - t0
        codes = r.stdout.split()
        if any(c != "204" for c in codes):
            raise SystemExit(f"direct write failed: {set(codes)} {r.stderr[:300]}")
        direct_n = count_points(server, "direct")
        bench.log(f"direct curl: {direct_n:,} points in {direct_s:.2f}s")

        # (a) replay: edgemon started on a spool holding the same backlog.
        state = tempfile.mkdtemp(prefix="replay-", dir=TMP)
        spool = os.path.join(state, "spool.db")
        fill(spool_fill, spool)
        server.create_database("replay")
        port = bench.free_port()
        t0 = time.monotonic()
        p = bench.spawn(edgemon_cmd(binary, port, state, spool, iport, "replay",
                                    extra=["      schema: system_metrics\n"]))
        wait_http(port)
        before = metrics(port)
        while True:
            st = status(port)["outputs"][0]
            if st["sent_points"] >= POINTS:
                break
            if time.monotonic() - t0 > 600:
                raise SystemExit(f"replay did not finish: {st}")
            time.sleep(0.05)
        replay_s = time.monotonic() - t0
        lag = bench.loop_lag_p99(metrics(port), before)
        bench.stop(p)
        replay_n = count_points(server, "replay")
        bench.log(f"edgemon replay: {replay_n:,} points in {replay_s:.2f}s, lag p99 {lag}")
        return {"direct_s": direct_s, "direct_n": direct_n, "replay_s": replay_s,
                "replay_n": replay_n, "lag_p99": lag}
    finally:
        server.stop()


def main():
    binary, spool_fill = sys.argv[1], sys.argv[2]
    results = sys.argv[3] if len(sys.argv) > 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results-spool.md")
    try:
        write = phase_write(spool_fill)
        mem = phase_memory(binary, spool_fill)
        rep = phase_replay(binary, spool_fill)
    finally:
        bench.cleanup()
        subprocess.run(["rm", "-rf", TMP])
    direct_rate = rep["direct_n"] / rep["direct_s"]
    replay_rate = rep["replay_n"] / rep["replay_s"]
    rss_delta = mem["backlog"][0] - mem["empty"][0]
    lag = rep["lag_p99"]
    lines = [
        f"Spool benchmark, {time.strftime('%Y-%m-%d')}, {POINTS:,} points in batches of {BATCH:,}"
        f" (`bench/spool_bench.py`, influxd 1.6 on loopback, 2-core VM).",
        "",
        "| measurement | value | compared with | ratio |",
        "| --- | --- | --- | --- |",
        f"| spool write, sync normal | {write['normal']:,.0f} points/s | | |",
        f"| spool write, sync full | {write['full']:,.0f} points/s | sync normal |"
        f" {write['full'] / write['normal']:.2f} |",
        f"| backlog replay into influxd (gzip) | {replay_rate:,.0f} points/s"
        f" ({rep['replay_n']:,} in {rep['replay_s']:.2f} s) | curl straight to influxd:"
        f" {direct_rate:,.0f} points/s ({rep['direct_n']:,} in {rep['direct_s']:.2f} s) |"
        f" {replay_rate / direct_rate:.2f} |",
        f"| VmRSS, {mem['backlog'][1]:,} points queued | {mem['backlog'][0] / 1024:.2f} MiB |"
        f" empty spool: {mem['empty'][0] / 1024:.2f} MiB | +{rss_delta} KiB |",
        f"| loop lag p99 during the replay | "
        f"{'n/a' if lag is None else f'{lag * 1000:.2f} ms'} | | |",
        "",
    ]
    text = "\n".join(lines)
    with open(results, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
