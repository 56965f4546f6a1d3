"""An agent pushing to a hub (outputs.hub) with a real influxd behind the hub:
across a hub restart and a SIGKILL of the hub nothing is lost and nothing is
doubled -- every system_metrics round the agent made is in influxd once. Both
push formats (line protocol and the JSON payload) are exercised."""

import re
import shutil
import signal
import sys

import harness
from harness import Daemon, check, eventually, make_tmpdir
from hub import DB, hub_config, write_config
from influx import Influxd

TOKEN = "agent-1-token"


def agent_config(hub_url, fmt="lp"):
    return f"""\
device_id: agent-1
tags:
  location: yard
collect:
  interval: 200ms
spool:
  commit_interval: 100ms
outputs:
  hub:
    - name: hub
      url: {hub_url}
      token: {TOKEN}
      format: {fmt}
      schema: system_metrics
      flush_interval: 200ms
      retry_initial: 200ms
      retry_max: 1s
"""


def heartbeats(server):
    rows = server.query(DB, "SELECT heartbeat FROM system_metrics WHERE device_id = 'agent-1'")
    values = [v[1] for s in rows for v in s["values"]]
    times = [v[0] for s in rows for v in s["values"]]
    check(len(times) == len(set(times)), "a round stored twice at one timestamp")
    return values


def queued(daemon, name):
    for o in daemon.get_json("/status").get("outputs", []):
        if o["name"] == name:
            return o["queued"]["points"]
    raise AssertionError(f"no output {name}")


def agent_rounds(agent):
    m = re.search(r'^edgemon_collector_runs_total\{collector="loadavg"\} (\S+)$',
                  agent.metrics(), re.M)
    return int(float(m.group(1)))


def contiguous(server):
    """Heartbeats count the agent's rounds: 1..N with none missing or twice
    means nothing was lost or doubled up to N."""
    beats = heartbeats(server)
    check(len(beats) == len(set(beats)), f"a heartbeat arrived twice: {sorted(beats)[-5:]}")
    return bool(beats) and sorted(beats) == list(range(1, max(beats) + 1)), beats


def wait_everything_once(agent, hub, server, timeout):
    """While the agent runs, rounds keep coming, so: contiguous and close
    behind its counter; then SIGTERM flushes the agent's spool into the hub
    and every round up to the last must arrive."""
    def caught_up():
        ok, beats = contiguous(server)
        return ok and max(beats) >= agent_rounds(agent) - 3
    eventually(caught_up, timeout * harness.SLOW, interval=0.2,
               what="agent rounds in influxd, contiguous, close behind the agent")
    rounds_before_stop = agent_rounds(agent)
    agent.stop_checked()
    _, stopped = agent.log.wait_event("outputs_stopped", 1)
    check(stopped and stopped.get("points_left_in_spool") == 0, f"agent left points: {stopped}")

    def all_there():
        ok, beats = contiguous(server)
        return ok and max(beats) >= rounds_before_stop and queued(hub, "central") == 0
    eventually(all_there, timeout * harness.SLOW, interval=0.2,
               what="every agent round in influxd exactly once after the agent's flush")


def start_hub(server, state_dir, port=0):
    cfg = write_config(hub_config(server.url, tokens={"agent-1": TOKEN}))
    return Daemon(config_path=cfg, state_dir=state_dir,
                  listen=(f"127.0.0.1:{port}",)).start()


def test_hub_restart_and_sigkill_lose_nothing():
    server = Influxd().start()
    server.create_database(DB)
    hub_state = make_tmpdir("edgemon-hub-")
    hub = start_hub(server, hub_state)
    port = hub.port
    with Daemon(config_path=write_config(agent_config(f"http://127.0.0.1:{port}"))) as agent:
        eventually(lambda: len(heartbeats(server)) >= 3, 15 * harness.SLOW, interval=0.1,
                   what="agent points through the hub")
        hub.stop_checked()  # a graceful restart
        eventually(lambda: queued(agent, "hub") >= 5, 15 * harness.SLOW, interval=0.1,
                   what="agent spooling while the hub is down")
        hub = start_hub(server, hub_state, port)
        eventually(lambda: queued(agent, "hub") == 0, 20 * harness.SLOW, interval=0.1,
                   what="agent backlog drained into the restarted hub")
        before = len(heartbeats(server))
        hub.kill()  # SIGKILL: whatever it acknowledged must be in its spool
        eventually(lambda: queued(agent, "hub") >= 5, 15 * harness.SLOW, interval=0.1,
                   what="agent spooling while the hub is dead")
        hub = start_hub(server, hub_state, port)
        wait_everything_once(agent, hub, server, 30)
        check(len(heartbeats(server)) > before, "nothing arrived after the SIGKILL")
    hub.stop_checked()
    server.stop()


def test_json_format_push():
    server = Influxd().start()
    server.create_database(DB)
    with Daemon(config_path=write_config(hub_config(server.url,
                                                    tokens={"agent-1": TOKEN}))) as hub:
        cfg = write_config(agent_config(f"http://127.0.0.1:{hub.port}", fmt="json"))
        with Daemon(config_path=cfg) as agent:
            eventually(lambda: len(heartbeats(server)) >= 3, 15 * harness.SLOW, interval=0.1,
                       what="JSON payloads through the hub")
            row = server.query(DB, "SELECT memory, memory_total, location, host FROM "
                                   "system_metrics WHERE device_id = 'agent-1' LIMIT 1")[0]
            cols = dict(zip(row["columns"], row["values"][0]))
            check(cols["location"] == "yard" and cols["memory_total"] > 0 and
                  0 < cols["memory"] < 100, f"JSON-pushed point {cols}")
            wait_everything_once(agent, hub, server, 20)
    server.stop()


if __name__ == "__main__":
    if shutil.which("influxd") is None:
        print("SKIP: influxd not installed")
        sys.exit(0)
    harness.main(globals())
