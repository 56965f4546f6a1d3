"""A real Prometheus (Debian `prometheus`) scrapes the daemon: the target
turns up and the series are queryable."""

import json
import os
import subprocess
import time
import urllib.parse

import harness
from harness import check, Daemon, SLOW


def start_prometheus(target, attempts=3):
    exe = harness.require_binary("prometheus")
    d = harness.make_tmpdir("edgemon-prom-")
    config = os.path.join(d, "prometheus.yml")
    harness.write_file(config, (
        "global: {scrape_interval: 2s, scrape_timeout: 2s, evaluation_interval: 2s}\n"
        "scrape_configs:\n"
        "  - job_name: edgemon\n"
        f"    static_configs: [{{targets: ['{target}']}}]\n"))
    last = ""
    for i in range(attempts):
        port = harness.free_port()
        p = harness.spawn([exe, f"--config.file={config}", f"--storage.tsdb.path={d}/data{i}",
                           f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                          stderr=subprocess.PIPE)
        try:
            if harness.wait_http_ok("127.0.0.1", port, "/-/ready", 30 * SLOW, proc=p):
                return p, port
        except AssertionError as e:
            last = str(e)
        harness.stop_process(p)
        last = p.stderr.read().decode("utf-8", "replace")[-800:] or last
    raise AssertionError(f"prometheus did not start: {last}")


def api(port, path):
    r = harness.http_request("127.0.0.1", port, "GET", path, timeout=5)
    check(r.status == 200, f"prometheus {path}: {r.status} {r.body[:300]!r}")
    doc = json.loads(r.body)
    check(doc.get("status") == "success", f"prometheus {path}: {doc}")
    return doc["data"]


def query(port, expr):
    return api(port, "/api/v1/query?" + urllib.parse.urlencode({"query": expr}))["result"]


def test_prometheus_scrapes_daemon():
    harness.require_binary("prometheus")
    with Daemon(sets=["collect.interval=1s"]) as d:
        target = f"{d.host}:{d.port}"
        prom, port = start_prometheus(target)
        try:
            state = {}

            def target_up():
                for t in api(port, "/api/v1/targets")["activeTargets"]:
                    if t.get("scrapeUrl", "").startswith(f"http://{target}/"):
                        state.update(t)
                        return t.get("health") == "up"
                return False

            t0 = time.monotonic()
            try:
                # Prometheus 2.42 hands targets to the scraper at most every
                # 5 s, so the first scrape comes after ~6 s.
                harness.eventually(target_up, 40 * SLOW, interval=0.1, what="target health up")
            except AssertionError:
                raise AssertionError(f"target never up; last state: {state}")
            print(f"target up after {time.monotonic() - t0:.1f}s")
            check(state.get("lastError", "") == "", f"lastError: {state.get('lastError')!r}")
            check(state.get("labels", {}).get("job") == "edgemon", f"labels: {state.get('labels')}")

            # The target's health can be reported a moment before the
            # scrape's samples are committed and queryable.
            up = harness.eventually(lambda: query(port, 'up{job="edgemon"}'), 10 * SLOW,
                                    interval=0.1, what="the first scrape's samples")
            check(len(up) == 1 and up[0]["value"][1] == "1", f"up{{job=\"edgemon\"}} = {up}")

            load = query(port, 'node_load1{job="edgemon"}')
            check(len(load) == 1, f"node_load1 query returned {load}")
            value = float(load[0]["value"][1])
            check(0 <= value < 10000, f"node_load1 = {value}")
            check(load[0]["metric"].get("instance") == target,
                  f"node_load1 instance label {load[0]['metric']}")

            samples = query(port, 'scrape_samples_scraped{job="edgemon"}')
            check(samples and float(samples[0]["value"][1]) > 100,
                  f"scrape_samples_scraped = {samples}")
            cpus = query(port, 'count(node_cpu_seconds_total{job="edgemon",mode="idle"})')
            with open("/proc/stat", encoding="ascii") as f:
                ncpu = sum(1 for l in f if l.startswith("cpu") and l[3].isdigit())
            check(cpus and int(float(cpus[0]["value"][1])) == ncpu,
                  f"idle CPU series {cpus}, expected {ncpu}")
            build = query(port, 'edgemon_build_info{job="edgemon"}')
            check(len(build) == 1 and build[0]["value"][1] == "1", f"edgemon_build_info = {build}")
        finally:
            rc = harness.stop_process(prom, timeout=15)
            check(rc == 0, f"prometheus exited {rc}")


if __name__ == "__main__":
    harness.main(globals())
