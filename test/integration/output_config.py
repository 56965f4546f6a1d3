"""Configuration files with InfluxDB outputs for the output and spool tests:
fast flush and retry times so that every scenario runs in seconds."""

import json
import os

from harness import make_tmpdir, write_file


def yaml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(v)  # a JSON string is a YAML double-quoted scalar


def write_config(outputs, device_id, interval, **defaults):
    """A config file with these outputs (dicts of keys over `defaults`);
    version 1 outputs write to database `edge` unless told otherwise."""
    text = f"""\
device_id: {device_id}
collect:
  interval: {interval}
spool:
  commit_interval: 100ms
outputs:
  stop_timeout: 2s
  influxdb:
"""
    for o in outputs:
        keys = {"flush_interval": "200ms", "retry_initial": "200ms", "retry_max": "1s"}
        keys.update(defaults)
        if o.get("version", 1) == 1:
            keys["database"] = "edge"
        keys.update(o)
        for i, (k, v) in enumerate(keys.items()):
            text += ("    - " if i == 0 else "      ") + f"{k}: {yaml_value(v)}\n"
    return write_file(os.path.join(make_tmpdir("edgemon-cfg-"), "edgemon.yaml"), text)
