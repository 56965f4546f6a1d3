"""Selective metrics end to end: the `metrics:` switches of the config file
take families out of /metrics and of what an output receives; a family the
file does not name is discovered and follows new_metrics; GET /metrics/list
and POST /metrics/enable (write group) change the selection from the next
collection, survive a restart through metrics.json, and lose to a later
edit of the file. The output is a fake InfluxDB (fake_influx.FakeInflux, a
fake that records what it is sent) because the question is what edgemon
sends, not what InfluxDB stores."""
import json
import os
import re
import signal

import harness
from fake_influx import FakeInflux
from harness import SLOW, Daemon, check, eventually, make_tmpdir, write_file

TOKEN = "selection-token"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


def config_text(url, switches, new_metrics="auto"):
    lines = "".join(f"  {name}: {'true' if on else 'false'}\n" for name, on in switches.items())
    return f"""
device_id: it-selection
collect:
  interval: 200ms
http:
  access:
    write:
      tokens: [{TOKEN}]
outputs:
  influxdb:
    - name: main
      url: {url}
      database: edge
      flush_interval: 200ms
metrics:
{lines}new_metrics: {new_metrics}
"""


def families(text):
    return set(re.findall(r"^# TYPE (\S+) ", text, re.M))


def reload(d):
    start = d.log.count()
    os.kill(d.pid, signal.SIGHUP)
    _, event = d.log.wait_event("reloaded", 5 * SLOW, start)
    check(event is not None, f"no 'reloaded' after SIGHUP:\n{d.log.tail()}")
    return start


def enable(d, changes, headers=AUTH):
    return d.request("POST", "/metrics/enable", headers, json.dumps(changes).encode())


def test_file_switches_discovery_api_and_restart():
    fake = FakeInflux()
    tmp = make_tmpdir()
    config = os.path.join(tmp, "edgemon.yaml")
    # A deny-list: everything but the families switched off is exposed.
    write_file(config, config_text(fake.url, {"node_load1": False}))
    state = make_tmpdir("edgemon-state-")
    d = Daemon(config_path=config, state_dir=state).start()
    try:
        d.wait_collected()
        text = d.metrics()
        check("node_load1" not in families(text), "node_load1 is switched off but exposed")
        check("node_load5" in families(text), "node_load5 (not named, deny-list) is missing")
        listed = d.get_json("/metrics/list")
        check(listed["metrics"].get("node_load1") is False and listed["origins"]["node_load1"]
              == "config", f"/metrics/list on node_load1: {listed['metrics'].get('node_load1')}")
        check(listed["metrics"].get("node_load5") is True
              and listed["origins"]["node_load5"] == "discovered",
              "node_load5 not listed as discovered and enabled")
        check(listed["source"] == "local", f"source: {listed['source']}")

        # What an output receives follows the same switches.
        eventually(lambda: fake.count() >= 2, 10 * SLOW, what="two writes to the output")
        # Host families go out as measurement `loadavg`, fields load1/load5/load15.
        load = [l for r in fake.snapshot() for l in r.lines if re.match(r"loadavg[, ]", l)]
        check(load and all(" load5=" in l or ",load5=" in l for l in load),
              f"node_load5 was not sent to the output: {load[:2]}")
        check(not any(re.search(r"[ ,]load1=", l) for l in load),
              f"switched-off node_load1 reached the output: {load[:2]}")

        # Changing needs the write group's token; a name never seen is refused whole.
        r = enable(d, {"node_load1": True}, headers={"Content-Type": "application/json"})
        check(r.status == 401, f"POST /metrics/enable without a token: {r.status}")
        r = enable(d, {"node_load1": True, "no_such_family": True})
        check(r.status == 400 and b"no_such_family" in r.body, f"unknown name: {r.status} {r.body}")
        check("node_load1" not in families(d.metrics()), "a refused change was applied")
        r = enable(d, {"node_load1": "yes"})
        check(r.status == 400, f"a non-boolean value: {r.status}")

        r = enable(d, {"node_load1": True, "node_load5": False})
        check(r.status == 200, f"POST /metrics/enable: {r.status} {r.body}")
        answer = r.json()
        check(answer["status"] == "success" and answer["updated"] == 2, f"answer: {answer}")
        check(answer["metrics"]["node_load1"] is True, "answer does not show the change")
        eventually(lambda: "node_load1" in families(d.metrics())
                   and "node_load5" not in families(d.metrics()), 5 * SLOW,
                   what="the change applied from the next collection")
        # Answered 200 means saved.
        with open(os.path.join(state, "metrics.json")) as f:
            saved = json.load(f)["families"]
        check(saved["node_load5"] == {"enabled": False, "origin": "api", "file_said": ""},
              f"metrics.json on node_load5: {saved.get('node_load5')}")

        d.stop_checked()
        d = Daemon(config_path=config, state_dir=state).start()
        d.wait_collected()
        text = d.metrics()
        check("node_load1" in families(text) and "node_load5" not in families(text),
              "the API's changes did not survive a restart")

        # An unrelated edit of the file keeps the API's settings; editing the
        # entry the API overrode makes the file win, logged.
        write_file(config, config_text(fake.url, {"node_load1": False, "node_load15": False}))
        start = reload(d)
        eventually(lambda: "node_load15" not in families(d.metrics()), 5 * SLOW,
                   what="node_load15 switched off by the file")
        check("node_load1" in families(d.metrics()),
              "the API's node_load1 was lost although its file entry did not change")
        write_file(config, config_text(fake.url, {"node_load1": False, "node_load15": False,
                                                  "node_load5": True}))
        start = reload(d)
        _, event = d.log.wait_event("metric_selection_overridden", 5 * SLOW, start)
        check(event is not None and event.get("family") == "node_load5",
              f"the file's win over the API is not logged: {event}")
        eventually(lambda: "node_load5" in families(d.metrics()), 5 * SLOW,
                   what="node_load5 back on by the file's edit")
        check("node_load1" in families(d.metrics()),
              "node_load1's API setting was dropped although its file entry did not change")
    except BaseException:
        print(f"--- daemon stderr tail ---\n{d.log.tail()}\n---")
        raise
    finally:
        d.kill()
        fake.close()


