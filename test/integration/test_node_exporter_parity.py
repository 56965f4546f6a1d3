"""edgemon's host metrics agree with a real prometheus-node-exporter on the
same machine: for every family both expose, the same type and label names;
for series both have, values within a tolerance.

Counters are compared against a bracket: node_exporter is scraped before
and after an edgemon collection that started after the first scrape, so a
correct edgemon value lies between the two (plus a tolerance).
"""

import os

import harness
from harness import check, Daemon, parse_exposition, SLOW

MIB = 1024 * 1024
GIB = 1024 * MIB

# Families that must be present in both outputs.
REQUIRED = [
    "node_cpu_seconds_total",
    "node_memory_MemTotal_bytes", "node_memory_MemAvailable_bytes", "node_memory_MemFree_bytes",
    "node_memory_Buffers_bytes", "node_memory_Cached_bytes",
    "node_load1", "node_load5", "node_load15",
    "node_filesystem_size_bytes", "node_filesystem_free_bytes", "node_filesystem_avail_bytes",
    "node_filesystem_files", "node_filesystem_files_free", "node_filesystem_readonly",
    "node_network_receive_bytes_total", "node_network_transmit_bytes_total",
    "node_network_receive_packets_total", "node_network_transmit_packets_total",
    "node_network_receive_errs_total", "node_network_transmit_errs_total",
    "node_network_receive_drop_total", "node_network_transmit_drop_total",
    "node_context_switches_total", "node_forks_total", "node_intr_total",
    "node_boot_time_seconds", "node_procs_running", "node_procs_blocked",
    "node_filefd_allocated", "node_filefd_maximum",
    "node_uname_info", "node_os_info",
]
DISK_REQUIRED = [
    "node_disk_reads_completed_total", "node_disk_writes_completed_total",
    "node_disk_read_bytes_total", "node_disk_written_bytes_total",
    "node_disk_read_time_seconds_total", "node_disk_write_time_seconds_total",
    "node_disk_io_time_seconds_total", "node_disk_io_now",
]

# Gauges whose value is stable enough to compare: name -> (relative, absolute)
# tolerance around the node_exporter bracket.
GAUGE_TOLERANCE = {
    "node_memory_MemTotal_bytes": (0, 0),
    "node_memory_SwapTotal_bytes": (0, 0),
    "node_boot_time_seconds": (0, 1.0),
    "node_filesystem_size_bytes": (0.001, 0),
    "node_filesystem_files": (0.001, 0),
    "node_filesystem_readonly": (0, 0),
    "node_filesystem_free_bytes": (0.01, GIB),
    "node_filesystem_avail_bytes": (0.01, GIB),
    "node_filefd_maximum": (0, 0),
    "node_load1": (0.2, 0.5),
    "node_load5": (0.2, 0.5),
    "node_load15": (0.2, 0.5),
    "node_time_seconds": (0, 3.0 * SLOW),
    # Memory moves with whatever else runs here; this catches kB/bytes slips.
    "node_memory_MemAvailable_bytes": (0.1, 512 * MIB),
    "node_memory_MemFree_bytes": (0.1, 512 * MIB),
    "node_memory_Cached_bytes": (0.1, 512 * MIB),
    "node_memory_Buffers_bytes": (0.1, 64 * MIB),
    "node_memory_SwapFree_bytes": (0.1, 64 * MIB),
    "node_uname_info": (0, 0),
    "node_os_info": (0, 0),
}
COUNTER_TOLERANCE = (0.05, 1.0)
# Families whose series (label values) must be the same on both sides.
SAME_SERIES = ["node_cpu_seconds_total", "node_network_receive_bytes_total",
               "node_uname_info", "node_os_info", "node_boot_time_seconds"]
# Families where edgemon may leave out series node_exporter has (its default
# filesystem excludes also drop tmpfs/ramfs), but must not invent new ones.
SUBSET_SERIES = ["node_filesystem_size_bytes", "node_disk_read_bytes_total"]


def scrape_ne(port):
    r = harness.http_request("127.0.0.1", port, "GET", "/metrics", timeout=10 * SLOW)
    check(r.status == 200, f"node_exporter /metrics: {r.status}")
    return parse_exposition(r.body.decode("utf-8"))


def cpu_fingerprint(families):
    fam = families.get("node_cpu_seconds_total")
    return None if fam is None else tuple(sorted(fam.series().items()))


