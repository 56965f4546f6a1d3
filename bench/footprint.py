#!/usr/bin/env python3
"""Footprint side by side: what each daemon costs in memory and CPU while
doing the same work, measured in one run as interleaved rounds.

Usage: bench/footprint.py path/to/edgemon [results.md]
Environment: FOOTPRINT_SECONDS (window of one round, default 60),
FOOTPRINT_ROUNDS (default 3), FLUENT_BIT (path to a fluent-bit binary; left
out when unset: Debian 12 does not package it, see bench/README.md).

Two set-ups, each a round with every peer running at once (edgemon with
history off in a window of its own), host metrics collected every second:
 1. embedded default: edgemon as shipped (history on) and with history off,
    collectd 5.12 (cpu, memory, df, interface, load + write_prometheus),
    node_exporter 1.5, Fluent Bit (node_exporter_metrics +
    prometheus_exporter); each scraped once a second;
 2. an InfluxDB output: a real influxd 1.6 on loopback receives from edgemon
    (outputs.influxdb, flush 1s), from collectd (network plugin into
    influxd's collectd listener: the only same-work peer Debian has) and
    from Fluent Bit (cpu, mem inputs + influxdb output).

Per peer, at the end of the window: VmRSS, PSS, USS (Private_Clean +
Private_Dirty of smaps_rollup: the memory that is this process's alone),
the number of shared libraries mapped, and CPU (utime+stime over the
window). The median over the rounds is reported, and ratios to edgemon.
"""

import http.client
import json
import os
import platform
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (same directory: process and peer helpers)
from bench import Peer, cpu_seconds, free_port, http_get, log, spawn, stop  # noqa: E402

SECONDS = float(os.environ.get("FOOTPRINT_SECONDS", "60"))
ROUNDS = int(os.environ.get("FOOTPRINT_ROUNDS", "3"))
FLUENT_BIT = os.environ.get("FLUENT_BIT", "")
INFLUXD = "/usr/bin/influxd"


def memory(pid):
    """(VmRSS, Pss, USS) in KiB and the number of shared objects mapped."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":"):
                fields[parts[0][:-1]] = int(parts[1])
    libs = set()
    with open(f"/proc/{pid}/maps", encoding="ascii", errors="replace") as f:
        for line in f:
            path = line.split()[-1]
            if ".so" in os.path.basename(path):
                libs.add(path)
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return bench.status_kib(pid, "VmRSS"), fields.get("Pss", 0), uss, len(libs)


# ---------------------------------------------------------------- peers

def edgemon(binary, name, extra=()):
    state = tempfile.mkdtemp(dir=bench._tmp, prefix="edgemon-")

    def cmd(port):
        return [binary, "run", "--listen", f"127.0.0.1:{port}", "--state-dir", state,
                "--set", "collect.interval=1s", "--log-level", "warn", *extra]
    return Peer(name, cmd, [binary], os.access(binary, os.X_OK))


def edgemon_influx(binary, influx_port):
    state = tempfile.mkdtemp(dir=bench._tmp, prefix="edgemon-")
    conf = os.path.join(state, "edgemon.yaml")
    with open(conf, "w", encoding="ascii") as f:
        f.write(f"""collect:
  interval: 1s
log:
  level: warn
outputs:
  influxdb:
    - name: influx
      url: http://127.0.0.1:{influx_port}
      database: edgemon
      flush_interval: 1s
""")

    def cmd(port):
        return [binary, "run", "-c", conf, "--listen", f"127.0.0.1:{port}", "--state-dir", state]
    return Peer("edgemon", cmd, [binary], os.access(binary, os.X_OK),
                "embedded default + outputs.influxdb (flush_interval 1s)")


def collectd_network(influx_collectd_port):
    """collectd with the same five plugins, shipping to influxd over its
    network plugin (UDP, no buffering); still serves write_prometheus so
    that readiness is checked the same way."""
    peer = bench.collectd_peer()
    make = peer.make_cmd

    def cmd(port):
        argv = make(port)
        conf = argv[argv.index("-C") + 1]
        with open(conf, "a", encoding="ascii") as f:
            f.write(f"""LoadPlugin network
<Plugin network>
  Server "127.0.0.1" "{influx_collectd_port}"
</Plugin>
""")
        return argv
    return Peer("collectd", cmd, peer.binaries, peer.available,
                "five plugins + network plugin into influxd's collectd listener")


def fluent_bit(influx_port=None):
    def cmd(port):
        d = tempfile.mkdtemp(dir=bench._tmp, prefix="fluent-bit-")
        conf = os.path.join(d, "fluent-bit.conf")
        if influx_port is None:
            body = f"""[INPUT]
    Name            node_exporter_metrics
    Tag             node
    Scrape_interval 1
[OUTPUT]
    Name  prometheus_exporter
    Match node
    Host  127.0.0.1
    Port  {port}
