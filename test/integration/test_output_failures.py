"""edgemon's InfluxDB output against a scripted fake write endpoint
(fake_influx.FakeInflux), for the answers a real influxd cannot be made to
give on demand: a 400 (dead-lettered, never resent), 500s (backoff within
the bounds of its formula, no retry storm, nothing lost or doubled after),
429 with Retry-After, a server that never answers (the loop stays
responsive), 413 (split until it fits), 401 (failing, retried only every
retry_max), and the exact shape of v1 and v2 write requests.

Every line the daemon writes is unique (series + timestamp), so "exactly
once" is checked line by line: across the requests answered 2xx no line
appears twice, and every line of a failed request appears in one of them."""

import base64
import collections
import json
import os
import re
import time

import harness
import output_config
from fake_influx import FakeInflux
from harness import Daemon, check, eventually, make_tmpdir, run_cli

ERROR_JSON = {"Content-Type": "application/json"}


def write_config(outputs, interval="500ms"):
    return output_config.write_config(outputs, "it-failures", interval)


def output_status(daemon, name="main"):
    for o in daemon.get_json("/status").get("outputs", []):
        if o["name"] == name:
            return o
    raise AssertionError(f"no output {name!r} in /status")


def lines_of(requests):
    return [line for r in requests for line in r.lines]


def check_no_duplicates(lines, what):
    dup = [line for line, n in collections.Counter(lines).items() if n > 1]
    check(not dup, f"{len(dup)} lines {what} more than once, e.g. {dup[:2]}")


def wait_drained(daemon, fake, timeout=15.0):
    """Until nothing is queued and the daemon counts as sent exactly the
    lines the fake answered 2xx (a moment between two rounds)."""
    def drained():
        st = output_status(daemon)
        delivered = len(lines_of(fake.answered(204)))
        return st if (st["queued"]["points"] == 0 and st["sent_points"] == delivered
                      and delivered > 0) else None
    return eventually(drained, timeout * harness.SLOW, interval=0.05,
                      what="queue drained and sent_points == lines answered 204")


def check_failed_lines_delivered_once(fake, failed_status):
    failed = lines_of(fake.answered(failed_status))
    delivered = lines_of(fake.answered(204))
    check(failed, f"no request was answered {failed_status}")
    check_no_duplicates(delivered, "answered 204")
    missing = set(failed) - set(delivered)
    check(not missing, f"{len(missing)} lines of the requests answered {failed_status} never "
                       f"arrived in a 204 request, e.g. {sorted(missing)[:2]}")
    return failed, delivered


def backoff_bounds(window, initial, maximum, overhead):
    """Fewest and most requests that fit in `window` seconds after the first
    when each wait is drawn from [d/2, d], d doubling from initial to
    maximum: fewest with every wait at d plus `overhead` per request, most
    with every wait at d/2."""
    def fit(pick, extra):
        t, d, n = 0.0, initial, 1
        while True:
            t += pick(d) + extra
            if t >= window:
                return n
            n += 1
            d = min(d * 2, maximum)
    return fit(lambda d: d, overhead), fit(lambda d: d / 2, 0.0)


def spool_cli(daemon, *args):
    path = os.path.join(daemon.state_dir, "spool.db")
    r = run_cli(["spool", "--spool", path, *args])
    check(r.returncode == 0, f"edgemon spool {' '.join(args)}: rc {r.returncode}: {r.stderr}")
    return r.stdout


