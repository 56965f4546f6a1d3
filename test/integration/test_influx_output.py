"""edgemon's InfluxDB output against a real InfluxDB 1.6 on loopback: host
points arrive with the documented schema; a 30 s outage and a SIGKILL in the
middle of an outage lose nothing and double nothing; SIGTERM flushes what is
queued; a batch influxd rejects (field type conflict) is dead-lettered while
the rest keeps flowing. A plain http:// output maps neither libssl nor
libcurl, and without a remote_write output neither libsnappy nor
libprotobuf-c is mapped.

"Exactly once" is counted per round: the loadavg collector writes one
`loadavg` point per successful run, so the number of distinct timestamps of
loadavg.load1 in influxd must equal edgemon_collector_runs_total for it."""

import os
import re
import shutil
import signal
import sys
import time

import harness
from harness import Daemon, check, eventually, make_tmpdir, write_file
from influx import Influxd

DB = "edge"


def config(url, extra_output="", interval="1s", schema="host", extra=""):
    return f"""\
device_id: it-device
tags:
  location: lab
  zone: "a 1"
collect:
  interval: {interval}
spool:
  commit_interval: 100ms
outputs:
  influxdb:
    - name: main
      url: {url}
      database: {DB}
      schema: {schema}
      flush_interval: 200ms
      retry_initial: 200ms
      retry_max: 1s
{extra_output}{extra}"""


def write_config(text):
    return write_file(os.path.join(make_tmpdir("edgemon-cfg-"), "edgemon.yaml"), text)


def runs(daemon, collector="loadavg"):
    m = re.search(r'^edgemon_collector_runs_total\{collector="%s"\} (\S+)$' % collector,
                  daemon.metrics(), re.M)
    check(m, "no runs counter for " + collector)
    return int(float(m.group(1)))


def output_status(daemon, name="main"):
    for o in daemon.get_json("/status").get("outputs", []):
        if o["name"] == name:
            return o
    raise AssertionError(f"no output {name} in /status")


def stored_rounds(server):
    times = server.times(DB, "loadavg", "load1")
    check(len(times) == len(set(times)), "duplicate timestamps in one series")
    return len(times)


def new_server():
    server = Influxd().start()
    server.create_database(DB)
    return server


def wait_flowing(server, what="points flowing"):
    eventually(lambda: stored_rounds(server) >= 2, 15 * harness.SLOW, interval=0.1, what=what)


def wait_all_delivered(daemon, server, timeout, earlier=(0,), min_made=0,
                       what="every round delivered exactly once"):
    """Until influxd holds exactly the rounds this daemon's counter shows plus
    `earlier` (rounds counted before: a killed daemon, or the collectors
    before a reload -- any of the values given), and nothing is queued.
    Between rounds there is a moment when all agree."""
    def agreed():
        made = runs(daemon)
        stored = stored_rounds(server)
        queued = output_status(daemon)["queued"]["points"]
        check(stored <= made + max(earlier), f"influxd has {stored} rounds, daemon made {made}"
                                             f" (+{max(earlier)} earlier): points doubled?")
        return made >= min_made and queued == 0 and made == runs(daemon) and \
            stored - made in earlier
    eventually(agreed, timeout * harness.SLOW, interval=0.1, what=what)


# The line the original Flask edge server logged (replaced/flask-edge-server.md):
# its byte counts and heartbeat are floats (no `i`).
ORIGINAL_SERVER_LINE = (
    "system_metrics,location=store-101,zone=east,device_id=edge-4a47aae248a3,host=MacBookAir,"
    "device_type=unknown cpu=27.8,memory=81.1,disk=38.1,memory_total=8589934592,"
    "memory_used=3232989184,disk_total=245107195904,disk_used=14836686848,heartbeat=1,"
    "cpu_core_0=33.3,cpu_core_1=35.3")


