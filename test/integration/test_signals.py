"""Signals and systemd: SIGHUP reloads (and refuses a broken file), SIGTERM
and SIGINT stop promptly with exit 0 even with a slow client connected, and
sd_notify sends READY=1, WATCHDOG=1 and STOPPING=1."""

import json
import os
import signal
import socket
import time

import harness
from harness import check, connect, Daemon, make_tmpdir, SLOW, write_file


def status(d):
    return d.get_json("/status")


def test_sighup_rejects_broken_config_then_reloads():
    config = write_file(os.path.join(make_tmpdir(), "edgemon.yaml"), "collect:\n  interval: 15s\n")
    with Daemon(config_path=config) as d:
        before = status(d)
        check(before.get("collect_interval_seconds") == 15,
              f"/status collect_interval_seconds {before.get('collect_interval_seconds')!r}, "
              f"expected 15")
        check(before.get("config_path") and os.path.samefile(before["config_path"], config),
              f"/status config_path {before.get('config_path')!r}, expected {config}")

        for broken in ("collect:\n  interval: [unclosed\n", "collect:\n  interval: 5ms\n",
                       "collect:\n  intervall: 2s\n"):
            write_file(config, broken)
            start = d.log.count()
            os.kill(d.pid, signal.SIGHUP)
            i, event = d.log.wait_event("reload_rejected", 5 * SLOW, start)
            check(event is not None, f"no reload_rejected event for:\n{broken}\n"
                                     f"log tail:\n{d.log.tail(10)}")
            check(d.running(), "daemon died on SIGHUP with a broken config")
            text = json.dumps(event)
            check(config in text, f"reload_rejected does not name the file: {event}")
            after = status(d)
            for key in ("collect_interval_seconds", "config_path", "listeners", "device_id",
                        "version"):
                check(after.get(key) == before.get(key),
                      f"/status {key} changed after a rejected reload: "
                      f"{before.get(key)!r} -> {after.get(key)!r}")
            _, ok = d.log.wait_event("reloaded", 0, start)
            check(ok is None, f"'reloaded' logged for a broken file: {ok}")

        write_file(config, "collect:\n  interval: 2s\n")
        start = d.log.count()
        os.kill(d.pid, signal.SIGHUP)
        _, event = d.log.wait_event("reloaded", 5 * SLOW, start)
        check(event is not None, f"no 'reloaded' event; log tail:\n{d.log.tail(10)}")
        after = status(d)
        check(after.get("collect_interval_seconds") == 2,
              f"/status collect_interval_seconds {after.get('collect_interval_seconds')!r} "
              f"after reloading interval 2s")
        check(after.get("listeners") == before.get("listeners"),
              f"listeners changed on reload: {before.get('listeners')} -> {after.get('listeners')}")
        took = d.stop_checked()
        check(took < 5 * SLOW, f"SIGTERM took {took:.2f}s")


def test_reload_applies_http_settings_and_keeps_flags():
    config = write_file(os.path.join(make_tmpdir(), "edgemon.yaml"), "log:\n  level: info\n")
    with Daemon(config_path=config, sets=["collect.interval=1s"]) as d:
        write_file(config, "collect:\n  interval: 30s\n"
                           "http:\n  limits:\n    max_connections: 2\n")
        start = d.log.count()
        os.kill(d.pid, signal.SIGHUP)
        _, event = d.log.wait_event("reloaded", 5 * SLOW, start)
        check(event is not None, f"no 'reloaded'; log tail:\n{d.log.tail(10)}")
        # Flags override the file, on every load.
        interval = status(d).get("collect_interval_seconds")
        check(interval == 1, f"--set collect.interval=1s lost on reload: interval {interval}")
        held = []
        try:
            statuses = []
            for _ in range(3):
                s = connect(d.host, d.port)
                held.append(s)
                s.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
                rs = harness.recv_responses(s, 1, 5 * SLOW)
                statuses.append(rs[0].status if rs else None)
            check(statuses == [200, 200, 503],
                  f"max_connections 2 after reload: statuses {statuses}, expected [200, 200, 503]")
        finally:
            for s in held:
                s.close()


def test_sighup_reopens_log_file():
    state = make_tmpdir()
    log_path = os.path.join(state, "edgemon.log")
    config = write_file(os.path.join(state, "edgemon.yaml"), f"log:\n  file: {log_path}\n")
    p = harness.spawn([harness.BIN, "run", "-c", config, "--listen", "127.0.0.1:0",
                       "--state-dir", state])
    try:
        ready = harness.eventually(lambda: file_event(log_path, "ready"), 10 * SLOW,
                                   what="ready line in the log file")
        host, port = harness.parse_listen(ready["listen"])[0]
        rotated = log_path + ".moved"
        os.rename(log_path, rotated)
        os.kill(p.pid, signal.SIGHUP)
        harness.eventually(lambda: os.path.exists(log_path), 5 * SLOW,
                           what="log file reopened after SIGHUP")
        harness.eventually(lambda: file_event(log_path, "reloaded") or
                           file_event(rotated, "reloaded"), 5 * SLOW,
                           what="'reloaded' logged after SIGHUP")
        # A second reload certainly logs into the new file.
        os.kill(p.pid, signal.SIGHUP)
        harness.eventually(lambda: any_json_line(log_path), 5 * SLOW,
                           what="a log line in the reopened file")
        r = harness.http_request(host, port, "GET", "/health")
        check(r.status == 200, f"/health after reopen: {r.status}")
    finally:
        rc = harness.stop_process(p, timeout=10 * SLOW)
    check(rc == 0, f"exit {rc} on SIGTERM; stderr: {p.stderr.read()[-2000:]!r}")
    check(file_event(rotated, "ready") is not None, "the rotated log lost its ready line")


