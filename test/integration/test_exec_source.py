"""The source seam through the daemon, with the exec source: a program of
the operator's prints line protocol; its series reach /metrics labelled
with the instance, a series it stops printing is withdrawn, a reload with
unchanged options keeps the program (same pid) while a changed one
restarts it, a missing program is an error of that source only, and the
program dies with edgemon even when edgemon is SIGKILLed."""
import os
import re
import signal
import sys

import harness
from harness import (SLOW, Daemon, check, eventually, make_tmpdir, promtool_check_metrics,
                     write_file)

PROGRAM = """#!/bin/sh
echo "probe_extra value=7"
echo "this is not line protocol"
n=0
while true; do
  n=$((n+1))
  echo "probe,side=a pid=$$i,ticks=${n}i"
  sleep 0.1
done
"""


def config_text(program, extra=""):
    return f"""
collect:
  interval: 1s
sources:
  exec:
    - name: probe
      interval: 200ms
      series_ttl: 1s
      command: [{program}]
{extra}
    - name: missing
      command: [/nonexistent/edgemon-test-program]
"""


def value(text, series):
    m = re.search(r"^" + re.escape(series) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it has exited all the same.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(") ")[1][0] != "Z"


def child_pid(d):
    return eventually(lambda: value(d.metrics(), 'probe_pid{side="a",source="probe"}'),
                      5 * SLOW, what="the program's pid in /metrics")


def reload(d, what):
    start = d.log.count()
    os.kill(d.pid, signal.SIGHUP)
    _, event = d.log.wait_event("reloaded", 5 * SLOW, start)
    check(event is not None, f"no 'reloaded' after SIGHUP ({what}):\n{d.log.tail()}")


def test_exec_source_lifecycle():
    tmp = make_tmpdir()
    program = os.path.join(tmp, "probe.sh")
    write_file(program, PROGRAM)
    os.chmod(program, 0o755)
    config = os.path.join(tmp, "edgemon.yaml")
    write_file(config, config_text(program))

    d = Daemon(config_path=config).start()
    try:
        pid = int(child_pid(d))
        check(alive(pid), f"pid {pid} from /metrics is not a running process")
        text = d.metrics()
        check(value(text, 'probe_extra{source="probe"}') == 7,
              "probe_extra not in /metrics:\n" + text[-2000:])
        # The line that is not line protocol is counted, not fatal.
        eventually(lambda: (value(d.metrics(), 'edgemon_exec_bad_lines_total{source="probe"}')
                            or 0) >= 1, 5 * SLOW, what="the bad line counted")
        # The missing program is that source's error alone.
        eventually(lambda: value(d.metrics(),
                                 'edgemon_source_up{kind="exec",source="missing"}') == 0,
                   5 * SLOW, what="the missing program reported down")
        check(value(d.metrics(), 'edgemon_source_up{kind="exec",source="probe"}') == 1,
              "the working instance is not up")
        sources = {s["name"]: s for s in d.get_json("/status")["sources"]}
        check("no such file" in sources["missing"].get("error", ""),
              f"/status does not say why 'missing' is down: {sources}")
        # A series the program no longer prints is withdrawn after series_ttl.
        eventually(lambda: 'probe_extra{' not in d.metrics(), 5 * SLOW,
                   what="probe_extra withdrawn after series_ttl")
        # The host families' lint (node_exporter's own camelCase names) is
        # test_promtool's business; these are the source's.
        ours = "\n".join(l for l in d.metrics().splitlines()
                         if "probe" in l or "edgemon_source" in l or "edgemon_exec" in l) + "\n"
        rc, errors = promtool_check_metrics(ours)
        check(rc == 0 and not errors, f"promtool check metrics: {errors}\n{ours}")

        started = value(d.metrics(),
                        'edgemon_source_started_timestamp_seconds{kind="exec",source="probe"}')
        reload(d, "unchanged")
        ticks = value(d.metrics(), 'probe_ticks{side="a",source="probe"}')
        eventually(lambda: value(d.metrics(), 'probe_ticks{side="a",source="probe"}') > ticks,
                   5 * SLOW, what="ticks moving after the reload")
        check(int(child_pid(d)) == pid, "an unchanged reload restarted the program")
        check(value(d.metrics(), 'edgemon_source_started_timestamp_seconds{kind="exec",'
                                 'source="probe"}') == started,
              "an unchanged reload restarted the instance")

        write_file(config, config_text(program, "      env: [CHANGED=1]"))
        reload(d, "changed")
        new_pid = eventually(lambda: (lambda p: p if p and int(p) != pid else None)(
            value(d.metrics(), 'probe_pid{side="a",source="probe"}')), 5 * SLOW,
            what="a new pid after a changed reload")
        new_pid = int(new_pid)
        eventually(lambda: not alive(pid), 5 * SLOW, what="the old program gone")

        # SIGKILL: no orphan survives edgemon.
        d.kill()
        eventually(lambda: not alive(new_pid), 5 * SLOW,
                   what="the program to die with a SIGKILLed edgemon")
    except BaseException:
        print(f"--- daemon stderr tail ---\n{d.log.tail()}\n---", file=sys.stderr)
        raise
    finally:
        d.kill()


if __name__ == "__main__":
    harness.main(globals())
