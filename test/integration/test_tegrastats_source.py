"""The tegrastats source through the daemon, against fake_tegrastats.py -- a
FAKE tegrastats replaying lines recorded on a real AGX Orin, because no
Jetson can run here. Checks: the rails reach /metrics in watts (and under
the replaced exporter's names when asked), promtool accepts the families
(but for the one legacy name it lints), a killed tegrastats is restarted and
counted, a stopped one goes stale and its readings are withdrawn, a missing
binary is that instance's error alone while the host metrics still serve,
and no tegrastats survives edgemon's SIGTERM or SIGKILL."""
import os
import re
import signal
import sys

import harness
from harness import (SLOW, SOURCE_DIR, Daemon, check, eventually, make_tmpdir,
                     promtool_check_metrics, write_file)

FAKE = os.path.join(harness.HERE, "fake_tegrastats.py")
FIXTURE = os.path.join(SOURCE_DIR, "test", "fixtures", "tegrastats", "jetson-agx-orin.txt")

CONFIG = f"""
collect:
  interval: 1s
sources:
  tegrastats:
    - name: board
      path: {FAKE}
      interval: 200ms
      stale_after_intervals: 3
      restart_initial: 200ms
      restart_max: 1s
      exporter_names: true
      device_type: jetson_orin
      hostname: edge-01
    - name: missing
      path: /nonexistent/tegrastats
"""

BOARD = 'device="board",source="tegrastats"'
GPU_SOC = 'edge_power_watts{device="board",rail="VDD_GPU_SOC",source="tegrastats"}'
ENERGY = 'edge_energy_joules_total{device="board",rail="VDD_GPU_SOC",source="tegrastats"}'
# VDD_GPU_SOC of the fixture's five lines, in watts.
GPU_SOC_WATTS = {3.205, 4.94, 3.15, 2.34, 2.412}
OUR_PREFIXES = ("edge_", "jetson_", "power_total_watts", "edgemon_tegrastats_", "edgemon_source_")


