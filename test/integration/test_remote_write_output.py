"""edgemon's remote_write output against a real Prometheus 2.42 receiver
(--web.enable-remote-write-receiver, loopback): host points arrive as
MEASUREMENT_FIELD series with the point's tags as labels; samples collected
while Prometheus is down and across a SIGKILL of edgemon all arrive, each
exactly once; a batch Prometheus refuses (400) is dead-lettered and counted
while the good batches of the same request and later ones arrive.

libsnappy and libprotobuf-c are loaded with dlopen() by the output: its
daemon maps them (test_influx_output.py checks that a daemon without one
does not). Where one is missing -- hidden by a bind mount of /dev/null in a
mount namespace of the daemon's own, as root -- the output is failing with
an error naming the Debian package and the rest of the daemon runs on.

"Exactly once" is counted per round, as for InfluxDB: the loadavg collector
writes one `loadavg` point per successful run, so the number of samples of
loadavg_load1 in Prometheus must equal edgemon_collector_runs_total for it
(Prometheus also keeps a resent identical sample once, so a duplicate could
hide; a missing one cannot)."""

import os
import re
import signal
import subprocess
import time

import harness
from harness import Daemon, check, eventually, make_tmpdir, write_file
from prometheus import Prometheus


def config(url, flush="200ms", ingest=False):
    text = f"""\
device_id: it-rw
tags:
  location: lab
collect:
  interval: 500ms
spool:
  commit_interval: 100ms
outputs:
  remote_write:
    - name: prom
      url: {url}
      flush_interval: {flush}
      retry_initial: 200ms
      retry_max: 1s
"""
    if ingest:
        text += "ingest:\n  enabled: true\n"
    return write_file(os.path.join(make_tmpdir("edgemon-cfg-"), "edgemon.yaml"), text)


def write_url(prom, port=None):
    return f"http://127.0.0.1:{port or prom.port}/api/v1/write"


def runs(daemon, collector="loadavg"):
    m = re.search(r'^edgemon_collector_runs_total\{collector="%s"\} (\S+)$' % collector,
                  daemon.metrics(), re.M)
    check(m, "no runs counter for " + collector)
    return int(float(m.group(1)))


def mapped_libraries(pid):
    with open(f"/proc/{pid}/maps") as f:
        return {os.path.basename(line.split()[-1]) for line in f if ".so" in line.split()[-1]}


def output_status(daemon, name="prom"):
    for o in daemon.get_json("/status").get("outputs", []):
        if o["name"] == name:
            return o
    raise AssertionError(f"no output {name} in /status")


def samples(prom, selector):
    """{labels: [(ms, value), ...]} of every stored sample of `selector`."""
    result = prom.query(f"{selector}[1h]")
    return {tuple(sorted(s["metric"].items())): [(round(float(t) * 1000), v) for t, v in s["values"]]
            for s in result}


def stored_rounds(prom):
    series = samples(prom, "loadavg_load1")
    check(len(series) <= 1, f"loadavg_load1 is {len(series)} series: {list(series)}")
    return sum(len(v) for v in series.values())


def wait_flowing(prom):
    eventually(lambda: stored_rounds(prom) >= 2, 15 * harness.SLOW, interval=0.1,
               what="samples flowing")


def wait_all_delivered(daemon, prom, timeout, earlier=(0,), what="every round delivered"):
    """Until Prometheus holds exactly the rounds this daemon counted plus
    `earlier` (rounds of a killed daemon: any of the values given), and
    nothing is queued. Between rounds there is a moment when all agree."""
    def agreed():
        made = runs(daemon)
        stored = stored_rounds(prom)
        queued = output_status(daemon)["queued"]["points"]
        check(stored <= made + max(earlier),
              f"prometheus has {stored} rounds, daemon made {made} (+{max(earlier)} earlier)")
        return queued == 0 and made == runs(daemon) and stored - made in earlier
    eventually(agreed, timeout * harness.SLOW, interval=0.1, what=what)


def test_host_points_arrive_as_series_with_their_tags():
    with Prometheus() as prom, Daemon(config_path=config(write_url(prom))) as d:
        wait_flowing(prom)
        (labels,) = samples(prom, "loadavg_load1")
        labels = dict(labels)
        check(labels.get("device_id") == "it-rw" and labels.get("location") == "lab"
              and labels.get("host"), f"labels {labels}")
        # A field named by a counter, and one of a tagged measurement.
        check(prom.series("loadavg_load15"), "loadavg_load15 missing")
        status = output_status(d)
        check(status["type"] == "remote_write" and status["state"] == "ok", f"{status}")
        check(status["url"] == write_url(prom), status["url"])
        check(status["sent_points"] > 0 and status["failed_requests"] == 0, f"{status}")
        libs = mapped_libraries(d.pid)
        for lib in ("libsnappy.so", "libprotobuf-c.so"):
            check(any(name.startswith(lib) for name in libs), f"{lib} not mapped: {sorted(libs)}")