"""
        else:
            body = f"""[INPUT]
    Name         cpu
    Tag          cpu
    Interval_Sec 1
[INPUT]
    Name         mem
    Tag          mem
    Interval_Sec 1
[INPUT]
    Name            node_exporter_metrics
    Tag             node
    Scrape_interval 1
[OUTPUT]
    Name     influxdb
    Match    *
    Host     127.0.0.1
    Port     {influx_port}
    Database fluentbit
[OUTPUT]
    Name  prometheus_exporter
    Match node
    Host  127.0.0.1
    Port  {port}
"""
        with open(conf, "w", encoding="ascii") as f:
            f.write(f"""[SERVICE]
    Flush     1
    Log_Level warn
{body}""")
        return [FLUENT_BIT, "-c", conf]
    ok = bool(FLUENT_BIT) and os.access(FLUENT_BIT, os.X_OK)
    return Peer("fluent-bit", cmd, [FLUENT_BIT], ok)


class Influxd:
    """Debian's influxd 1.6 on loopback: HTTP writes and a collectd listener."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(dir=bench._tmp, prefix="influxd-")
        self.port, self.collectd_port, rpc = free_port(), free_port(), free_port()
        conf = os.path.join(self.dir, "influxdb.conf")
        with open(conf, "w", encoding="ascii") as f:
            f.write(f"""reporting-enabled = false
bind-address = "127.0.0.1:{rpc}"
[meta]
  dir = "{self.dir}/meta"
[data]
  dir = "{self.dir}/data"
  wal-dir = "{self.dir}/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
[logging]
  level = "warn"
[[collectd]]
  enabled = true
  bind-address = "127.0.0.1:{self.collectd_port}"
  database = "collectd"
  typesdb = "/usr/share/collectd/types.db"
""")
        self.proc = spawn([INFLUXD, "run", "-config", conf])
        deadline = time.monotonic() + 20
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("GET", "/ping")
                if c.getresponse().status == 204:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("influxd did not start")
            time.sleep(0.05)
        for db in ("edgemon", "fluentbit", "collectd"):
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            c.request("POST", f"/query?q=CREATE+DATABASE+{db}")
            c.getresponse().read()

    def count(self, db):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request("GET", f"/query?db={db}&q=SHOW+SERIES+CARDINALITY")
        body = json.loads(c.getresponse().read())
        try:
            return body["results"][0]["series"][0]["values"][0][0]
        except (KeyError, IndexError):
            return 0


# ---------------------------------------------------------------- rounds

