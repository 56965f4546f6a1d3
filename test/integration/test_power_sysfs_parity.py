"""The hwmon, rapl and powersupplyclass collectors agree with the real
prometheus-node-exporter (Debian's 1.5) read from the same fake sysfs tree
(--path.sysfs and collect.sysfs): for every node_hwmon_*, node_rapl_* and
node_power_supply_* family, the same HELP, TYPE, series and values. The tree
(test/fixtures/sysfs/power-tree.txt) stands in for power chips this machine
does not have. Also: edgemon's edge_* power families on that tree, and
promtool flags nothing in them that it does not flag for node_exporter."""

import os

import harness
from harness import SLOW, Daemon, check, parse_exposition, promtool_check_metrics

TREE = os.path.join(harness.SOURCE_DIR, "test", "fixtures", "sysfs", "power-tree.txt")
PREFIXES = ("node_hwmon_", "node_rapl_", "node_power_supply_")


def materialise(tree_file):
    """The tree under a fresh temp dir; returns the dir (its sys/ is sysfs)."""
    return harness.write_recorded_tree(tree_file, harness.make_tmpdir("edgemon-sysfs-"))


def scrape_node_exporter(sysfs):
    exe = harness.require_binary("prometheus-node-exporter", "node_exporter")
    port = harness.free_port()
    proc = harness.spawn([exe, f"--web.listen-address=127.0.0.1:{port}", f"--path.sysfs={sysfs}",
                          "--collector.disable-defaults", "--collector.hwmon",
                          "--collector.rapl", "--collector.powersupplyclass",
                          "--log.level=warn"])
    try:
        check(harness.wait_http_ok("127.0.0.1", port, "/metrics", 15 * SLOW, proc=proc),
              "node_exporter did not answer")
        r = harness.http_request("127.0.0.1", port, "GET", "/metrics", timeout=10 * SLOW)
        check(r.status == 200, f"node_exporter /metrics: {r.status}")
        return r.body.decode("utf-8")
    finally:
        harness.stop_process(proc)


def power_families(families):
    return {n: f for n, f in families.items() if n.startswith(PREFIXES)}


def test_parity_with_node_exporter_on_fake_sysfs():
    root = materialise(TREE)
    sysfs = os.path.join(root, "sys")
    ne_text = scrape_node_exporter(sysfs)
    ne_all = parse_exposition(ne_text)
    for collector in ("hwmon", "rapl", "powersupplyclass"):
        fam = ne_all.get("node_scrape_collector_success")
        ok = fam and fam.series().get(("node_scrape_collector_success",
                                       frozenset({("collector", collector)})))
        check(ok == 1, f"node_exporter's {collector} collector failed on the tree")
    ne = power_families(ne_all)

    with Daemon(sets=[f"collect.sysfs={sysfs}"]) as d:
        d.wait_collected()
        em_text = d.metrics()
    em_all = parse_exposition(em_text)
    em = power_families(em_all)

    problems = []
    if set(ne) != set(em):
        problems.append(f"families only node_exporter: {sorted(set(ne) - set(em))}; "
                        f"only edgemon: {sorted(set(em) - set(ne))}")
    compared = 0
    for name in sorted(set(ne) & set(em)):
        a, b = ne[name], em[name]
        if a.help != b.help:
            problems.append(f"{name}: HELP {b.help!r}, node_exporter {a.help!r}")
        if a.type != b.type:
            problems.append(f"{name}: TYPE {b.type}, node_exporter {a.type}")
        sa, sb = a.series(), b.series()
        if set(sa) != set(sb):
            problems.append(f"{name}: series only node_exporter {[dict(k[1]) for k in set(sa) - set(sb)]}"
                            f", only edgemon {[dict(k[1]) for k in set(sb) - set(sa)]}")
        for key in set(sa) & set(sb):
            compared += 1
            if abs(sa[key] - sb[key]) > 1e-12 * max(1.0, abs(sa[key])):
                problems.append(f"{name}{dict(key[1])}: edgemon {sb[key]!r}, "
                                f"node_exporter {sa[key]!r}")
    print(f"families compared: {len(set(ne) & set(em))}, series compared: {compared}")
    # The tree has ~50 hwmon series, 5 rapl zones and 4 supplies.
    check(compared >= 80, f"only {compared} series compared; the test would prove little")
    check(not problems, f"{len(problems)} disagreements with node_exporter:\n  " +
          "\n  ".join(problems))

    # The edge-native families from the same tree, one family each across the
    # three collectors.
    watts = em_all["edge_power_watts"].series()
    expected = {
        (("rail", "ina226"), ("source", "hwmon")): 10.018,
        (("rail", "i2c_1_1_0040"), ("source", "hwmon")): 3.12,
        (("rail", "VDD_IN"), ("source", "ina3221")): 5.234304,
        (("rail", "BAT0"), ("source", "power_supply")): 8.45,
        (("rail", "axp20x-usb"), ("source", "power_supply")): 2.4096,
    }
    for labels, value in expected.items():
        got = watts.get(("edge_power_watts", frozenset(labels)))
        check(got is not None and abs(got - value) < 1e-9,
              f"edge_power_watts{dict(labels)}: {got}, expected {value}")
    joules = em_all["edge_energy_joules_total"].series()
    rails = sorted(dict(k[1])["rail"] for k in joules)
    check(rails == ["package-0", "package-0/core", "package-0/uncore", "psys"],
          f"edge_energy_joules_total rails {rails} (the MMIO duplicate must not count)")

    # promtool: nothing flagged among these that it does not flag for
    # node_exporter on the same tree, and nothing among the edge_* names.
    harness.require_binary("promtool")
    rc_ne, ne_lines = promtool_check_metrics(ne_text)
    rc, lines = promtool_check_metrics(em_text)
    check(rc in (0, 3) and rc_ne in (0, 3), f"promtool errors: {lines[:10]} / {ne_lines[:10]}")
    ne_flagged = {l.split()[0] for l in ne_lines}
    ours = {l.split()[0] for l in lines if l.split()[0].startswith(PREFIXES + ("edge_",))}
    extra = sorted(ours - ne_flagged)
    check(not extra, "promtool flags: " + "\n".join(l for l in lines if l.split()[0] in extra))


if __name__ == "__main__":
    harness.main(globals())