def test_outage_and_sigkill_lose_and_double_nothing():
    prom = Prometheus().start()
    port = prom.port
    cfg = config(write_url(prom))
    state = make_tmpdir("edgemon-state-")
    first = Daemon(config_path=cfg, state_dir=state).start()
    try:
        wait_flowing(prom)
        prom.stop()  # SIGTERM: its TSDB keeps what it acknowledged
        eventually(lambda: output_status(first)["state"] == "retrying", 10 * harness.SLOW,
                   what="output retrying")
        eventually(lambda: output_status(first)["queued"]["points"] > 0 and runs(first) >= 8,
                   20 * harness.SLOW, what="a backlog")
        # Killed at a moment when every round it counted is in the spool.
        made_before_kill = eventually(lambda: harness.settled_rounds(first), 10 * harness.SLOW,
                                      interval=0.01, what="a moment with every round committed")
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(timeout=10)
        first.log.join()

        with Daemon(config_path=cfg, state_dir=state) as second:
            eventually(lambda: runs(second) >= 2, 10 * harness.SLOW,
                       what="second daemon collecting")
            check(output_status(second)["queued"]["points"] > 0, "backlog not found after restart")
            prom.start(port=port)
            # A round the first daemon began between our reading and the kill
            # counts if it was committed in time.
            wait_all_delivered(second, prom, 30, earlier=(made_before_kill, made_before_kill + 1),
                               what="first and second daemon's rounds all delivered")
            status = output_status(second)
            check(status["state"] == "ok", f"{status}")
            check(sum(status["dropped_points"].values()) == status["dropped_points"]
                  ["unrepresentable"], f"drops {status['dropped_points']}")
            check(status["dead_lettered_points"] == 0, f"{status}")
    finally:
        first.kill()
        prom.__exit__(None, None, None)


def post_line(daemon, line):
    r = daemon.request("POST", "/write?precision=ns", body=line.encode())
    check(r.status == 204, f"ingest {line!r}: {r}")


def test_a_refused_batch_is_dead_lettered_and_the_rest_arrives():
    with Prometheus() as prom, \
            Daemon(config_path=config(write_url(prom), flush="1500ms", ingest=True)) as d:
        wait_flowing(prom)
        now = time.time_ns()
        # Three ingests, three batches (each is committed at once), sent in
        # one request at the next flush. The middle one is 3 h old: out of
        # bounds for Prometheus, which then refuses the whole request.
        post_line(d, f"rw_good,n=1 value=1 {now}")
        post_line(d, f"rw_bad value=2 {now - 3 * 3600 * 10**9}")
        post_line(d, f"rw_good,n=2 value=3 {now}")

        def dead():
            s = output_status(d)
            return s if s["dead_lettered_points"] > 0 and s["dead_letter_points_stored"] > 0 \
                else None
        status = eventually(dead, 15 * harness.SLOW, what="a dead-lettered batch")
        check("HTTP 400" in (status["last_error"] or "") and status["state"] == "ok", f"{status}")
        # The good batches of the refused request were resent one by one.
        eventually(lambda: len(samples(prom, "rw_good")) == 2, 15 * harness.SLOW, interval=0.1,
                   what="the good batches of the refused request")
        check(not samples(prom, "rw_bad"), "the out-of-bounds sample was stored")
        check(d.log.wait_event("output_isolating", 5), "no output_isolating log line")
        # Later batches flow and the queue does not stick behind the bad one.
        before = stored_rounds(prom)
        eventually(lambda: stored_rounds(prom) >= before + 3, 15 * harness.SLOW, interval=0.1,
                   what="later batches flowing")
        check(output_status(d)["queued"]["batches"] <= 3, "queue stuck behind a bad batch")
        m = d.metrics()
        check(re.search(r'^edgemon_output_dead_lettered_points_total\{output="prom"\} [1-9]', m,
                        re.M), "dead-lettered counter")


def library_file(soname):
    """The file the dynamic linker opens for `soname`, from its cache."""
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        name, _, path = line.strip().partition(" => ")
        if name.split(" ")[0] == soname:
            return os.path.realpath(path)
    raise AssertionError(f"{soname} is not in the dynamic linker's cache")


class DaemonWithout(Daemon):
    """The daemon in a mount namespace of its own in which `soname` is
    /dev/null, as if its package were not installed (dlopen() fails on it).
    unshare and sh exec, so the daemon keeps the PID that was spawned."""

    def __init__(self, soname, **kw):
        super().__init__(**kw)
        self.hidden = library_file(soname)

    def command(self):
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                'mount --bind /dev/null "$0" && exec "$@"', self.hidden] + super().command()


def test_a_missing_library_fails_that_output_alone():
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                           capture_output=True)
    if os.geteuid() != 0 or probe.returncode != 0:
        raise harness.Skip("needs root and mount namespaces (unshare --mount)")
    # Nothing listens there: the output must not even try.
    cfg = config("http://127.0.0.1:1/api/v1/write")
    for soname, package in (("libprotobuf-c.so.1", "libprotobuf-c1"),
                            ("libsnappy.so.1", "libsnappy1v5")):
        with DaemonWithout(soname, config_path=cfg) as d:
            _, line = d.log.wait_event("output_failing", 5 * harness.SLOW)
            check(line and line.get("output") == "prom", f"no output_failing line: {line}")
            error = line.get("error", "")
            check(f"cannot load {soname} (Debian package {package})" in error, error)
            status = output_status(d)
            check(status["state"] == "failing" and status["last_error"] == error, f"{status}")
            # The rest runs on: collection, /metrics, /health.
            eventually(lambda: runs(d) >= 2, 10 * harness.SLOW, what="collection going on")
            check(d.get("/health").status == 200, "health")
            check(re.search(r'^edgemon_output_state\{output="prom",state="failing"\} 1$',
                            d.metrics(), re.M), "edgemon_output_state failing")
            status = output_status(d)
            check(status["failed_requests"] == 0 and status["queued"]["points"] == 0,
                  f"an output without its library tried to send or queued: {status}")
            # What it cannot take is counted as dropped, with its reason.
            check(status["dropped_points"]["unavailable"] > 0, f"drops not counted: {status}")
            check(not any(name.startswith(soname.split(".so")[0] + ".so")
                          for name in mapped_libraries(d.pid)), f"{soname} mapped")


if __name__ == "__main__":
    harness.main(globals())
