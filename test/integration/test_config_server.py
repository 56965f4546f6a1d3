"""The central config server, both roles on loopback: a hub edgemon with
config_server.serve keeps documents in configs.db; agent edgemons with
config_server.url fetch theirs at start, poll with conditional requests,
lay what is served over their local file, report their metric families back,
and keep running when the hub is down or serves something they cannot load.
Every peer here is edgemon itself."""
import json
import socket
import time

import harness
from harness import SLOW, Daemon, check, eventually, make_tmpdir, write_file

OPERATOR = "operator-token-123"
DEVICE_TOKENS = {"dev-a": "token-dev-a-123", "dev-b": "token-dev-b-123",
                 "dev-c": "token-dev-c-123", "dev-d": "token-dev-d-123"}
OP = {"Authorization": f"Bearer {OPERATOR}"}
AGENT_WRITE = "agent-write-123"

HUB = None


def start_hub(device_id, extra=""):
    tokens = "".join(f"    {d}: {t}\n" for d, t in DEVICE_TOKENS.items())
    path = make_tmpdir() + f"/{device_id}.yaml"
    write_file(path, f"""
device_id: {device_id}
collect:
  interval: 5s
ingest:
  enabled: true
  tokens:
{tokens}http:
  access:
    write:
      tokens: [{OPERATOR}]
config_server:
  serve: true
{extra}""")
    return Daemon(config_path=path).start()


def hub():
    global HUB
    if HUB is None:
        HUB = start_hub("hub", "  versions_kept: 3\n")
    return HUB


def put(path, body, headers=None):
    h = dict(OP)
    h.update(headers or {})
    return hub().request("PUT", path, h, body.encode())


def agent_config(device, url, extra="", poll="1s", timeout="2s"):
    return f"""
device_id: {device}
tags:
  device_type: jetson
collect:
  interval: 200ms
http:
  access:
    write:
      tokens: [{AGENT_WRITE}]
config_server:
  url: {url}
  token: {DEVICE_TOKENS.get(device, "no-such-token-1")}
  poll_interval: {poll}
  timeout: {timeout}
{extra}"""


def start_agent(device, url=None, extra="", **kw):
    url = url or f"http://127.0.0.1:{hub().port}"
    path = make_tmpdir() + "/agent.yaml"
    write_file(path, agent_config(device, url, extra, **kw))
    return Daemon(config_path=path)


def has_family(d, name):
    return f"# TYPE {name} " in d.metrics()


def config_state(d):
    return d.get_json("/status").get("config_server", {}).get("state")


def hub_counter(result):
    return harness.sample_value(harness.parse_exposition(hub().metrics()),
                                "edgemon_config_server_requests_total", {"result": result}, 0)


def test_invalid_document_is_refused_with_every_error_and_its_key():
    r = put("/config/dev-a", "collect:\n  interval: 1ms\n  intervall: 2s\n"
                             "config_server:\n  url: http://elsewhere:9110\n")
    check(r.status == 400, f"status {r.status}: {r.body[:300]!r}")
    errors = r.json()["errors"]
    keys = {e["key"] for e in errors}
    for key in ("collect.interval", "collect.intervall"):
        check(any(k.endswith(key) or k == key for k in keys), f"no error for {key}: {errors}")
    check(any(e["line"] == 2 for e in errors if "line" in e), f"no line numbers: {errors}")
    # Loading the document stops at its own errors before config_server is
    # looked at; alone, config_server is refused too.
    r = put("/config/dev-a", "config_server:\n  url: http://elsewhere:9110\n")
    check(r.status == 400 and r.json()["errors"][0]["key"] == "config_server", r.body[:300])
    r = put("/config/dev-a", "a: 1\n---\nb: 2\n")
    check(r.status == 400 and "more than one YAML document" in r.body.decode(), r.body[:300])
    # Nothing was stored.
    check(hub().get("/config/dev-a", OP).status == 404, "a refused document was stored")
    # Writing needs an operator: a device's own token may not.
    r = hub().request("PUT", "/config/dev-a",
                      {"Authorization": f"Bearer {DEVICE_TOKENS['dev-a']}"}, b"tags: {a: b}\n")
    check(r.status in (401, 403), f"a device token wrote its configuration: {r.status}")
    r = hub().request("GET", "/config/dev-a", {"Authorization": f"Bearer {DEVICE_TOKENS['dev-b']}"})
    check(r.status == 403, f"dev-b's token read dev-a's configuration: {r.status}")
    check(hub().get("/config/dev-a").status == 401, "read without a token")