def test_host_points_arrive_with_the_documented_schema():
    server = new_server()
    # A database the original server filled first: edgemon's points must
    # land beside its rows, not be refused for a field type conflict.
    server.write(DB, ORIGINAL_SERVER_LINE + " 1748885144000000000")
    cfg = write_config(config(server.url, schema="both"))
    with Daemon(config_path=cfg) as d:
        wait_flowing(server, what="two rounds in influxd")
        have = set(server.measurements(DB))
        for m in ("cpu", "meminfo", "loadavg", "netdev", "stat", "system_metrics",
                  "edgemon_collector"):
            check(m in have, f"measurement {m} missing; have {sorted(have)}")
        tags = {v[0] for s in server.query(DB, 'SHOW TAG KEYS FROM "cpu"') for v in s["values"]}
        check({"cpu", "mode", "device_id", "host", "location", "zone"} <= tags, f"cpu tags {tags}")
        row = server.query(DB, 'SELECT * FROM "loadavg" WHERE device_id = \'it-device\' '
                               'AND zone = \'a 1\' LIMIT 1')[0]
        cols = row["columns"]
        check({"load1", "load5", "load15"} <= set(cols), f"loadavg fields {cols}")
        sm = server.query(DB, 'SELECT * FROM "system_metrics" LIMIT 1')[0]
        for f in ("memory", "memory_total", "memory_used", "heartbeat", "device_id", "host",
                  "location", "zone"):
            check(f in sm["columns"], f"system_metrics lacks {f}: {sm['columns']}")
        fields = {v[0]: v[1] for s in server.query(DB, 'SHOW FIELD KEYS FROM "system_metrics"')
                  for v in s["values"]}
        check(all(fields.get(f) == "float" for f in ("memory", "memory_total", "memory_used",
                                                     "heartbeat")),
              f"system_metrics field types {fields}: the original server's are floats")
        ours = server.query(DB, "SELECT count(memory_total) FROM system_metrics "
                                "WHERE device_id = 'it-device' AND device_type = 'unknown'")
        check(ours and ours[0]["values"][0][1] >= 1,
              f"edgemon's system_metrics (device_type=unknown) not stored beside the "
              f"original server's row: {ours}")
        check(output_status(d)["dead_lettered_points"] == 0,
              f"points dead-lettered (a field type conflict?): {output_status(d)}")
        status = output_status(d)
        check(status["state"] == "ok" and status["sent_points"] > 0, f"status {status}")
        check("main" in d.metrics(), "no per-output metrics")
        wait_all_delivered(d, server, 10)
        # A plain http:// output costs no TLS library and no libcurl, and
        # remote_write's libraries are loaded only for a remote_write output.
        with open(f"/proc/{d.pid}/maps") as f:
            libs = {line.split()[-1] for line in f if ".so" in line.split()[-1]}
        bad = sorted(lib for lib in libs if any(
            n in os.path.basename(lib) for n in ("libssl", "libcrypto", "libcurl", "gnutls",
                                                 "libsnappy", "libprotobuf-c")))
        check(not bad, f"an http:// InfluxDB output mapped {bad}")
    server.stop()


def test_outage_of_30s_loses_and_doubles_nothing():
    server = new_server()
    cfg = write_config(config(server.url))
    with Daemon(config_path=cfg) as d:
        wait_flowing(server)
        server.stop()
        eventually(lambda: output_status(d)["state"] == "retrying", 10 * harness.SLOW,
                   what="output retrying")
        outage_started = time.monotonic()
        worst = 0.0
        while time.monotonic() - outage_started < 30:  # the outage itself
            t0 = time.monotonic()
            check(d.get("/health").status == 200, "health during outage")
            worst = max(worst, time.monotonic() - t0)
            time.sleep(0.5)
        queued = output_status(d)["queued"]["points"]
        check(queued > 0, "nothing queued during the outage")
        check(worst < 0.5 * harness.SLOW, f"/health took {worst:.3f}s during the outage")
        server.start()
        wait_all_delivered(d, server, 30)
        status = output_status(d)
        check(status["state"] == "ok" and status["retries"] > 0, f"status {status}")
        check(sum(status["dropped_points"].values()) == 0, f"drops {status['dropped_points']}")
    server.stop()


