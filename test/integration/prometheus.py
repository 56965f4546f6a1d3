"""A real Prometheus (Debian's `prometheus`, 2.42) as a remote-write
receiver for the integration tests: started with no scrape targets on a free
loopback port with its TSDB in a temp dir, written to over /api/v1/write,
read back over /api/v1/query and /api/v1/series, stopped by its PID."""

import json
import os
import subprocess
import urllib.parse

import harness
from harness import check, eventually, free_port, make_tmpdir, spawn, stop_process, write_file

# What a remote-write 1.0 sender puts on every request (the spec's MUSTs).
WRITE_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
    "User-Agent": "edgemon-integration-test",
}


class Prometheus:
    def __init__(self):
        self.exe = harness.require_binary("prometheus")
        self.dir = make_tmpdir("edgemon-prom-rw-")
        # No scrape_configs: every series in the TSDB came through /api/v1/write.
        self.config = write_file(os.path.join(self.dir, "prometheus.yml"),
                                 "global: {evaluation_interval: 1m}\n")
        self.port = None
        self.proc = None
        self.data = None  # the TSDB directory, once started

    def start(self, attempts=3, port=None):
        """Starts on a fresh free port (retried if another process took it); returns self.

        `port` restarts on the port given (a sender's URL names it) and keeps
        the TSDB of the previous start, so that a test can take the receiver
        away and bring the same one back."""
        last = ""
        for i in range(1 if port is not None else attempts):
            listen = port if port is not None else free_port()
            data = self.data or f"{self.dir}/data{i}"
            p = spawn([self.exe, f"--config.file={self.config}",
                       f"--storage.tsdb.path={data}",
                       f"--web.listen-address=127.0.0.1:{listen}",
                       "--web.enable-remote-write-receiver", "--log.level=warn"],
                      stderr=subprocess.PIPE)

            def ready():
                if p.poll() is not None:
                    return "exited"
                try:
                    status = harness.http_request("127.0.0.1", listen, "GET", "/-/ready",
                                                  timeout=2).status
                except OSError:
                    return None
                # 503 until the TSDB is open.
                return status if status == 200 else None

            state = eventually(ready, 30 * harness.SLOW, what="prometheus /-/ready")
            if state == 200:
                self.port, self.proc, self.data = listen, p, data
                return self
            stop_process(p, timeout=10)
            last = f"/-/ready gave {state}: " + p.stderr.read().decode("utf-8", "replace")[-800:]
        raise AssertionError(f"prometheus did not start: {last}")

    def stop(self):
        """SIGTERM by PID; Prometheus shuts its TSDB down cleanly and exits 0."""
        rc = stop_process(self.proc, timeout=30)
        self.proc = None
        check(rc == 0, f"prometheus exited {rc} on SIGTERM")

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        if self.proc is not None:
            stop_process(self.proc, timeout=30)
            self.proc = None

    def write(self, body, headers=None):
        """POSTs a remote-write body as it is; returns the harness Response."""
        h = dict(WRITE_HEADERS)
        h.update(headers or {})
        return harness.http_request("127.0.0.1", self.port, "POST", "/api/v1/write",
                                    headers=h, body=body, timeout=30)

    def _api(self, path, params):
        r = harness.http_request("127.0.0.1", self.port, "GET",
                                 path + "?" + urllib.parse.urlencode(params, doseq=True),
                                 timeout=30)
        check(r.status == 200, f"prometheus {path} {params}: {r.status} {r.body[:300]!r}")
        doc = json.loads(r.body)
        check(doc.get("status") == "success", f"prometheus {path} {params}: {doc}")
        return doc["data"]

    def query(self, promql, at=None):
        """The result list of an instant query (at `at` seconds, else now).

        A range selector (`m[5m]`) gives every stored sample as
        {"metric": labels, "values": [[seconds, "value"], ...]}, values as
        Prometheus prints them ("NaN", "+Inf", shortest round-trip digits).
        """
        params = {"query": promql}
        if at is not None:
            params["time"] = f"{at:.3f}"
        return self._api("/api/v1/query", params)["result"]

    def series(self, match, start=None, end=None):
        """The label sets of every series matching `match` (one selector or a list)."""
        params = {"match[]": [match] if isinstance(match, str) else list(match)}
        if start is not None:
            params["start"] = f"{start:.3f}"
        if end is not None:
            params["end"] = f"{end:.3f}"
        return self._api("/api/v1/series", params)