def test_400_dead_letters_the_batch_and_the_queue_flows():
    fake = FakeInflux(lambda i, r: (400, ERROR_JSON,
                                    b'{"error":"partial write: field type conflict"}')
                      if i == 0 else (204, {}, b""))
    try:
        with Daemon(config_path=write_config([{"name": "main", "url": fake.url}])) as d:
            def flowing():
                st = output_status(d)
                return st if (st["dead_lettered_points"] > 0 and len(fake.answered(204)) >= 3
                              and st["sent_points"] > 0) else None
            st = eventually(flowing, 15 * harness.SLOW, interval=0.05,
                            what="a dead letter, then three delivered requests")
            first = fake.snapshot()[0]
            n0 = len(first.lines)
            check(first.status == 400 and n0 > 0, f"request 0: {first.status}, {n0} lines")
            check(st["dead_lettered_points"] == n0,
                  f"dead_lettered_points {st['dead_lettered_points']}, request 0 had {n0} lines")
            check(st["dead_letter_points_stored"] == n0,
                  f"dead_letter_points_stored {st['dead_letter_points_stored']} != {n0}")
            check(st["state"] == "ok", f"state {st['state']} after 204s, expected ok")
            check(st["retries"] == 0, f"a 400 must not be retried; retries {st['retries']}")
            later = fake.snapshot()[1:]
            resent = set(first.lines) & set(lines_of(later))
            check(not resent, f"{len(resent)} lines of the rejected request were sent again")
            check(all(r.status == 204 and r.lines for r in later[:3]),
                  "requests after the 400 must carry new lines and be accepted")
            check_no_duplicates(lines_of(fake.answered(204)), "answered 204")

            listing = spool_cli(d, "dead-letter", "list").splitlines()
            check(listing and listing[0].split()[:2] == ["ID", "BATCH"],
                  f"dead-letter list header: {listing[:1]}")
            rows = [row.split(None, 8) for row in listing[1:]]
            check(rows, "dead-letter list shows nothing")
            check(all(r[2] == "main" and r[7] == "400" and "field type conflict" in r[8]
                      for r in rows), f"dead-letter rows: {listing}")
            fam = harness.parse_exposition(d.metrics())
            check(harness.sample_value(fam, "edgemon_output_dead_lettered_points_total",
                                       {"output": "main"}) == n0,
                  "edgemon_output_dead_lettered_points_total != lines of the rejected request")
            check(sum(int(r[5]) for r in rows) == n0,
                  f"dead letters hold {sum(int(r[5]) for r in rows)} points, expected {n0}")
            shown = []
            for r in rows:
                text = spool_cli(d, "dead-letter", "show", r[0])
                check("status: 400" in text, f"dead-letter show {r[0]}: {text[:300]}")
                shown += [x for x in text.split("\n\n", 1)[1].split("\n") if x]
            check(shown == first.lines, "dead letters' bodies are not the rejected request's lines")

            # Requeued by the operator on the live file: sent once more, once.
            out = spool_cli(d, "dead-letter", "retry")
            check(out.startswith(f"requeued {len(rows)} dead letter"), f"retry said {out!r}")

            def requeued_sent():
                st = output_status(d)
                got = lines_of(fake.answered(204))
                return st if set(first.lines) <= set(got) and \
                    st["dead_letter_points_stored"] == 0 else None
            eventually(requeued_sent, 10 * harness.SLOW, interval=0.05,
                       what="the requeued dead letters delivered")
            check_no_duplicates(lines_of(fake.answered(204)), "answered 204")
    finally:
        fake.close()


def test_500_backs_off_without_a_storm_and_loses_nothing():
    window, initial, maximum = 6.0, 0.2, 1.0
    fake = FakeInflux(lambda i, r: (500, ERROR_JSON, b'{"error":"engine on fire"}'))
    try:
        cfg = write_config([{"name": "main", "url": fake.url, "retry_initial": "200ms",
                             "retry_max": "1s"}])
        with Daemon(config_path=cfg) as d:
            eventually(fake.count, 10 * harness.SLOW, what="the first write request")
            t0 = fake.snapshot()[0].at
            time.sleep(max(0.0, t0 + window - time.monotonic()))  # the outage itself
            st = output_status(d)
            fam = harness.parse_exposition(d.metrics())
            fake.answer = lambda i, r: (204, {}, b"")
            n = sum(1 for r in fake.snapshot() if r.at < t0 + window)
            main = {"output": "main"}
            check(harness.sample_value(fam, "edgemon_output_state",
                                       {**main, "state": "retrying"}) == 1,
                  "edgemon_output_state{state=retrying} is not 1 during the 500s")
            check(harness.sample_value(fam, "edgemon_output_retries_total", main, 0) >= n - 1,
                  "edgemon_output_retries_total does not count the 500s")
            check(harness.sample_value(fam, "edgemon_output_queued_points", main, 0) > 0,
                  "edgemon_output_queued_points is 0 during the outage")
            # Under the sanitizer each request/answer cycle costs more time.
            lo, hi = backoff_bounds(window, initial, maximum, overhead=0.05 * harness.SLOW)
            check(lo <= n <= hi, f"{n} requests in {window}s of 500s; the backoff formula "
                                 f"allows {lo}..{hi}")
            check(st["state"] == "retrying", f"state {st['state']}, expected retrying")
            err = st["last_error"] or ""
            check("500" in err and "engine on fire" in err, f"last_error {err!r}")
            check(st["retries"] >= n - 1 and st["failed_requests"] >= n - 1,
                  f"retries {st['retries']}, failed_requests {st['failed_requests']}, {n} 500s")

            st = wait_drained(d, fake)
            check(st["state"] == "ok", f"state {st['state']} after recovery, expected ok")
            failed, delivered = check_failed_lines_delivered_once(fake, 500)
            last_500 = fake.answered(500)[-1].lines
            check(delivered[:len(last_500)] == last_500,
                  "after the outage the backlog was not sent oldest first")
            print(f"  {n} requests in {window}s (allowed {lo}..{hi}); {len(set(failed))} lines "
                  f"retried, {len(delivered)} delivered")
    finally:
        fake.close()