def test_sigkill_during_an_outage_loses_nothing():
    server = new_server()
    cfg = write_config(config(server.url))
    state = make_tmpdir("edgemon-state-")
    first = Daemon(config_path=cfg, state_dir=state).start()
    wait_flowing(server)
    server.stop()
    eventually(lambda: output_status(first)["queued"]["points"] > 0 and runs(first) >= 5,
               20 * harness.SLOW, what="a backlog")
    # Killed at a moment when every round it counted is in the spool.
    made_before_kill = eventually(lambda: harness.settled_rounds(first), 10 * harness.SLOW,
                                  interval=0.01, what="a moment with every round committed")
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(timeout=10)
    first.log.join()

    with Daemon(config_path=cfg, state_dir=state) as second:
        eventually(lambda: runs(second) >= 2, 10 * harness.SLOW, what="second daemon collecting")
        check(output_status(second)["queued"]["points"] > 0, "backlog not found after restart")
        server.start()
        # A round the first daemon began between our reading and the kill
        # counts if it was committed in time.
        wait_all_delivered(second, server, 30, earlier=(made_before_kill, made_before_kill + 1),
                           what="first and second daemon's rounds all delivered")
    server.stop()


def test_sigterm_sends_what_is_queued():
    server = new_server()
    # Nothing is due before the stop: batch_size and flush_interval are huge.
    cfg = write_config(config(server.url).replace("flush_interval: 200ms", "flush_interval: 1h")
                       + "      batch_size: 1000000\n")
    d = Daemon(config_path=cfg).start()
    eventually(lambda: runs(d) >= 3, 10 * harness.SLOW, what="three rounds")
    check(stored_rounds(server) == 0, "sent before it was due")
    made = runs(d)
    took = d.stop_checked()
    check(took < 5 * harness.SLOW, f"stop took {took:.2f}s")
    stored = stored_rounds(server)
    check(stored in (made, made + 1), f"stored {stored} rounds after SIGTERM, made {made}")
    server.stop()


def test_rejected_batches_are_dead_lettered_and_the_rest_flows():
    server = new_server()
    # load1 as a string makes every float load1 a field type conflict: influxd
    # answers 400 (partial write) for every batch, storing the other points.
    # Field types are fixed per shard: the seed must be in the current one.
    r = server.write(DB, f'loadavg,device_id=x load1="text" {time.time_ns()}')
    check(r.status == 204, f"seed write {r}")
    cfg = write_config(config(server.url))
    with Daemon(config_path=cfg) as d:
        def dead():
            s = output_status(d)
            return s if s["dead_lettered_points"] > 0 and s["dead_letter_points_stored"] > 0 \
                else None
        status = eventually(dead, 15 * harness.SLOW, what="a dead-lettered batch")
        check("HTTP 400" in (status["last_error"] or "") and status["state"] == "ok", f"{status}")
        # The other measurements of the same batches were stored, and later
        # batches keep being sent (the dead letter is not retried).
        eventually(lambda: len(server.times(DB, "meminfo", "memory_MemTotal_bytes")) >= 3,
                   15 * harness.SLOW, interval=0.1, what="later batches flowing")
        check(output_status(d)["queued"]["batches"] <= 1, "queue stuck behind a bad batch")
    server.stop()


def test_reload_that_rebuilds_the_output_loses_nothing():
    server = new_server()
    cfg = write_config(config(server.url))
    with Daemon(config_path=cfg) as d:
        wait_flowing(server)
        # A changed key rebuilds the output; what it had encoded but not yet
        # committed must still reach the spool and influxd.
        write_file(cfg, config(server.url) + "      batch_size: 4000\n")
        mark = d.log.count()
        made_before = runs(d)
        d.proc.send_signal(signal.SIGHUP)
        check(d.log.wait_event("reloaded", 10 * harness.SLOW, start=mark)[1] is not None,
              "no reloaded event")
        # The collectors' settings did not change: they are kept, with their
        # run counters, so every round counted is in influxd once.
        wait_all_delivered(d, server, 20, earlier=(0,), min_made=made_before + 2,
                           what="rounds before and after the reload all delivered once")
    server.stop()


if __name__ == "__main__":
    if shutil.which("influxd") is None:
        print("SKIP: influxd not installed")
        sys.exit(0)
    harness.main(globals())