def any_json_line(path):
    try:
        with open(path, encoding="utf-8") as f:
            return any(line.startswith("{") for line in f)
    except FileNotFoundError:
        return False


def file_event(path, name):
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if isinstance(e, dict) and e.get("event") == name:
                    return e
    except FileNotFoundError:
        return None
    return None


def test_sigterm_and_sigint_exit_promptly():
    for sig in (signal.SIGTERM, signal.SIGINT):
        d = Daemon().start()
        check(d.get("/health").status == 200, "/health before stop")
        rc, took = d.stop(sig, timeout=10)
        print(f"{signal.Signals(sig).name}: exit {rc} after {took:.3f}s")
        check(rc == 0, f"exit {rc} on {signal.Signals(sig).name}; stderr:\n{d.log.tail()}")
        check(took < 5 * SLOW, f"{signal.Signals(sig).name} took {took:.2f}s (bound 5s)")


def test_sigterm_with_slow_client():
    shutdown = 1.0
    d = Daemon(sets=[f"http.limits.shutdown_timeout={int(shutdown * 1000)}ms"]).start()
    partial = connect(d.host, d.port)
    partial.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    idle = connect(d.host, d.port)
    idle.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    check(harness.recv_responses(idle, 1, 5 * SLOW), "no response on the keep-alive connection")
    try:
        rc, took = d.stop(signal.SIGTERM, timeout=shutdown + 10)
        print(f"exit {rc} after {took:.3f}s with a slow and an idle client connected")
        check(rc == 0, f"exit {rc}; stderr:\n{d.log.tail()}")
        bound = shutdown + 2 * SLOW
        check(took <= bound, f"SIGTERM with a slow client took {took:.2f}s (bound {bound:.1f}s)")
        for s in (partial, idle):
            s.settimeout(2)
            try:
                rest = s.recv(65536)
            except ConnectionResetError:
                rest = b""
            check(rest == b"" or rest.startswith(b"HTTP/1.1 "),
                  f"connection after shutdown sent {rest[:100]!r}")
    finally:
        partial.close()
        idle.close()


def test_sd_notify():
    d0 = make_tmpdir()
    path = os.path.join(d0, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    messages = []  # (monotonic time, set of KEY=VALUE lines)

    def drain(until, stop_when=None):
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return False
            sock.settimeout(left)
            try:
                data = sock.recv(4096)
            except socket.timeout:
                return False
            messages.append((time.monotonic(), set(data.decode().split("\n")) - {""}))
            if stop_when and stop_when(messages[-1][1]):
                return True

    try:
        d = Daemon(env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"})
        d.start()
        got_ready = any("READY=1" in m for _, m in messages) or drain(
            time.monotonic() + 5 * SLOW, lambda m: "READY=1" in m)
        check(got_ready, f"no READY=1; got {messages}")
        t_ready = next(t for t, m in messages if "READY=1" in m)
        check(d.get("/health").status == 200, "/health after READY=1")
        drain(t_ready + 1.5)
        watchdogs = [t for t, m in messages if "WATCHDOG=1" in m and t <= t_ready + 1.5]
        print(f"{len(watchdogs)} WATCHDOG=1 in the 1.5 s after READY=1")
        check(len(watchdogs) >= 2, f"only {len(watchdogs)} WATCHDOG=1 in 1.5 s with "
                                   f"WATCHDOG_USEC=400000")
        gaps = [b - a for a, b in zip(watchdogs, watchdogs[1:])]
        check(not gaps or max(gaps) < 0.4 * SLOW,
              f"watchdog gaps {gaps}: must stay under WATCHDOG_USEC (0.4 s)")
        os.kill(d.pid, signal.SIGTERM)
        stopping = drain(time.monotonic() + 5 * SLOW, lambda m: "STOPPING=1" in m)
        check(stopping, f"no STOPPING=1 after SIGTERM; last messages {messages[-3:]}")
        # Wait, do not signal again: this SIGTERM is already being handled.
        rc = d.proc.wait(timeout=10 * SLOW)
        d.log.join()
        check(rc == 0, f"exit {rc} after SIGTERM; stderr:\n{d.log.tail()}")
    finally:
        sock.close()


if __name__ == "__main__":
    harness.main(globals())