def test_allow_list_keeps_new_families_off():
    tmp = make_tmpdir()
    config = os.path.join(tmp, "edgemon.yaml")
    # The exporter's older list form: an allow-list.
    write_file(config, """
collect:
  interval: 200ms
enabled_metrics: [node_load1, node_memory_MemTotal_bytes]
metrics:
  node_memory_MemTotal_bytes: false
""")
    with Daemon(config_path=config) as d:
        d.wait_collected()
        exposed = {f for f in families(d.metrics()) if not f.startswith("edgemon_")}
        check(exposed == {"node_load1"},
              f"an allow-list exposes exactly what it enables (metrics: wins over "
              f"enabled_metrics): {sorted(exposed)[:10]}")
        listed = d.get_json("/metrics/list")
        check(listed["metrics"].get("node_cpu_seconds_total") is False
              and listed["origins"].get("node_cpu_seconds_total") == "discovered",
              "node_cpu_seconds_total not discovered as disabled")
        check(listed["new_metrics_enabled"] is False, "auto with an allow-list must be disabled")


def test_broken_record_is_kept_aside():
    state = make_tmpdir("edgemon-state-")
    write_file(os.path.join(state, "metrics.json"), "{not json")
    with Daemon(state_dir=state, sets=["collect.interval=200ms"]) as d:
        _, event = d.log.wait_event("metric_selection_unreadable", 5 * SLOW)
        check(event is not None and "kept as" in event.get("error", ""),
              f"a broken metrics.json is not reported: {event}")
        check(os.path.exists(os.path.join(state, "metrics.json.bad")),
              "the broken record was not kept as metrics.json.bad")
        eventually(lambda: os.path.exists(os.path.join(state, "metrics.json")), 10 * SLOW,
                   what="a fresh metrics.json written")


if __name__ == "__main__":
    harness.main(globals())
