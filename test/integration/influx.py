"""A real InfluxDB 1.6 (Debian's influxd) for the integration tests: started
from a config file on free loopback ports with its data in a temp dir,
stoppable and restartable on the same port and data (an outage), queried
over /query. With `tls` (certificate, key and the CA that signed them) it
serves https only."""

import http.client
import os
import ssl
import subprocess
import urllib.parse

import harness
from harness import check, eventually, free_port, make_tmpdir, spawn, stop_process, write_file

CONF = """\
reporting-enabled = false
bind-address = "127.0.0.1:{rpc}"
[meta]
  dir = "{d}/meta"
[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:{port}"
  log-enabled = false
  max-body-size = {max_body}
{https}[logging]
  level = "warn"
"""


class Influxd:
    def __init__(self, max_body=25000000, tls=None):
        self.exe = harness.require_binary("influxd")
        self.dir = make_tmpdir("edgemon-influx-")
        self.max_body = max_body
        self.tls = tls  # (certificate, key, ca) PEM paths
        self.port = None
        self.proc = None

    def _https_section(self):
        if not self.tls:
            return ""
        cert, key, _ = self.tls
        return (f'  https-enabled = true\n  https-certificate = "{cert}"\n'
                f'  https-private-key = "{key}"\n')

    def request(self, method, path, body=None, headers=None, timeout=5.0):
        if not self.tls:
            return harness.http_request("127.0.0.1", self.port, method, path, body=body,
                                        headers=headers, timeout=timeout)
        context = ssl.create_default_context(cafile=self.tls[2])
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                           context=context)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            return harness.Response(r.status, r.reason,
                                    {k.lower(): v for k, v in r.getheaders()}, data)
        finally:
            conn.close()

    def start(self, attempts=3):
        """Starts (or restarts on the same port and data); returns self."""
        last = ""
        for _ in range(attempts):
            if self.port is None or last:
                self.port, rpc = free_port(), free_port()
                self.conf = write_file(os.path.join(self.dir, "influxdb.conf"), CONF.format(
                    d=self.dir, port=self.port, rpc=rpc, max_body=self.max_body,
                    https=self._https_section()))
            p = spawn([self.exe, "run", "-config", self.conf], stderr=subprocess.PIPE)

            def pinged():
                if p.poll() is not None:
                    return "exited"
                try:
                    return self.request("GET", "/ping", timeout=2).status
                except OSError:
                    return None

            state = eventually(pinged, 15 * harness.SLOW, what="influxd /ping")
            if state == 204:
                self.proc = p
                return self
            stop_process(p, timeout=5)
            last = f"/ping gave {state}: " + p.stderr.read().decode("utf-8", "replace")[-500:]
        raise AssertionError(f"influxd did not start: {last}")

    def stop(self):
        rc = stop_process(self.proc, timeout=15)
        check(rc == 0, f"influxd exited {rc} on SIGTERM")
        self.proc = None

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def post_query(self, q):
        r = self.request("POST", "/query", body=urllib.parse.urlencode({"q": q}),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        check(r.status == 200 and "error" not in r.body.decode(), f"{q}: {r}")

    def create_database(self, db):
        self.post_query(f"CREATE DATABASE {db}")

    def write(self, db, body, precision="ns"):
        return self.request("POST", f"/write?db={db}&precision={precision}",
                            body=body.encode("utf-8"), timeout=30)

    def query(self, db, q, epoch="ns"):
        params = urllib.parse.urlencode({"db": db, "q": q, "epoch": epoch})
        r = self.request("GET", "/query?" + params, timeout=30)
        check(r.status == 200, f"query {q!r}: {r.status} {r.body[:300]!r}")
        result = r.json()["results"][0]
        check("error" not in result, f"query {q!r}: {result}")
        return result.get("series", [])

    def times(self, db, measurement, field, where=""):
        """Every timestamp stored for one field of a measurement (all series)."""
        rows = []
        for s in self.query(db, f'SELECT "{field}" FROM "{measurement}" {where}'):
            rows += [v[0] for v in s["values"]]
        return rows

    def measurements(self, db):
        return sorted(v[0] for s in self.query(db, "SHOW MEASUREMENTS") for v in s["values"])
