"""The hub's Alertmanager receiver against a real Alertmanager (Debian's
prometheus-alertmanager): an alert created through Alertmanager's API v2
reaches POST /alert and shows in GET /alerts as firing, with its labels,
annotations, startsAt and Alertmanager's own fingerprint; resolving it
through the API closes it. Also: /metrics and the log lines, malformed
notifications (400 naming the field), tokens, and persistence across a
restart."""

import datetime
import json
import os
import subprocess
import uuid

import harness
from harness import (Daemon, check, check_json_error, eventually, free_port, make_tmpdir,
                     parse_exposition, sample_value, spawn, stop_process, write_file)

AM_CONFIG = """\
route:
  receiver: edgemon
  group_by: ['alertname']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: edgemon
    webhook_configs:
      - url: {url}
        send_resolved: true
{auth}"""

AM_AUTH = """\
        http_config:
          authorization:
            type: Bearer
            credentials: {token}
"""


class Alertmanager:
    """prometheus-alertmanager on a free loopback port, no cluster
    listener, its data in a temp dir; stopped by PID."""

    def __init__(self, webhook_url, token=None):
        self.exe = harness.require_binary("prometheus-alertmanager", "alertmanager")
        self.dir = make_tmpdir("edgemon-am-")
        auth = AM_AUTH.format(token=token) if token else ""
        self.config = write_file(os.path.join(self.dir, "alertmanager.yml"),
                                 AM_CONFIG.format(url=webhook_url, auth=auth))
        self.proc = None
        self.port = None

    def start(self, attempts=3):
        last = ""
        for _ in range(attempts):
            self.port = free_port()
            p = spawn([self.exe, f"--config.file={self.config}",
                       f"--storage.path={os.path.join(self.dir, 'data')}",
                       f"--web.listen-address=127.0.0.1:{self.port}",
                       f"--web.external-url=http://127.0.0.1:{self.port}",
                       "--cluster.listen-address=", "--log.level=warn"],
                      stderr=subprocess.PIPE)
            try:
                if harness.wait_http_ok("127.0.0.1", self.port, "/-/ready", 15 * harness.SLOW,
                                        proc=p):
                    self.proc = p
                    return self
            except AssertionError as e:
                last = str(e)
            stop_process(p, timeout=5)
            last = p.stderr.read().decode("utf-8", "replace")[-500:] or last
        raise AssertionError(f"alertmanager did not start: {last}")

    def stop(self):
        rc = stop_process(self.proc, timeout=10)
        check(rc == 0, f"alertmanager exited {rc} on SIGTERM")

    def post_alerts(self, alerts):
        r = harness.http_request("127.0.0.1", self.port, "POST", "/api/v2/alerts",
                                 {"Content-Type": "application/json"}, json.dumps(alerts))
        check(r.status == 200, f"alertmanager refused the alert: {r.status} {r.body[:300]!r}")

    def fingerprint(self, alertname):
        path = "/api/v2/alerts?filter=" + harness_quote(f'alertname="{alertname}"')
        r = harness.http_request("127.0.0.1", self.port, "GET", path)
        check(r.status == 200, f"GET {path}: {r.status}")
        alerts = r.json()
        check(len(alerts) == 1, f"alertmanager holds {len(alerts)} alerts named {alertname}")
        return alerts[0]["fingerprint"]


def harness_quote(text):
    import urllib.parse
    return urllib.parse.quote(text, safe="")