def test_429_retry_after_is_honoured():
    fake = FakeInflux(lambda i, r: (429, {"Retry-After": "2", **ERROR_JSON},
                                    b'{"error":"slow down"}') if i == 0 else (204, {}, b""))
    try:
        cfg = write_config([{"name": "main", "url": fake.url, "retry_initial": "200ms",
                             "retry_max": "1s"}])
        with Daemon(config_path=cfg) as d:
            eventually(lambda: fake.count() >= 2, 15 * harness.SLOW,
                       what="the request after the 429")
            first, second = fake.snapshot()[:2]
            gap = second.at - first.at
            upper = 4.0 if not harness.SANITIZE else 2.0 + 2.0 * harness.SLOW
            check(1.9 <= gap < upper, f"gap after 429 Retry-After: 2 was {gap:.2f}s "
                                      f"(expected 1.9..{upper:.1f})")
            check(second.lines[:len(first.lines)] == first.lines,
                  "the retry does not start with the 429'd lines, in order")
            st = wait_drained(d, fake)
            check(st["retries"] == 1, f"retries {st['retries']}, expected 1")
            check_failed_lines_delivered_once(fake, 429)
            print(f"  gap {gap:.2f}s")
    finally:
        fake.close()


def test_hanging_server_times_out_and_the_loop_stays_responsive():
    fake = FakeInflux(lambda i, r: "hang")
    try:
        cfg = write_config([{"name": "main", "url": fake.url, "timeout": "500ms",
                             "retry_initial": "200ms", "retry_max": "1s"}])
        with Daemon(config_path=cfg) as d:
            eventually(fake.count, 10 * harness.SLOW, what="the first write request")
            worst = {"/metrics": 0.0, "/health": 0.0}
            for _ in range(20):
                for path in worst:
                    t = time.monotonic()
                    r = d.get(path)
                    worst[path] = max(worst[path], time.monotonic() - t)
                    check(r.status == 200, f"GET {path} during the hang: {r.status}")
            limit = 0.25 * harness.SLOW
            check(max(worst.values()) < limit,
                  f"slowest answers while the output hangs: {worst} (limit {limit}s)")

            def retried():
                st = output_status(d)
                return st if fake.count() >= 3 and st["retries"] >= 2 else None
            st = eventually(retried, 10 * harness.SLOW, interval=0.05,
                            what="two retries after timeouts")
            check(st["state"] == "retrying", f"state {st['state']}, expected retrying")
            check("timed out" in (st["last_error"] or "").lower(),
                  f"last_error {st['last_error']!r} does not say it timed out")
            hung = fake.count()
            fake.answer = lambda i, r: (204, {}, b"")
            st = wait_drained(d, fake)
            check(st["state"] == "ok", f"state {st['state']} after recovery")
            check_failed_lines_delivered_once(fake, "hang")
            print(f"  {hung} hung requests; slowest answers {worst}")
    finally:
        fake.close()


