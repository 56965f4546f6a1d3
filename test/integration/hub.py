"""Shared pieces of the hub tests: a hub daemon's config, pushing to it, and
reading what reached the real influxd behind it."""

import gzip
import json
import os

import harness
from harness import make_tmpdir, write_file

DB = "fleet"


def hub_config(influx_url=None, tokens=None, extra="", ingest_extra=""):
    """A hub that forwards to influxd (when given) and collects slowly, so its
    own points do not get in the way of counting pushed ones."""
    out = ""
    if influx_url:
        out = f"""\
outputs:
  influxdb:
    - name: central
      url: {influx_url}
      database: {DB}
      schema: system_metrics
      flush_interval: 200ms
      retry_initial: 200ms
      retry_max: 1s
"""
    tok = ""
    if tokens:
        tok = "  tokens:\n" + "".join(f"    {json.dumps(k)}: {json.dumps(v)}\n"
                                       for k, v in tokens.items())
    return f"""\
device_id: the-hub
collect:
  interval: 1h
spool:
  commit_interval: 100ms
ingest:
  enabled: true
{tok}{ingest_extra}{out}{extra}"""


def write_config(text):
    return write_file(os.path.join(make_tmpdir("edgemon-cfg-"), "edgemon.yaml"), text)


def post(daemon, path, body, headers=None, compress=False, timeout=10.0):
    if isinstance(body, str):
        body = body.encode("utf-8")
    h = dict(headers or {})
    if compress:
        body = gzip.compress(body)
        h["Content-Encoding"] = "gzip"
    return daemon.request("POST", path, h, body, timeout)


def post_json(daemon, payload, token=None, **kw):
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return post(daemon, "/metrics", body, h, **kw)


def payload(device="edge-1", ts=1736847690.5, **over):
    p = {
        "device_id": device,
        "hostname": device + ".lan",
        "timestamp": ts,
        "cpu_total": 12.5,
        "cpu_per_core": [10.0, 15.0],
        "memory_percent": 41.25,
        "memory_used": 1673527296,
        "memory_total": 4062691328,
        "disk_percent": 55.0,
        "disk_used": 16000000000,
        "disk_total": 32000000000,
        "heartbeat": 42,
        "device_type": "jetson",
        "tags": {"location": "lab", "zone": "a"},
    }
    p.update(over)
    return p


def count(server, measurement, field="*", where=""):
    rows = server.query(DB, f'SELECT count("{field}") FROM "{measurement}" {where}'
                        if field != "*" else f'SELECT count(*) FROM "{measurement}" {where}')
    if not rows:
        return 0
    cols = rows[0]["columns"]
    vals = rows[0]["values"][0]
    return max(int(v) for c, v in zip(cols, vals) if c != "time" and v is not None)


def ingest_counter(daemon, name, endpoint):
    import re
    m = re.search(r'^%s\{endpoint="%s"\} (\S+)$' % (name, endpoint), daemon.metrics(), re.M)
    return int(float(m.group(1))) if m else 0