def rfc3339(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def hub_config(tokens=None, enabled=True):
    tok = ""
    if tokens:
        tok = "  tokens:\n" + "".join(f"    {json.dumps(k)}: {json.dumps(v)}\n"
                                       for k, v in tokens.items())
    return f"""\
device_id: alert-hub
collect:
  interval: 1h
ingest:
  enabled: {"true" if enabled else "false"}
{tok}alerts:
  max_alerts: 100
"""


def write_config(text):
    return write_file(os.path.join(make_tmpdir("edgemon-cfg-"), "edgemon.yaml"), text)


def listed(daemon, status, alertname):
    r = daemon.get(f"/alerts?status={status}")
    check(r.status == 200, f"GET /alerts?status={status}: {r.status} {r.body[:300]!r}")
    doc = r.json()
    return [a for a in doc["alerts"] if a["alertname"] == alertname]


def post_alert(daemon, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    return daemon.request("POST", "/alert", headers, body)


def notification(alertname, starts_at="2026-11-22T06:54:11.243Z", **alert_over):
    alert = {"status": "firing", "labels": {"alertname": alertname, "severity": "warning"},
             "annotations": {"summary": "s"}, "startsAt": starts_at,
             "endsAt": "0001-01-01T00:00:00Z", "generatorURL": ""}
    alert.update(alert_over)
    return {"receiver": "edgemon", "status": "firing", "alerts": [alert], "groupLabels": {},
            "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://x",
            "version": "4", "groupKey": "{}", "truncatedAlerts": 0}


def test_alertmanager_fires_and_resolves():
    name = "EdgeDiskFull_" + uuid.uuid4().hex[:8]
    labels = {"alertname": name, "severity": "critical", "instance": "edge-01",
              "mountpoint": "/data"}
    annotations = {"summary": "Disk /data almost full", "description": "95% used"}
    now = datetime.datetime.now(datetime.timezone.utc)
    starts = rfc3339(now - datetime.timedelta(seconds=30))
    with Daemon(config_path=write_config(hub_config({"alertmanager": "am-secret"}))) as hub:
        am = Alertmanager(f"http://127.0.0.1:{hub.port}/alert", token="am-secret").start()
        am.post_alerts([{"labels": labels, "annotations": annotations, "startsAt": starts,
                         "endsAt": rfc3339(now + datetime.timedelta(hours=1)),
                         "generatorURL": "http://127.0.0.1:9/graph"}])
        firing = eventually(lambda: listed(hub, "firing", name), 15 * harness.SLOW,
                            what="the alert firing in GET /alerts")
        a = firing[0]
        check(a["status"] == "firing", f"status {a['status']}")
        check(a["labels"] == labels, f"labels {a['labels']} != {labels}")
        check(a["annotations"] == annotations, f"annotations {a['annotations']}")
        check(a["starts_at"] == starts, f"starts_at {a['starts_at']} != {starts}")
        check(a["ends_at"] is None, f"a firing alert has ends_at {a['ends_at']}")
        check(a["receiver"] == "edgemon", f"receiver {a['receiver']}")
        check(a["generator_url"] == "http://127.0.0.1:9/graph", f"url {a['generator_url']}")
        check(a["fingerprint"] == am.fingerprint(name),
              f"fingerprint {a['fingerprint']} is not Alertmanager's")

        resolved_at = datetime.datetime.now(datetime.timezone.utc)
        am.post_alerts([{"labels": labels, "annotations": annotations, "startsAt": starts,
                         "endsAt": rfc3339(resolved_at)}])
        closed = eventually(lambda: listed(hub, "resolved", name), 15 * harness.SLOW,
                            what="the alert resolved in GET /alerts")
        c = closed[0]
        check(c["fingerprint"] == a["fingerprint"], "resolving made a second row")
        check(c["starts_at"] == starts, f"resolved starts_at {c['starts_at']}")
        check(c["ends_at"] == rfc3339(resolved_at),
              f"ends_at {c['ends_at']} != {rfc3339(resolved_at)}")
        check(c["notifications"] >= 2, f"notifications {c['notifications']}")
        check(not listed(hub, "firing", name), "the resolved alert is still listed as firing")
        everything = hub.get_json("/alerts")["alerts"]
        check(len([x for x in everything if x["alertname"] == name]) == 1,
              "GET /alerts without status lists the alert more than once")

        fams = parse_exposition(hub.metrics())
        for status in ("firing", "resolved"):
            v = sample_value(fams, "edgemon_alerts_received_total",
                             {"alertname": name, "status": status}, 0)
            check(v >= 1, f"edgemon_alerts_received_total{{status={status}}} is {v}")
        check(sample_value(fams, "edgemon_alerts_firing") == 0, "edgemon_alerts_firing is not 0")
        check(sample_value(fams, "edgemon_alerts_stored") == 1, "edgemon_alerts_stored is not 1")
        stored = sample_value(fams, "edgemon_alert_notifications_total", {"result": "stored"}, 0)
        check(stored >= 2, f"stored notifications {stored}")
        check(sample_value(fams, "edgemon_alert_notifications_total",
                           {"result": "unauthorized"}) == 0,
              "Alertmanager's bearer token was refused")

        def logged(status):
            _, e = hub.log.wait_for(lambda e: e.get("event") == "alert_received"
                                    and e.get("alertname") == name
                                    and e.get("status") == status, 5 * harness.SLOW)
            return e
        fired, gone = logged("firing"), logged("resolved")
        check(fired is not None and gone is not None, "no alert_received log lines")
        check(fired["severity"] == "critical" and fired["summary"] == annotations["summary"]
              and fired["fingerprint"] == a["fingerprint"] and fired["starts_at"] == starts,
              f"alert_received fields: {fired}")
        check(gone["change"] == "resolved", f"resolved log line: {gone}")
        am.stop()


def test_bad_notifications_and_tokens():
    tokens = {"alertmanager": "am-secret", "dev-1": "device-token-1", "*": "fleet-token-1"}
    state = make_tmpdir("edgemon-state-")
    cfg = write_config(hub_config(tokens))
    with Daemon(config_path=cfg, state_dir=state) as hub:
        good = notification("Good")
        check(post_alert(hub, good).status == 401, "no token was accepted")
        check_json_error(post_alert(hub, good, "wrong"), 401)
        doc = check_json_error(post_alert(hub, good, "device-token-1"), 401)
        check("alertmanager" in doc["error"], f"device token refusal: {doc}")
        r = post_alert(hub, good, "am-secret")
        check(r.status == 200 and r.json() == {"received": 1}, f"good notification: {r}")
        r = post_alert(hub, notification("Fleet"), "fleet-token-1")
        check(r.status == 200, f"the * token was refused: {r}")
        # Alertmanager's token writes no points.
        r = hub.request("POST", "/write?precision=s",
                        {"Authorization": "Bearer am-secret"}, "cpu,device_id=x v=1 1\n")
        doc = check_json_error(r, 403)
        check("may only post alerts" in doc["error"], f"/write with the alertmanager token: {doc}")

        bad_time = notification("Bad", starts_at="yesterday")
        doc = check_json_error(post_alert(hub, bad_time, "am-secret"), 400)
        check(doc["error"] == 'alerts[0].startsAt: expected an RFC 3339 time, got "yesterday"',
              f"400 for a bad time: {doc}")
        v3 = notification("Bad")
        v3["version"] = "3"
        doc = check_json_error(post_alert(hub, v3, "am-secret"), 400)
        check(doc["error"].startswith('version: unsupported webhook version "3"'), f"{doc}")
        doc = check_json_error(post_alert(hub, "{not json", "am-secret"), 400)
        check(doc["error"].startswith("body: invalid JSON"), f"{doc}")
        labels = notification("Bad", labels={"alertname": "Bad", "severity": 3})
        doc = check_json_error(post_alert(hub, labels, "am-secret"), 400)
        check(doc["error"] == "alerts[0].labels.severity: expected a string, got a number",
              f"{doc}")

        doc = check_json_error(hub.get("/alerts?status=pending"), 400)
        check(doc["error"].startswith("status:"), f"bad status: {doc}")
        doc = check_json_error(hub.get("/alerts?limit=0"), 400)
        check(doc["error"].startswith("limit:"), f"bad limit: {doc}")
        doc = check_json_error(hub.get("/alerts?state=firing"), 400)
        check("state" in doc["error"], f"unknown parameter: {doc}")
        r = hub.get("/alerts?limit=1")
        check(r.status == 200 and r.json()["count"] == 1 and r.json()["more"] is True,
              f"limit=1: {r}")

        fams = parse_exposition(hub.metrics())
        for result, n in (("stored", 2), ("invalid", 4), ("unauthorized", 3)):
            v = sample_value(fams, "edgemon_alert_notifications_total", {"result": result})
            check(v == n, f"notifications {result}: {v}, expected {n}")
        check(sample_value(fams, "edgemon_alerts_firing") == 2, "two firing alerts expected")
        status = hub.get_json("/status")
        check(status.get("alerts", {}).get("stored") == 2, f"/status alerts: {status.get('alerts')}")
        check(any(e and e.get("event") == "alert_notification_rejected" for e in hub.log.events),
              "no log line for a rejected notification")

    # What was stored is still there after a restart.
    with Daemon(config_path=cfg, state_dir=state) as again:
        names = sorted(a["alertname"] for a in again.get_json("/alerts?status=firing")["alerts"])
        check(names == ["Fleet", "Good"], f"after a restart: {names}")
    check(os.path.exists(os.path.join(state, "alerts.db")), "no alerts.db in the state dir")


def test_alertname_cap_and_max_alerts():
    """1000 alertnames are counted by name, the next under "other"; the store
    keeps alerts.max_alerts (100 here) and counts what it deleted."""
    def many(names):
        n = notification("unused")
        template = n["alerts"][0]
        n["alerts"] = [dict(template, labels={"alertname": x}) for x in names]
        return n
    with Daemon(config_path=write_config(hub_config())) as hub:
        r = post_alert(hub, many([f"A{i:04d}" for i in range(1000)]))
        check(r.status == 200 and r.json() == {"received": 1000}, f"1000 alerts: {r}")
        check(post_alert(hub, many(["Extra"])).status == 200, "the 1001st alertname")
        doc = check_json_error(post_alert(hub, many([f"B{i}" for i in range(1001)])), 400)
        check(doc["error"] == "alerts: 1001 alerts, at most 1000 per notification", f"{doc}")
        fams = parse_exposition(hub.metrics())
        received = fams["edgemon_alerts_received_total"].samples
        names = {l["alertname"] for _, l, _ in received}
        check(len(names) == 1001 and "Extra" not in names, f"{len(names)} alertname values")
        check(sample_value(fams, "edgemon_alerts_received_total",
                           {"alertname": "other", "status": "firing"}) == 1, "other not counted")
        check(sample_value(fams, "edgemon_alerts_stored") == 100, "max_alerts not kept")
        check(sample_value(fams, "edgemon_alerts_deleted_total", {"reason": "limit_firing"}) == 901,
              "deletions beyond max_alerts not counted")
        check(hub.get_json("/alerts?limit=100000")["count"] == 100, "GET /alerts count")


def test_receiver_off_and_open():
    with Daemon(config_path=write_config(hub_config(enabled=False))) as off:
        check_json_error(post_alert(off, notification("X")), 404)
        check_json_error(off.get("/alerts"), 404)
    # Without ingest.tokens, ingest.allow alone guards the endpoint.
    with Daemon(config_path=write_config(hub_config())) as hub:
        r = post_alert(hub, notification("Open"))
        check(r.status == 200, f"no token needed without ingest.tokens: {r}")


if __name__ == "__main__":
    harness.main(globals())