def test_413_splits_until_every_line_fits():
    limit = 15
    fake = FakeInflux(lambda i, r: (413, ERROR_JSON, b'{"error":"Request Entity Too Large"}')
                      if len(r.lines) > limit else (204, {}, b""))
    try:
        cfg = write_config([{"name": "main", "url": fake.url, "schema": "host"}])
        with Daemon(config_path=cfg) as d:
            def flowed():
                return len(lines_of(fake.answered(204))) >= 4 * limit
            eventually(flowed, 15 * harness.SLOW, interval=0.05, what="lines delivered in parts")
            st = wait_drained(d, fake)
            too_large = fake.answered(413)
            check(too_large, "no request was larger than the limit: the test proves nothing")
            check(st["splits"] == len(too_large),
                  f"splits {st['splits']}, but {len(too_large)} requests were answered 413")
            check(st["dead_lettered_points"] == 0, f"dead-lettered {st['dead_lettered_points']}")
            check(all(len(r.lines) <= limit for r in fake.answered(204)), "a 204 over the limit?")
            _, delivered = check_failed_lines_delivered_once(fake, 413)
            first = too_large[0].lines
            pos = [delivered.index(x) for x in first]
            check(pos == sorted(pos), "the split parts of a batch arrived out of order")
            print(f"  {len(too_large)} requests answered 413, {len(fake.answered(204))} "
                  f"accepted, {len(delivered)} lines")
    finally:
        fake.close()


def test_401_fails_and_retries_only_every_retry_max():
    fake = FakeInflux(lambda i, r: (401, ERROR_JSON, b'{"error":"authorization failed"}'))
    try:
        cfg = write_config([{"name": "main", "url": fake.url, "retry_initial": "200ms",
                             "retry_max": "3s"}])
        with Daemon(config_path=cfg) as d:
            eventually(fake.count, 10 * harness.SLOW, what="the first write request")
            t0 = fake.snapshot()[0].at
            st = eventually(lambda: (lambda s: s if s["state"] == "failing" else None)(
                output_status(d)), 5 * harness.SLOW, what="state failing")
            err = st["last_error"] or ""
            check("401" in err and "authorization failed" in err, f"last_error {err!r}")
            q1 = st["queued"]["points"]
            time.sleep(max(0.0, t0 + 2.0 - time.monotonic()))  # quiet: no retry before 3s
            check(fake.count() == 1, f"{fake.count()} requests within 2s of a 401 "
                                     f"(retry_max 3s): expected 1")
            eventually(lambda: fake.count() >= 2, 3 * harness.SLOW, what="the retry at retry_max")
            gap = fake.snapshot()[1].at - t0
            check(gap >= 2.9, f"401 retried after {gap:.2f}s, before retry_max 3s")
            st = output_status(d)
            check(st["state"] == "failing", f"state {st['state']} after the second 401")
            check(st["queued"]["points"] > q1,
                  f"queued points {q1} -> {st['queued']['points']}: points must keep spooling")
            check(st["sent_points"] == 0 and st["dead_lettered_points"] == 0,
                  f"sent {st['sent_points']}, dead-lettered {st['dead_lettered_points']}")
            print(f"  retry after {gap:.2f}s; queued {q1} -> {st['queued']['points']}")
    finally:
        fake.close()