def test_fetch_at_start_poll_and_report_back():
    # The device type's defaults switch a collector off; the device's own
    # document switches a family off. Maps and lists are replaced whole, so
    # the two do not clash.
    r = put("/config_defaults/jetson", "collect:\n  disable: [filesystem]\n")
    check(r.status == 201, f"defaults: {r.status} {r.body[:200]!r}")
    # new_metrics: enabled, so that switching one family on does not make
    # the map an allow-list (new_metrics: auto).
    r = put("/config/dev-a", "new_metrics: enabled\nmetrics:\n  node_load1: false\n")
    check(r.status == 201 and r.json()["version"] == 1, r.body[:200])
    with start_agent("dev-a") as a:
        a.wait_collected()
        text = a.metrics()
        check("# TYPE node_load5 " in text, "host collection is not running")
        check("# TYPE node_load1 " not in text, "the device's document was not applied at start")
        check("node_filesystem_avail_bytes" not in text, "the device type's defaults were not applied")
        listing = a.get_json("/metrics/list")
        check(listing["source"] == "server", f"/metrics/list source: {listing['source']}")
        check(config_state(a) == "applied", a.get_json("/status"))

        # A new version reaches the agent at its next poll; polls in between
        # are conditional and answered 304.
        not_modified = hub_counter("not_modified")
        r = put("/config/dev-a", "new_metrics: enabled\nmetrics:\n  node_load1: true\n  node_load5: false\n",
                {"If-Match": '"1"'})
        check(r.status == 200 and r.json()["version"] == 2, r.body[:200])
        eventually(lambda: not has_family(a, "node_load5") and has_family(a, "node_load1"),
                   10 * SLOW, 0.1, "version 2 applied")
        eventually(lambda: hub_counter("not_modified") > not_modified, 10 * SLOW, 0.2,
                   "a conditional poll answered 304")

        # A change through the agent's API is reported back to the hub, with
        # the discovered families.
        r = a.request("POST", "/metrics/enable",
                      {"Authorization": f"Bearer {AGENT_WRITE}"}, json.dumps({"node_load15": False}).encode())
        check(r.status == 200, f"/metrics/enable: {r.status} {r.body[:200]!r}")

        def reported():
            r = hub().get("/config/dev-a/report", OP)
            if r.status != 200:
                return None
            body = r.json()
            return body if body["metrics"].get("node_load15") is False else None
        report = eventually(reported, 10 * SLOW, 0.1, "the API change reported to the hub")
        check(report["origins"]["node_load15"] == "api", report["origins"].get("node_load15"))
        check(report["config"]["state"] == "applied", report["config"])
        check(report["source"] == "server", report["source"])
        check(report["metrics"].get("node_cpu_seconds_total") is True,
              "discovered families missing from the report")
        # The device reads its own report too.
        r = hub().request("GET", "/config/dev-a/report",
                          {"Authorization": f"Bearer {DEVICE_TOKENS['dev-a']}"})
        check(r.status == 200, f"the device could not read its report: {r.status}")

        # The API setting stands while the document leaves that family alone
        # (version 3 changes another entry) ...
        put("/config/dev-a", "new_metrics: enabled\nmetrics:\n  node_load1: true\n  node_load5: true\n")
        eventually(lambda: has_family(a, "node_load5"), 10 * SLOW, 0.1, "version 3 applied")
        check(not has_family(a, "node_load15"), "the API setting was lost to an unrelated change")
        # ... and the server wins once its document changes that family.
        put("/config/dev-a", "new_metrics: enabled\nmetrics:\n  node_load1: true\n"
                             "  node_load5: true\n  node_load15: true\n")
        eventually(lambda: has_family(a, "node_load15"), 10 * SLOW, 0.1,
                   "the document's later change of node_load15 won")


def test_conflicting_writes_and_versions():
    r = put("/config/dev-b", "tags:\n  site: a\n", {"If-None-Match": "*"})
    check(r.status == 201, r.body[:200])
    r = put("/config/dev-b", "tags:\n  site: b\n", {"If-None-Match": "*"})
    check(r.status == 412, f"create-only over an existing document: {r.status}")
    r = put("/config/dev-b", "tags:\n  site: b\n", {"If-Match": '"1"'})
    check(r.status == 200, r.body[:200])
    # A second operator still holding version 1 is refused and told the
    # current version.
    r = put("/config/dev-b", "tags:\n  site: c\n", {"If-Match": '"1"'})
    check(r.status == 412 and r.headers.get("etag") == '"2"', f"{r.status} {r.headers}")
    for site in ("d", "e", "f"):
        check(put("/config/dev-b", f"tags:\n  site: {site}\n").status == 200, "put")
    r = hub().get("/config/dev-b/versions", OP)
    listed = [v["version"] for v in r.json()["versions"]]
    check(listed == [5, 4, 3], f"versions_kept 3: {listed}")
    r = hub().get("/config/dev-b?version=4", OP)
    check(r.status == 200 and b"site: e" in r.body, r.body[:200])
    check(hub().get("/config/dev-b?version=1", OP).status == 404, "a pruned version served")
    r = hub().request("DELETE", "/config/dev-b", OP)
    check(r.status == 204, f"delete: {r.status}")
    # Deleted: the device type's defaults are what is left.
    r = hub().get("/config/dev-b?device_type=jetson", OP)
    check(r.status == 200 and b"# device dev-b:" not in r.body and b"filesystem" in r.body,
          r.body[:300])
    listing = hub().get("/config", OP).json()
    check("dev-b" not in listing["devices"] and "jetson" in listing["device_types"], listing)


