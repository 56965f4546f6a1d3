#!/usr/bin/env python3
"""Memory an InfluxDB output costs: the daemon with one output sending to a
real influxd 1.6 on loopback, measured once points have flowed for a while.

    python3 bench/output_footprint.py BIN [http|https] [SECONDS]

Prints VmRSS and RssAnon (/proc/PID/status), Private (Private_Clean + Private_Dirty of
/proc/PID/smaps_rollup) and the shared objects mapped (/proc/PID/maps). For
https the script makes a CA and a server certificate for 127.0.0.1 with the
openssl CLI, and the output trusts that CA (tls_ca_file)."""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "integration"))
os.environ.setdefault("EDGEMON_BIN", os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "")
import harness  # noqa: E402
from harness import Daemon, eventually, make_tmpdir, write_file  # noqa: E402
from influx import Influxd  # noqa: E402
from test_tls_output import make_certificates  # noqa: E402


def kib(pid, path, keys):
    total = 0
    with open(f"/proc/{pid}/{path}") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in keys:
                total += int(rest.split()[0])
    return total


def main():
    scheme = sys.argv[2] if len(sys.argv) > 2 else "http"
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 20
    tls_line = ""
    if scheme == "https":
        ca, cert, key = make_certificates()
        server = Influxd(tls=(cert, key, ca)).start()
        tls_line = f"      tls_ca_file: {ca}\n"
    else:
        server = Influxd().start()
    server.create_database("edge")
    cfg = write_file(os.path.join(make_tmpdir("edgemon-cfg-"), "edgemon.yaml"), f"""\
collect:
  interval: 1s
outputs:
  influxdb:
    - name: main
      url: {server.url}
      database: edge
      flush_interval: 1s
{tls_line}""")
    with Daemon(config_path=cfg) as d:
        eventually(lambda: len(server.times("edge", "loadavg", "load1")) >= 2, 30,
                   interval=0.2, what="points in influxd")
        time.sleep(seconds)
        rss = kib(d.pid, "status", {"VmRSS"})
        anon = kib(d.pid, "status", {"RssAnon"})
        private = kib(d.pid, "smaps_rollup", {"Private_Clean", "Private_Dirty"})
        with open(f"/proc/{d.pid}/maps") as f:
            libs = sorted({ln.split()[-1] for ln in f if ".so" in ln.split()[-1]})
        stored = len(server.times("edge", "loadavg", "load1"))
    server.stop()
    print(f"{scheme}: VmRSS {rss / 1024:.2f} MiB (RssAnon {anon / 1024:.2f}), "
          f"Private {private / 1024:.2f} MiB, "
          f"{len(libs)} shared objects mapped, {stored} rounds stored")
    for lib in libs:
        print("   ", lib)


if __name__ == "__main__":
    main()