def history_written(port):
    """edgemon_history_written_points_total, all that was collected included:
    values wait up to history.flush_interval in memory, and a query has them
    written first."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/history?limit=1")
        conn.getresponse().read()
    finally:
        conn.close()
    _, body = http_get(port, 5.0)
    for line in body.decode("utf-8", "replace").splitlines():
        if line.startswith("edgemon_history_written_points_total "):
            return float(line.split()[1])
    return 0.0


def history_cost(m):
    """What the history costs: values stored a second, and the CPU of the
    edgemon with history beyond the one without, per stored value."""
    on, off = m.get("edgemon"), m.get("edgemon, history off")
    if not on or not off or not on.get("stored_per_s"):
        return ""
    extra_pct = on["cpu_pct"] - off["cpu_pct"]
    per_value_us = extra_pct / 100.0 / on["stored_per_s"] * 1e6
    return (f"History: {on['stored_per_s']:.1f} values stored a second; with history the "
            f"daemon used {extra_pct:+.3f} % of a core more than without "
            f"({on['cpu_pct']:.3f} against {off['cpu_pct']:.3f}), {per_value_us:.1f} us of "
            f"CPU a stored value, against {off['cpu_pct']:.3f} % for collecting and "
            "serving everything else.\n")

def one_round(peers):
    for p in peers:
        p.start()
    for p in peers:
        bench.wait_ready(p)
    time.sleep(3.0)  # first collections, first flushes
    cpu0 = {p.name: cpu_seconds(p.proc.pid) for p in peers}
    t0 = time.monotonic()
    tick = 0
    edgemons = [p for p in peers if p.name.startswith("edgemon")]
    stored = {p.name: [history_written(p.port), time.monotonic()] for p in edgemons}
    while time.monotonic() - t0 < SECONDS:
        tick += 1
        for p in peers:
            try:
                http_get(p.port, 5.0)
            except OSError:
                pass
        time.sleep(max(0.0, t0 + tick - time.monotonic()))
    wall = time.monotonic() - t0
    for p in edgemons:
        stored[p.name] += [history_written(p.port), time.monotonic()]
    result = {}
    for p in peers:
        rss, pss, uss, libs = memory(p.proc.pid)
        cpu = cpu_seconds(p.proc.pid) - cpu0[p.name]
        result[p.name] = {"rss": rss, "pss": pss, "uss": uss, "libs": libs,
                          "cpu_pct": 100.0 * cpu / wall}
        if p.name in stored:
            n0, s0, n1, s1 = stored[p.name]
            result[p.name]["stored_per_s"] = (n1 - n0) / (s1 - s0) if s1 > s0 else 0.0
        if p.proc.poll() is not None:
            raise RuntimeError(f"{p.name} exited during the round")
    for p in peers:
        stop(p.proc)
    return result


def run_setup(title, *groups):
    """Each round runs every group of peers in turn, a group's peers at once.
    Two edgemons never share a window: the pages of the libraries they both
    map would count as shared, and each one's USS and PSS would look smaller
    than alone."""
    rounds = []
    names = []
    for i in range(ROUNDS):
        result = {}
        names = []
        for make_peers in groups:
            peers = [p for p in make_peers() if p.available]
            names += [p.name for p in peers]
            log(f"{title}: round {i + 1}/{ROUNDS}, {SECONDS:.0f} s, "
                f"{', '.join(p.name for p in peers)}")
            result.update(one_round(peers))
        rounds.append(result)
    median = {n: {k: statistics.median(r[n][k] for r in rounds) for k in rounds[0][n]}
              for n in names}
    return names, median


def table(title, names, m, note=""):
    lines = [f"## {title}", ""]
    if note:
        lines += [note, ""]
    lines.append("| | " + " | ".join(names) + " | "
                 + " | ".join(f"edgemon/{n}" for n in names[1:] if not n.startswith("edgemon"))
                 + " |")
    peers_only = [n for n in names[1:] if not n.startswith("edgemon")]
    lines.append("|---" * (1 + len(names) + len(peers_only)) + "|")
    rows = [("VmRSS (MiB)", "rss", lambda v: f"{v / 1024:.1f}"),
            ("PSS (MiB)", "pss", lambda v: f"{v / 1024:.1f}"),
            ("USS, private (MiB)", "uss", lambda v: f"{v / 1024:.1f}"),
            ("shared libraries mapped", "libs", lambda v: f"{v:.0f}"),
            ("CPU, % of one core", "cpu_pct", lambda v: f"{v:.3f}")]
    for label, key, fmt in rows:
        cells = [fmt(m[n][key]) for n in names]
        ratios = [f"{m[names[0]][key] / m[n][key]:.2f}" if m[n][key] else "n/a" for n in peers_only]
        lines.append(f"| {label} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    return "\n".join(lines) + "\n"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results-footprint.md")
    if not FLUENT_BIT:
        log("FLUENT_BIT unset: Fluent Bit left out (see bench/README.md to build it)")
    sections = []
    try:
        names, m = run_setup(
            "embedded default",
            lambda: [edgemon(binary, "edgemon"), bench.collectd_peer(),
                     bench.node_exporter_peer(), fluent_bit()],
            lambda: [edgemon(binary, "edgemon, history off",
                             ["--set", "history.enabled=false"])])
        names.insert(1, names.pop())  # the two edgemons side by side
        sections.append(table("Embedded default, host metrics every second", names, m,
                              "Each daemon scraped once a second on loopback. edgemon: `run "
                              "--set collect.interval=1s` (history on), beside its peers; "
                              "then the same with `history.enabled=false`, alone in its "
                              "window (two edgemons at once would share their libraries' "
                              "pages and each would show too small a USS and PSS).")
                        + "\n" + history_cost(m))
        influx = Influxd()
        try:
            names, m = run_setup("InfluxDB output", lambda: [
                edgemon_influx(binary, influx.port), collectd_network(influx.collectd_port),
                fluent_bit(influx.port)])
            series = {db: influx.count(db) for db in ("edgemon", "collectd", "fluentbit")}
        finally:
            stop(influx.proc)
        sections.append(table(
            "With an InfluxDB output (a real influxd 1.6 on loopback)", names, m,
            "edgemon: embedded default + `outputs.influxdb` (http://, flush 1 s, every point "
            "spooled before it is sent); collectd: the five plugins + network plugin into "
            "influxd's collectd listener (UDP, nothing kept when influxd is down); Fluent Bit: "
            "cpu + mem + node_exporter_metrics inputs, influxdb output. Series stored by "
            "influxd at the end: " + ", ".join(f"{k} {v}" for k, v in series.items()) + "."))
    finally:
        bench.cleanup()
    load = os.getloadavg()[0]
    md = ("# edgemon footprint beside its peers\n\nGenerated by `bench/footprint.py` "
          f"({ROUNDS} interleaved rounds of {SECONDS:.0f} s; medians). Host: "
          f"{platform.node()}, {os.cpu_count()} CPUs, kernel {platform.release()}, "
          f"1-minute load {load:.2f} at the end; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}."
          "\n\n" + "\n".join(sections))
    print(md)
    with open(out, "w", encoding="utf-8") as f:
        f.write(md)
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
