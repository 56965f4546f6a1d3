"""The read-only API's contract: /status and /health JSON, the index, IPv4
and IPv6 listeners, and the HTTP self-metrics counting what was served."""

import os
import socket
import time

import harness
from harness import check, Daemon, make_tmpdir, parse_exposition, SLOW

COLLECTOR_KEYS = ("name", "last_run", "last_duration_seconds", "success", "error")
ALL_BUT_PROCFS = ("diskstats,filefd,filesystem,hwmon,netdev,network_address,os,"
                  "powersupplyclass,rapl,self,stat,thermal,time,uname")


def test_status_fields():
    with Daemon(sets=["collect.interval=1s"]) as d:
        s1 = d.wait_collected()
        for key, kind in (("version", str), ("build", (dict, str)), ("uptime_seconds", (int, float)),
                          ("device_id", str), ("hostname", str), ("state_dir", str),
                          ("listeners", list), ("collectors", list)):
            check(isinstance(s1.get(key), kind), f"/status {key} = {s1.get(key)!r}")
        check("config_path" in s1, "/status has no config_path")
        check(s1["device_id"], "/status device_id is empty")
        check(s1["hostname"] == socket.gethostname(),
              f"/status hostname {s1['hostname']!r} != {socket.gethostname()!r}")
        check(os.path.samefile(s1["state_dir"], d.state_dir),
              f"/status state_dir {s1['state_dir']!r}, started with {d.state_dir}")
        check(s1["listeners"] == [f"{h}:{p}" for h, p in d.listen],
              f"/status listeners {s1['listeners']} vs ready line {d.listen}")
        names = [c.get("name") for c in s1["collectors"]]
        check({"cpu", "meminfo", "loadavg", "filesystem"} <= set(names),
              f"/status collectors {names}")
        for c in s1["collectors"]:
            missing = [k for k in COLLECTOR_KEYS if k not in c]
            check(not missing, f"/status collector {c.get('name')} lacks {missing}: {c}")
        failed = [c for c in s1["collectors"] if c["success"] is not True]
        check(not failed, f"collectors failing on this host: {failed}")
        t0 = time.monotonic()
        s2 = harness.eventually(lambda: (lambda s: s if s["uptime_seconds"] > s1["uptime_seconds"]
                                         else None)(d.get_json("/status")), 3 * SLOW,
                                what="uptime_seconds to grow")
        check(s2["uptime_seconds"] - s1["uptime_seconds"] <= time.monotonic() - t0 + 0.5,
              f"uptime grew faster than the clock: {s1['uptime_seconds']} -> "
              f"{s2['uptime_seconds']}")


def test_health_ok_and_unhealthy():
    with Daemon() as d:
        r = d.get("/health")
        check(r.status == 200, f"/health {r.status}: {r.body[:300]!r}")
        check(r.header("content-type", "").startswith("application/json"),
              f"/health Content-Type {r.header('content-type')!r}")
        check(isinstance(r.json(), dict), f"/health body {r.body[:200]!r}")
    empty = make_tmpdir()
    sets = [f"collect.procfs={empty}", f"collect.sysfs={empty}", f"collect.rootfs={empty}",
            f"collect.disable={ALL_BUT_PROCFS}"]
    with Daemon(sets=sets) as d:
        r = harness.eventually(lambda: (lambda r: r if r.status == 503 else None)(d.get("/health")),
                               5 * SLOW, what="/health 503 with every collector failing")
        doc = r.json()
        reasons = doc.get("reasons")
        check(isinstance(reasons, list) and reasons and all(isinstance(x, str) for x in reasons),
              f"503 /health without reasons: {doc}")
        status = d.get_json("/status")
        errors = {c["name"]: c["error"] for c in status["collectors"] if not c["success"]}
        check({"cpu", "meminfo", "loadavg"} <= set(errors) and all(errors.values()),
              f"/status should carry each failing collector's error: {errors}")


def test_index():
    # Every route this configuration serves, none that only says it is off.
    with Daemon() as d:
        r = d.get("/")
        check(r.status == 200, f"GET / {r.status}")
        listed = set(r.json()["endpoints"])
        for route in ("GET /metrics", "GET /health", "GET /status", "POST /reload",
                      "GET /history", "GET /metrics/list", "POST /metrics/enable"):
            check(route in listed, f"index does not list {route}: {sorted(listed)}")
        for route in ("POST /write", "POST /alert", "GET /alerts", "GET /query"):
            check(route not in listed, f"index lists {route}, which is off: {sorted(listed)}")
    with Daemon(sets=["ingest.enabled=true", "history.enabled=false"]) as d:
        listed = set(d.get_json("/")["endpoints"])
        for route in ("POST /write", "POST /metrics", "GET /ping", "GET /query", "POST /alert",
                      "GET /alerts", "GET /devices"):
            check(route in listed, f"the hub's index does not list {route}: {sorted(listed)}")
        check("GET /history" not in listed, "history is off but GET /history is listed")


def ipv6_loopback():
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_ipv4_and_ipv6_listeners():
    listen = ["127.0.0.1:0"]
    if ipv6_loopback():
        listen.append("[::1]:0")
    else:
        print("no IPv6 loopback here: IPv4 listeners only")
        listen.append("127.0.0.1:0")
    with Daemon(listen=listen) as d:
        check(len(d.listen) == 2, f"ready line lists {d.listen}, expected two listeners")
        for host, port in d.listen:
            r = harness.http_request(host, port, "GET", "/health")
            check(r.status == 200, f"/health on {host}:{port}: {r.status}")


def test_http_self_metrics_count_requests():
    with Daemon() as d:
        for _ in range(3):
            d.get("/health")
        d.get("/nope")
        fams = parse_exposition(d.metrics())
        req = fams.get("edgemon_http_requests_total")
        check(req is not None and req.type == "counter", "no edgemon_http_requests_total counter")
        check({"method", "route", "status"} <= req.label_names(),
              f"edgemon_http_requests_total labels {req.label_names()}")

        def count(route, status):
            return sum(v for _, l, v in req.samples
                       if l.get("route") == route and l.get("status") == status
                       and l.get("method") == "GET")
        check(count("/health", "200") == 3, f"/health 200 counted {count('/health', '200')}, "
                                            f"expected 3: {req.samples}")
        check(sum(v for _, l, v in req.samples if l.get("status") == "404") == 1,
              f"the 404 was not counted once: {req.samples}")
        check(len({l.get("route") for _, l, _ in req.samples}) <= 4,
              f"unknown paths must not each become a route label: {req.samples}")
        dur = fams.get("edgemon_http_request_duration_seconds")
        check(dur is not None and dur.type == "histogram", "no request duration histogram")
        inflight = fams.get("edgemon_http_requests_in_flight")
        check(inflight is not None and inflight.samples[0][2] >= 1,
              "edgemon_http_requests_in_flight should count the /metrics request being served")


if __name__ == "__main__":
    harness.main(globals())