def value(text, series):
    m = re.search(r"^" + re.escape(series) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it has exited all the same.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def started_pids(path):
    try:
        with open(path) as f:
            return [int(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


def new_pid(path, known):
    """The pid of a fake started after `known` pids, once it is running."""
    pids = started_pids(path)
    return pids[-1] if len(pids) > len(known) and alive(pids[-1]) else None


def ours(text):
    """The families this source writes, for promtool: the host's (node_*,
    with node_exporter's own lint) are test_promtool's business."""
    keep, out = False, []
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split()[2]
            keep = name.startswith(OUR_PREFIXES) or name == "node_thermal_zone_temp"
        if keep:
            out.append(line)
    return "\n".join(out) + "\n"


def check_promtool(text):
    rc, lines = promtool_check_metrics(ours(text))
    # jetson_ram_used_mb is the replaced exporter's name, kept so its
    # dashboards keep working; promtool lints the MB in it, and only that
    # may it complain about.
    legacy = [l for l in lines if l.startswith("jetson_ram_used_mb ") and "abbreviated units" in l]
    other = [l for l in lines if l not in legacy]
    check(legacy, f"promtool did not lint jetson_ram_used_mb (rc {rc}); was it exported? {lines}")
    check(rc == 3 and not other, f"promtool check metrics: rc {rc}: {other}\n{ours(text)[:3000]}")


def test_tegrastats_through_the_daemon():
    tmp = make_tmpdir()
    config = os.path.join(tmp, "edgemon.yaml")
    pids_file = os.path.join(tmp, "pids")
    write_file(config, CONFIG)
    env = {"FAKE_TEGRASTATS_FIXTURE": FIXTURE, "FAKE_TEGRASTATS_PIDS": pids_file}

    d = Daemon(config_path=config, env=env).start()
    try:
        watts = eventually(lambda: value(d.metrics(), GPU_SOC), 5 * SLOW,
                           what="the fake's VDD_GPU_SOC in /metrics")
        check(watts in GPU_SOC_WATTS, f"VDD_GPU_SOC {watts} W is none of the fixture's mW / 1000")
        text = d.metrics()
        check(value(text, f"edge_power_source_up{{{BOARD}}}") == 1, "board not up:\n" + text[-3000:])
        check(value(text, 'edgemon_source_up{kind="tegrastats",source="board"}') == 1,
              "the board instance is not up")
        check(value(text, f"edge_board_power_watts{{{BOARD}}}") is not None, "no board power")
        check('rail="NC"' not in text, "a not-connected rail was exported")
        check(value(text, 'edge_jetson_cpu_online{cpu="11",source="board"}') == 1,
              "no cpu 11 online")
        check(value(text, 'jetson_power_vdd_gpu_soc_watts{device_type="jetson_orin",'
                          'hostname="edge-01",source="board"}') in GPU_SOC_WATTS,
              "no replaced-exporter name for VDD_GPU_SOC:\n" + text[-3000:])

        # Energy integrated line by line: at least 2.34 W for 200 ms a line.
        joules = eventually(lambda: (lambda j: j if j and j > 0 else None)(
            value(d.metrics(), ENERGY)), 5 * SLOW, what="energy counted")
        eventually(lambda: value(d.metrics(), ENERGY) >= joules + 2.34 * 0.2, 5 * SLOW,
                   what="energy growing with each line")

        # The missing binary is that instance's error alone; host metrics serve.
        eventually(lambda: value(d.metrics(), 'edgemon_source_up{kind="tegrastats",'
                                              'source="missing"}') == 0,
                   5 * SLOW, what="the missing tegrastats reported down")
        text = d.metrics()
        check(value(text, 'edge_power_source_up{device="missing",source="tegrastats"}') == 0,
              "no edge_power_source_up 0 for the missing tegrastats")
        check('device="missing",rail=' not in text, "watts for a tegrastats that does not run")
        check(value(text, "node_memory_MemTotal_bytes") is not None, "host metrics gone")
        sources = {s["name"]: s for s in d.get_json("/status")["sources"]}
        error = sources["missing"].get("error", "")
        check("/nonexistent/tegrastats" in error and "no such file" in error,
              f"/status does not say why 'missing' is down: {sources['missing']}")
        check(sources["board"]["up"], f"board down in /status: {sources['board']}")

        check_promtool(d.metrics())

        # A killed tegrastats is started again, and counted.
        first = started_pids(pids_file)
        check(len(first) == 1 and alive(first[0]), f"expected one running fake, got {first}")
        os.kill(first[0], signal.SIGKILL)
        second = eventually(lambda: new_pid(pids_file, first), 5 * SLOW,
                            what="the fake restarted after SIGKILL")
        eventually(lambda: (value(d.metrics(), 'edgemon_tegrastats_restarts_total{source="board"}')
                            or 0) >= 1, 5 * SLOW, what="the restart counted")
        eventually(lambda: value(d.metrics(), f"edge_power_source_up{{{BOARD}}}") == 1,
                   5 * SLOW, what="the board up again after the restart")

        # A tegrastats that stops printing (hung) goes stale: readings
        # withdrawn, up 0 kept; it is killed and started again, counted, and
        # the readings come back with the new child's lines.
        os.kill(second, signal.SIGSTOP)
        try:
            eventually(lambda: value(d.metrics(), f"edge_power_source_up{{{BOARD}}}") == 0,
                       5 * SLOW, what="the silent fake reported stale")
            text = d.metrics()
            check(value(text, GPU_SOC) is None, "stale watts still in /metrics")
            check(value(text, 'edgemon_source_up{kind="tegrastats",source="board"}') == 0,
                  "a stale instance is up")
            error = {s["name"]: s for s in d.get_json("/status")["sources"]}["board"]["error"]
            check("printed nothing" in error, f"stale error in /status: {error}")
            third = eventually(lambda: new_pid(pids_file, first + [second]), 5 * SLOW,
                               what="the hung fake replaced by a new one")
            check(not alive(second), f"the hung tegrastats {second} is still alive")
            check(alive(third), "the new tegrastats is not running")
        finally:
            try:
                os.kill(second, signal.SIGCONT)
            except ProcessLookupError:
                pass
        eventually(lambda: (value(d.metrics(), 'edgemon_tegrastats_killed_total{source="board"}')
                            or 0) >= 1, 5 * SLOW, what="the kill counted")
        eventually(lambda: value(d.metrics(), GPU_SOC) is not None, 5 * SLOW,
                   what="watts back from the new tegrastats")

        # SIGTERM: edgemon stops its tegrastats before it exits.
        rc, _ = d.stop()
        check(rc == 0, f"edgemon exited {rc} on SIGTERM:\n{d.log.tail()}")
        survivors = [p for p in started_pids(pids_file) if alive(p)]
        check(not survivors, f"fake tegrastats outlived edgemon's SIGTERM: {survivors}")

        # SIGKILL: the child dies with edgemon all the same.
        known = started_pids(pids_file)
        d = Daemon(config_path=config, env=env).start()
        pid = eventually(lambda: new_pid(pids_file, known), 5 * SLOW,
                         what="the fake started by a second edgemon")
        d.kill()
        eventually(lambda: not alive(pid), 5 * SLOW,
                   what="the fake to die with a SIGKILLed edgemon")
    except BaseException:
        print(f"--- daemon stderr tail ---\n{d.log.tail()}\n---", file=sys.stderr)
        raise
    finally:
        d.kill()


def test_a_flooding_tegrastats_is_throttled():
    """Lines closer than half an interval are dropped and counted: a broken
    child must not turn into thousands of publications (and spool rows)."""
    tmp = make_tmpdir()
    config = os.path.join(tmp, "edgemon.yaml")
    write_file(config, CONFIG.split("    - name: missing")[0])
    env = {"FAKE_TEGRASTATS_FIXTURE": FIXTURE, "FAKE_TEGRASTATS_FLOOD": "500"}
    with Daemon(config_path=config, env=env) as d:
        flood = 'edgemon_tegrastats_flood_lines_total{source="board"}'
        # 499 when the flood is read within half an interval, as it is here.
        eventually(lambda: (value(d.metrics(), flood) or 0) >= 450, 5 * SLOW,
                   what="the flooded lines dropped")
        text = d.metrics()
        check(value(text, 'edgemon_tegrastats_lines_total{source="board"}') >= 500,
              "the flood was not read")
        published = value(text, 'edgemon_source_publications_total{kind="tegrastats",'
                                'source="board"}')
        check(published is not None and published < 20,
              f"{published} publications for a flood of 500 lines")


def test_the_replaced_exporters_metric_switches():
    """Its configuration's `metrics:` map is an allow-list of its names."""
    tmp = make_tmpdir()
    config = os.path.join(tmp, "edgemon.yaml")
    write_file(config, "metrics:\n  jetson_power_vdd_gpu_soc_watts: true\n"
               "  jetson_temp_cpu_celsius: true\n" + CONFIG.split("    - name: missing")[0])
    env = {"FAKE_TEGRASTATS_FIXTURE": FIXTURE}
    with Daemon(config_path=config, env=env) as d:
        labels = '{device_type="jetson_orin",hostname="edge-01",source="board"}'
        eventually(lambda: value(d.metrics(), "jetson_power_vdd_gpu_soc_watts" + labels),
                   5 * SLOW, what="the switched-on rail")
        text = d.metrics()
        check(value(text, "jetson_temp_cpu_celsius" + labels) is not None, "no cpu temperature")
        exposed = re.findall(r"^(jetson_power_vdd_cpu_cv_watts|edge_power_watts)\{", text, re.M)
        check(not exposed, f"families the allow-list does not name are exposed: {exposed}")


if __name__ == "__main__":
    harness.main(globals())