def test_sigterm_during_a_hung_request_keeps_its_batch():
    # The server hangs with a long output timeout: SIGTERM must not wait for
    # it past outputs.stop_timeout, and the batch in flight stays spooled.
    fake = FakeInflux(lambda i, r: "hang")
    state = make_tmpdir("edgemon-state-")
    try:
        cfg = write_config([{"name": "main", "url": fake.url, "timeout": "30s"}])
        d = Daemon(config_path=cfg, state_dir=state).start()
        eventually(fake.count, 10 * harness.SLOW, what="the first write request")
        rc, took = d.stop()
        check(rc == 0, f"exit code {rc} on SIGTERM during a hung request\n{d.log.tail()}")
        check(d.log.wait_event("stop_flush_deadline", 0)[1] is not None,
              "no stop_flush_deadline logged")
        # The loop ends by itself once the outputs gave up at stop_timeout,
        # not at the daemon's last-resort deadline.
        check(took < 2.0 + 1.0 * harness.SLOW and
              d.log.wait_event("stop_deadline_passed", 0)[1] is None,
              f"SIGTERM took {took:.1f}s with stop_timeout 2s (stop_deadline_passed "
              f"logged: the loop did not end by itself)")
        hung = fake.snapshot()[0].lines
        fake.answer = lambda i, r: (204, {}, b"")
        with Daemon(config_path=cfg, state_dir=state) as b:
            eventually(lambda: set(hung) <= set(lines_of(fake.answered(204))),
                       10 * harness.SLOW, interval=0.05, what="the kept batch delivered")
            wait_drained(b, fake)
            delivered = lines_of(fake.answered(204))
            check_no_duplicates(delivered, "answered 204")
            check(delivered[:len(hung)] == hung,
                  "the batch in flight at SIGTERM was not the first thing sent after restart: "
                  + str([(r.status, len(r.lines), r.lines[0][-13:]) for r in fake.snapshot()]))
        print(f"  SIGTERM took {took:.2f}s; {len(hung)} lines kept and delivered")
    finally:
        fake.close()


def header(request, name):
    for k, v in request.headers.items():
        if k.lower() == name.lower():
            return v
    return None


def test_v1_and_v2_request_shape():
    fake = FakeInflux()
    try:
        cfg = write_config([
            {"name": "v2", "url": fake.url + "/", "version": 2, "org": "my org",
             "bucket": "edge/data", "token": "s3cr3t-token", "precision": "ms"},
            {"name": "v1", "url": fake.url, "version": 1, "database": "edge db",
             "username": "alice", "password": "p@ss:w0rd", "precision": "ms", "gzip": False},
        ])
        with Daemon(config_path=cfg) as d:
            def both():
                paths = [r.path for r in fake.answered(204)]
                return any(p.startswith("/api/v2/") for p in paths) and \
                    any(p.startswith("/write") for p in paths)
            eventually(both, 10 * harness.SLOW, what="a write from each output")
            reqs = fake.answered(204)
            v2 = [r for r in reqs if r.path.startswith("/api/v2/")]
            v1 = [r for r in reqs if r.path.startswith("/write")]
            check(len(v1) + len(v2) == len(reqs), f"unexpected paths {[r.path for r in reqs]}")
            for r in v2:
                check(r.path == "/api/v2/write?org=my%20org&bucket=edge%2Fdata&precision=ms",
                      f"v2 path {r.path}")
                check(header(r, "Authorization") == "Token s3cr3t-token",
                      f"v2 Authorization {header(r, 'Authorization')!r}")
                check(header(r, "Content-Encoding") == "gzip",
                      f"v2 Content-Encoding {header(r, 'Content-Encoding')!r}")
            basic = "Basic " + base64.b64encode(b"alice:p@ss:w0rd").decode()
            for r in v1:
                check(r.path == "/write?db=edge%20db&precision=ms", f"v1 path {r.path}")
                check(header(r, "Authorization") == basic,
                      f"v1 Authorization {header(r, 'Authorization')!r}, expected {basic!r}")
                check(header(r, "Content-Encoding") is None, "v1 has gzip: false but was gzipped")
            for r in reqs:
                ctype = header(r, "Content-Type") or ""
                check(ctype.startswith("text/plain"), f"Content-Type {ctype!r}")
                check(r.lines, f"empty write to {r.path}")
                for line in r.lines:
                    check(re.search(r" \d{13}$", line), f"not a ms timestamp: {line!r}")
            for o in ("v1", "v2"):
                # The fake's 204 reaches /status once the spool has
                # recorded the delivery.
                st = eventually(lambda: (lambda s: s if s["sent_points"] > 0 else None)(
                    output_status(d, o)), 5 * harness.SLOW, what=f"{o}'s delivery in /status")
                check(st["state"] == "ok", f"{o}: {st}")
                check("s3cr3t" not in json.dumps(st) and "p@ss" not in json.dumps(st),
                      f"/status shows a credential: {st}")
    finally:
        fake.close()


if __name__ == "__main__":
    harness.main(globals())
