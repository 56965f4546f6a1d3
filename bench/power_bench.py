#!/usr/bin/env python3
"""What the power sources cost, side by side in one run (issue: edge power).

Usage: bench/power_bench.py path/to/edgemon [results.md]
Environment: POWER_SECONDS (window of one round, default 30), POWER_ROUNDS
(default 3).

No Jetson, no RAPL, no INA chip here, so the inputs are the test suite's
recorded ones, named as such: the sysfs tree test/fixtures/sysfs/power-tree.txt
(powercap zones, INA219/INA3221 hwmon chips, an AXP PMIC, a battery)
materialised under a temp dir, and the fake tegrastats of the integration
tests (test/integration/fake_tegrastats.py) replaying an AGX Orin's lines.
Each round runs every peer at once, scraped once a second:

 1. sysfs power at 1 s: edgemon host-only (hwmon, rapl, powersupplyclass
    off) and edgemon with them, both on the tree (collect.sysfs); beside
    node_exporter 1.5 with only those three collectors on the same tree
    (--path.sysfs), which collects on each scrape;
 2. tegrastats at 100 ms (10 lines a second): edgemon host-only and edgemon
    with a tegrastats instance at interval 100ms. No peer parses tegrastats
    here (the replaced exporter is not packaged), so the figure is the
    difference to host-only.

Per peer the median over the rounds of CPU (utime+stime over the window, %
of one core), VmRSS and USS; the fake tegrastats' own CPU is not counted.
"""

import os
import platform
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test",
                                "integration"))
import bench  # noqa: E402
import footprint  # noqa: E402
import harness  # noqa: E402
from bench import Peer, log  # noqa: E402

SECONDS = float(os.environ.get("POWER_SECONDS", "30"))
ROUNDS = int(os.environ.get("POWER_ROUNDS", "3"))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TREE = os.path.join(ROOT, "test", "fixtures", "sysfs", "power-tree.txt")
FAKE_TEGRASTATS = os.path.join(ROOT, "test", "integration", "fake_tegrastats.py")
ORIN = os.path.join(ROOT, "test", "fixtures", "tegrastats", "jetson-agx-orin.txt")
POWER_COLLECTORS = "hwmon,rapl,powersupplyclass"


def materialise(tree_file):
    """The recorded tree under a temp dir; returns its sys/ directory."""
    root = tempfile.mkdtemp(dir=bench._tmp, prefix="sysfs-")
    return os.path.join(harness.write_recorded_tree(tree_file, root), "sys")


def edgemon(binary, name, config_text, note):
    state = tempfile.mkdtemp(dir=bench._tmp, prefix="edgemon-")
    conf = os.path.join(state, "edgemon.yaml")
    with open(conf, "w", encoding="utf-8") as f:
        f.write("log:\n  level: warn\ncollect:\n  interval: 1s\n" + config_text)

    def cmd(port):
        return [binary, "run", "-c", conf, "--listen", f"127.0.0.1:{port}", "--state-dir", state,
                "--set", "http.access.read.rate=0"]
    return Peer(name, cmd, [binary], os.access(binary, os.X_OK), note)


def node_exporter_power(sysfs):
    def cmd(port):
        return [bench.NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{port}",
                f"--path.sysfs={sysfs}", "--collector.disable-defaults", "--collector.hwmon",
                "--collector.rapl", "--collector.powersupplyclass", "--log.level=warn"]
    return Peer("node_exporter", cmd, [bench.NODE_EXPORTER],
                os.access(bench.NODE_EXPORTER, os.X_OK),
                "hwmon, rapl, powersupplyclass only, on the same tree; collects on each scrape")


def run(title, peers):
    rounds = []
    for i in range(ROUNDS):
        log(f"{title}: round {i + 1}/{ROUNDS} ({SECONDS:.0f}s)")
        footprint.SECONDS = SECONDS
        rounds.append(footprint.one_round(peers))
    out = {}
    for p in peers:
        out[p.name] = {k: statistics.median(r[p.name][k] for r in rounds)
                       for k in ("cpu_pct", "rss", "uss")}
    return out


def table(title, peers, result, base):
    lines = [f"### {title}", "",
             "| peer | CPU % of a core | × host-only | RSS MiB | USS MiB | note |",
             "| --- | --- | --- | --- | --- | --- |"]
    for p in peers:
        r = result[p.name]
        lines.append(f"| {p.name} | {r['cpu_pct']:.3f} | "
                     f"{bench.ratio(r['cpu_pct'], result[base]['cpu_pct'])} | "
                     f"{r['rss'] / 1024:.1f} | {r['uss'] / 1024:.1f} | {p.note} |")
    return lines


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    out_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "bench",
                                                                 "results-power.md")
    sysfs = materialise(TREE)
    host_only = f"  sysfs: {sysfs}\n  disable: [{POWER_COLLECTORS}]\n"
    with_power = f"  sysfs: {sysfs}\n"
    sysfs_peers = [
        edgemon(binary, "edgemon host-only", host_only, "hwmon, rapl, powersupplyclass off"),
        edgemon(binary, "edgemon + sysfs power", with_power, "the three collectors on the tree"),
        node_exporter_power(sysfs),
    ]
    tegra = f"""sources:
  tegrastats:
    - name: orin
      path: {FAKE_TEGRASTATS}
      interval: 100ms
"""
    os.environ["FAKE_TEGRASTATS_FIXTURE"] = ORIN
    tegra_peers = [
        edgemon(binary, "edgemon host-only", "", "host collectors at 1 s"),
        edgemon(binary, "edgemon + tegrastats 100ms", tegra,
                "fake tegrastats replaying AGX Orin lines, 10 a second"),
    ]
    a = run("sysfs power at 1 s", sysfs_peers)
    b = run("tegrastats at 100 ms", tegra_peers)
    lines = ["# Power sources: cost beside host-only and node_exporter", "",
             f"`python3 bench/power_bench.py build/edgemon` on {platform.node()}, "
             f"{os.cpu_count()} CPUs, kernel {platform.release()}, "
             f"{ROUNDS} interleaved rounds of {SECONDS:.0f} s, medians; every peer scraped "
             "once a second.", ""]
    lines += table("sysfs power (hwmon, RAPL, power_supply) at 1 s, recorded tree",
                   sysfs_peers, a, "edgemon host-only")
    lines += [""]
    lines += table("tegrastats at 100 ms (fake tegrastats, AGX Orin lines)", tegra_peers, b,
                   "edgemon host-only")
    text = "\n".join(lines) + "\n"
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        bench.cleanup()