def test_hub_unreachable_at_start_falls_back_to_the_local_file():
    # Nothing listens on this port: refused at once.
    closed = harness.free_port()
    local = "metrics:\n  node_load1: false\n"
    with start_agent("dev-c", f"http://127.0.0.1:{closed}", local) as a:
        a.wait_collected()
        check(not has_family(a, "node_load1"), "the local file was not applied")
        check(a.get_json("/metrics/list")["source"] == "local", "source")
        check(config_state(a) == "unreachable", a.get_json("/status").get("config_server"))
    # A server that accepts and never answers: start waits config_server.timeout, no longer.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        t0 = time.monotonic()
        with start_agent("dev-c", f"http://127.0.0.1:{silent.getsockname()[1]}", local,
                         timeout="1s") as a:
            took = time.monotonic() - t0
            check(took < 1.0 + 3.0 * SLOW, f"start held {took:.1f}s by a silent config server")
            _, event = a.log.wait_event("config_server_unreachable", 1.0)
            check(event is not None, "no log of the fallback")
    finally:
        silent.close()


def test_the_environment_of_the_replaced_exporter():
    put("/config/dev-d", "metrics:\n  node_load1: false\n")
    path = make_tmpdir() + "/local.yaml"
    write_file(path, "device_id: dev-d\ncollect:\n  interval: 200ms\n"
                     f"config_server:\n  token: {DEVICE_TOKENS['dev-d']}\n")
    env = {"LOCAL_CONFIG_PATH": path, "CONFIG_SERVER_URL": f"http://127.0.0.1:{hub().port}",
           "CONFIG_TIMEOUT": "3"}
    with Daemon(env=env) as a:
        a.wait_collected()
        check(not has_family(a, "node_load1"), "the served document was not applied")
        status = a.get_json("/status")
        check(status["config_server"]["state"] == "applied", status.get("config_server"))
        check(status.get("config_path") == path,
              f"LOCAL_CONFIG_PATH was not the file used: {status.get('config_path')}")


def test_agent_keeps_running_config_when_hub_serves_what_it_cannot_load_or_goes_down():
    # A second hub of its own, so that stopping it leaves the others alone.
    hub2 = start_hub("hub2")
    try:
        hub2.request("PUT", "/config/dev-a", OP, b"metrics:\n  node_load1: false\n")
        # Valid alone, but not over this agent's file: its memory budget is
        # smaller than the body limit the document asks for.
        path_a = make_tmpdir() + "/agent.yaml"
        write_file(path_a, agent_config("dev-a", f"http://127.0.0.1:{hub2.port}").replace(
            "http:\n  access:", "http:\n  limits:\n    memory_budget: 2MiB\n  access:"))
        with Daemon(config_path=path_a) as a:
            a.wait_collected()
            check(not has_family(a, "node_load1"), "version 1 not applied")
            r = hub2.request("PUT", "/config/dev-a", OP,
                             b"metrics:\n  node_load1: true\nhttp:\n  limits:\n"
                             b"    max_body_bytes: 3MiB\n")
            check(r.status == 200, f"hub refused a document valid alone: {r.status} {r.body[:200]!r}")
            eventually(lambda: config_state(a) == "rejected", 10 * SLOW, 0.1,
                       "the agent refused version 2")
            check(not has_family(a, "node_load1"), "a refused document changed the agent")
            errors = a.get_json("/status")["config_server"]["errors"]
            check(any("max_body_bytes" in e for e in errors), errors)

            def reported_rejection():
                r = hub2.get("/config/dev-a/report", OP)
                return r.status == 200 and r.json()["config"]["state"] == "rejected"
            eventually(reported_rejection, 10 * SLOW, 0.1, "the refusal reported to the hub")
            # Version 3 is loadable again.
            hub2.request("PUT", "/config/dev-a", OP, b"metrics:\n  node_load1: false\n"
                                                     b"  node_load5: false\n")
            eventually(lambda: config_state(a) == "applied" and not has_family(a, "node_load5"),
                       10 * SLOW, 0.1, "version 3 applied")
            # The hub goes down: the agent keeps what it runs, and says so.
            hub2.stop_checked()
            eventually(lambda: "last_error" in a.get_json("/status")["config_server"],
                       10 * SLOW, 0.1, "the outage noticed")
            check(not has_family(a, "node_load5"), "the agent dropped the served configuration")
            check(a.get_json("/metrics/list")["source"] == "server", "source while the hub is down")
    finally:
        hub2.kill()


if __name__ == "__main__":
    try:
        harness.main(globals())
    finally:
        if HUB is not None:
            HUB.stop_checked()