def edgemon_after_two_collections(d):
    """Scrapes edgemon until its CPU counters changed twice since the call,
    so the collection behind the result started after the call began."""
    changes = 0
    last = cpu_fingerprint(parse_exposition(d.metrics()))
    deadline = 15 * SLOW

    def advanced():
        nonlocal changes, last
        fams = parse_exposition(d.metrics())
        fp = cpu_fingerprint(fams)
        if fp != last:
            changes += 1
            last = fp
        return fams if changes >= 2 else None

    return harness.eventually(advanced, deadline, interval=0.05, what="two edgemon collections")


def within(value, lo, hi, rel, absolute):
    low = lo - max(abs(lo) * rel, absolute)
    high = hi + max(abs(hi) * rel, absolute)
    return low <= value <= high


def disk_devices_present():
    with open("/proc/diskstats", encoding="ascii") as f:
        return any(not line.split()[2].startswith(("loop", "ram", "zram")) for line in f)


def compare(ne1, em, ne2):
    problems = []
    common = sorted(set(ne1) & set(em))
    for name in common:
        a, b = ne1[name], em[name]
        if a.type != b.type:
            problems.append(f"{name}: type {b.type}, node_exporter has {a.type}")
        if a.label_names() != b.label_names():
            problems.append(f"{name}: labels {sorted(b.label_names())}, node_exporter has "
                            f"{sorted(a.label_names())}")
    compared = 0
    for name in common:
        fam_type = ne1[name].type
        if fam_type == "counter":
            rel, absolute = COUNTER_TOLERANCE
        elif name in GAUGE_TOLERANCE:
            rel, absolute = GAUGE_TOLERANCE[name]
        else:
            continue
        s1, s2, se = ne1[name].series(), ne2.get(name, ne1[name]).series(), em[name].series()
        for key, value in se.items():
            if key not in s1 or key not in s2:
                continue
            lo, hi = min(s1[key], s2[key]), max(s1[key], s2[key])
            compared += 1
            if not within(value, lo, hi, rel, absolute):
                labels = dict(key[1])
                problems.append(f"{name}{labels}: edgemon {value!r}, node_exporter {lo!r}..{hi!r}")
    for name in SAME_SERIES:
        if name in ne1 and name in em:
            a, b = set(ne1[name].series()), set(em[name].series())
            if a != b:
                problems.append(f"{name}: series differ; only node_exporter: "
                                f"{[dict(k[1]) for k in a - b]}; only edgemon: "
                                f"{[dict(k[1]) for k in b - a]}")
    for name in SUBSET_SERIES:
        if name in ne1 and name in em:
            extra = set(em[name].series()) - set(ne1[name].series())
            if extra:
                problems.append(f"{name}: series node_exporter does not have: "
                                f"{[dict(k[1]) for k in extra]}")
            if not em[name].samples:
                problems.append(f"{name}: no series")
    return problems, compared


def test_parity_with_node_exporter():
    ne_proc, ne_port = harness.start_node_exporter()
    # Debian's node_exporter leaves out lo by default (--collector.netdev.
    # device-exclude="^lo$"); edgemon keeps it unless told, so tell it.
    with Daemon(sets=["collect.interval=1s", "collect.netdev.devices_exclude=^lo$"]) as d:
        d.wait_collected()
        ne1 = scrape_ne(ne_port)
        em = edgemon_after_two_collections(d)
        ne2 = scrape_ne(ne_port)
    harness.stop_process(ne_proc)

    required = list(REQUIRED)
    if disk_devices_present():
        required += DISK_REQUIRED
    thermal = "/sys/class/thermal"
    if os.path.isdir(thermal) and any(n.startswith("thermal_zone") for n in os.listdir(thermal)):
        required.append("node_thermal_zone_temp")
    missing_ne = [n for n in required if n not in ne1]
    missing_em = [n for n in required if n not in em]
    check(not missing_ne, f"node_exporter lacks families this test relies on: {missing_ne}")

    only_ne = sorted(n for n in ne1 if n not in em and not n.startswith(("go_", "process_",
                                                                          "promhttp_")))
    only_em = sorted(n for n in em if n not in ne1 and not n.startswith("edgemon_"))
    print(f"families in both: {len(set(ne1) & set(em))}")
    print(f"only node_exporter ({len(only_ne)}): {' '.join(only_ne)}")
    print(f"only edgemon (non-edgemon_*, {len(only_em)}): {' '.join(only_em)}")

    problems, compared = compare(ne1, em, ne2)
    if missing_em:
        problems.insert(0, f"edgemon lacks required families: {missing_em}")
    print(f"series values compared: {compared}")
    check(compared > 50, f"only {compared} series compared; the test would prove little")
    check(not problems, f"{len(problems)} disagreements with node_exporter:\n  " +
          "\n  ".join(problems))


if __name__ == "__main__":
    harness.main(globals())
