"""The HTTP server under bad, big, slow and many clients: every limit gives
its status with a JSON error body, and the daemon keeps answering."""

import errno
import resource
import selectors
import socket
import time

import harness
from harness import (check, check_json_error, connect, Daemon, parse_responses, recv_responses,
                     recv_until_close, SANITIZE, SLOW)

TOKEN = "s3cret-token"


def exchange(d, data, timeout=5.0):
    """Sends raw bytes on a fresh connection and reads until the server
    closes; returns (complete responses, unparsed trailing bytes)."""
    s = connect(d.host, d.port, timeout * SLOW)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        raw = recv_until_close(s, timeout * SLOW)
        responses, rest = parse_responses(raw)
        return responses, rest
    finally:
        s.close()


def health_ok(d, bound=1.0):
    t0 = time.monotonic()
    r = d.get("/health")
    took = time.monotonic() - t0
    check(r.status == 200, f"/health answered {r.status}: {r.body[:200]!r}")
    check(took < bound * SLOW, f"/health took {took:.3f}s (bound {bound * SLOW:.1f}s)")


def test_malformed_requests_get_400():
    cases = [
        b"GARBAGE\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHo\x01st: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(32)),  # a TLS hello
        b"GET /health HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcde",
        b"GET /health HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /hea\x00lth HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /health HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        # Request smuggling shape: both framings at once.
        b"POST /reload HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    ]
    with Daemon() as d:
        for data in cases:
            responses, rest = exchange(d, data)
            check(len(responses) == 1, f"{data[:40]!r}: {len(responses)} responses, "
                                       f"trailing {rest[:100]!r}")
            check_json_error(responses[0], 400)
            health_ok(d)
        check(d.running(), "daemon died on malformed input")


def test_oversized_headers_get_431():
    with Daemon(sets=["http.limits.max_header_bytes=4KiB"]) as d:
        big_header = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 6000 + b"\r\n\r\n"
        long_url = b"GET /health?" + b"q" * 6000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        many = b"GET /health HTTP/1.1\r\n" + b"".join(
            b"X-H%d: %s\r\n" % (i, b"v" * 40) for i in range(150)) + b"\r\n"
        for data in (big_header, long_url, many):
            responses, _ = exchange(d, data)
            check(len(responses) == 1, f"{data[:30]!r}...: {len(responses)} responses")
            check_json_error(responses[0], 431)
        # Just under the limit still works.
        ok = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Ok: " + b"a" * 3000 + b"\r\nConnection: close\r\n\r\n"
        responses, _ = exchange(d, ok)
        check(responses and responses[0].status == 200,
              f"3 KB of headers under a 4 KiB limit: {responses}")
        health_ok(d)


def test_oversized_bodies_get_413():
    sets = ["http.limits.max_body_bytes=1KiB", f"http.access.write.tokens={TOKEN}"]
    with Daemon(sets=sets) as d:
        auth = f"Authorization: Bearer {TOKEN}\r\n".encode()
        declared = (b"POST /reload HTTP/1.1\r\nHost: x\r\n" + auth +
                    b"Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n")
        t0 = time.monotonic()
        responses, _ = exchange(d, declared)
        check(len(responses) == 1, f"Content-Length over the limit: {len(responses)} responses")
        check_json_error(responses[0], 413)
        check(time.monotonic() - t0 < 2 * SLOW,
              "413 for a declared Content-Length should not wait for the body")
        chunk = b"200\r\n" + b"x" * 512 + b"\r\n"
        chunked = (b"POST /reload HTTP/1.1\r\nHost: x\r\n" + auth +
                   b"Transfer-Encoding: chunked\r\n\r\n" + chunk * 3)
        responses, _ = exchange(d, chunked)
        check(len(responses) == 1, f"chunked body over the limit: {len(responses)} responses")
        check_json_error(responses[0], 413)
        health_ok(d)


def slowloris(d, interval=0.1, give_up=None):
    """Sends a request head one byte every `interval`; returns (seconds until
    the server answered or closed, raw bytes received)."""
    give_up = give_up or 10 * SLOW
    s = connect(d.host, d.port)
    data = b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"z" * 10000
    t0 = time.monotonic()
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ)
    try:
        for i in range(len(data)):
            try:
                s.send(data[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                break
            if sel.select(timeout=interval):
                break
            if time.monotonic() - t0 > give_up:
                raise AssertionError(f"no answer to a slowloris client after {give_up:.0f}s")
        took = time.monotonic() - t0
        return took, recv_until_close(s, 3 * SLOW)
    finally:
        sel.close()
        s.close()


def test_slowloris_gets_408():
    with Daemon(sets=["http.limits.header_timeout=500ms"]) as d:
        took, raw = slowloris(d)
        responses, _ = parse_responses(raw)
        check(len(responses) == 1, f"slowloris: expected one 408 response, got {raw[:300]!r}")
        check_json_error(responses[0], 408)
        bound = 0.5 + 1.0 * SLOW
        check(0.4 <= took <= bound, f"408 after {took:.2f}s; header_timeout is 0.5s "
                                    f"(bound {bound:.1f}s)")
        print(f"408 after {took:.2f}s")
        # Many slow clients at once do not starve a normal one.
        slow = []
        for _ in range(50):
            s = connect(d.host, d.port)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            slow.append(s)
        try:
            health_ok(d, bound=1.0)
        finally:
            for s in slow:
                s.close()


def test_unknown_route_and_wrong_method():
    with Daemon() as d:
        check_json_error(d.get("/no/such/route"), 404)
        for method, path, allowed in (("POST", "/metrics", "GET"), ("DELETE", "/health", "GET"),
                                      ("GET", "/reload", "POST"), ("PUT", "/status", "GET")):
            r = d.request(method, path, body=b"" if method != "GET" else None)
            check_json_error(r, 405)
            allow = r.header("allow", "")
            check(allowed in [m.strip() for m in allow.split(",")],
                  f"{method} {path}: 405 Allow is {allow!r}, expected it to list {allowed}")
        r = d.get("/")
        check(r.status == 200 and r.body, f"GET / index: {r.status}")


def test_head_metrics():
    with Daemon() as d:
        s = connect(d.host, d.port)
        try:
            # A GET right behind the HEAD: if HEAD sent a body, the GET's
            # status line would not come next.
            s.sendall(b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            buf = b""
            deadline = time.monotonic() + 5 * SLOW
            while buf.count(b"\r\n\r\n") < 2 and time.monotonic() < deadline:
                s.settimeout(deadline - time.monotonic())
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        finally:
            s.close()
        head_end = buf.find(b"\r\n\r\n")
        check(head_end > 0, f"no response head to HEAD: {buf[:200]!r}")
        head, _ = parse_responses(buf[:head_end + 4], head_only=True)
        check(head[0].status == 200, f"HEAD /metrics status {head[0].status}")
        length = head[0].header("content-length")
        check(length is not None and int(length) > 1000,
              f"HEAD /metrics Content-Length {length!r}")
        rest = buf[head_end + 4:]
        check(rest.startswith(b"HTTP/1.1 200"),
              f"HEAD response carried a body or the next response is missing: {rest[:80]!r}")


def test_keep_alive_pipelining():
    with Daemon() as d:
        s = connect(d.host, d.port)
        try:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /reload HTTP/1.1\r\nHost: x\r\n\r\n")
            rs = recv_responses(s, 4, 5 * SLOW)
            check([r.status for r in rs] == [200, 404, 200, 405],
                  f"pipelined statuses {[r.status for r in rs]}, expected [200, 404, 200, 405]")
            check("version" in rs[2].json(), f"third response is not /status: {rs[2].body[:200]!r}")
            # The connection stays usable.
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            rs = recv_responses(s, 1, 5 * SLOW)
            check(rs and rs[0].status == 200, f"4th request on the kept-alive connection: {rs}")
        finally:
            s.close()
        # Connection: close and HTTP/1.0 end the connection after the response.
        for req in (b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    b"GET /health HTTP/1.0\r\n\r\n"):
            s = connect(d.host, d.port)
            t0 = time.monotonic()
            s.sendall(req)
            raw = recv_until_close(s, 5 * SLOW)
            s.close()
            rs, _ = parse_responses(raw)
            check(len(rs) == 1 and rs[0].status == 200, f"{req!r}: {rs}")
            check(time.monotonic() - t0 < 2 * SLOW, f"{req!r}: connection not closed promptly")


def test_pipelined_flood_is_back_pressured():
    """A client pipelining many /metrics requests without reading must not
    make the daemon buffer every response (max_pending_response_bytes)."""
    n = 400
    with Daemon() as d:
        before = harness.rss_bytes(d.pid)
        s = connect(d.host, d.port, 10 * SLOW)
        try:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * n)
            # Give the daemon time to produce what it will while nobody reads.
            time.sleep(0.5 * SLOW)
            stalled = harness.rss_bytes(d.pid)
            rs = recv_responses(s, n, 30 * SLOW)
        finally:
            s.close()
        print(f"RSS {before / 2**20:.1f} MiB -> {stalled / 2**20:.1f} MiB with {n} unread "
              f"responses (~{n * len(rs[0].body) / 2**20 if rs else 0:.0f} MiB)")
        check(len(rs) == n and all(r.status == 200 for r in rs),
              f"{len(rs)} of {n} pipelined responses, statuses {set(r.status for r in rs)}")
        if not SANITIZE:
            check(stalled - before < 16 * 2**20,
                  f"RSS grew {(stalled - before) / 2**20:.1f} MiB while the client did not read "
                  f"(max_pending_response_bytes is 4 MiB)")
        health_ok(d)


def test_idle_timeout_closes():
    with Daemon(sets=["http.limits.idle_timeout=300ms"]) as d:
        s = connect(d.host, d.port)
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        rs = recv_responses(s, 1, 5 * SLOW)
        check(rs and rs[0].status == 200, f"first response {rs}")
        t0 = time.monotonic()
        rest = recv_until_close(s, 5 * SLOW)
        took = time.monotonic() - t0
        s.close()
        check(rest == b"" or rest.startswith(b"HTTP/1.1 408"), f"idle close sent {rest[:100]!r}")
        check(0.2 <= took <= 0.3 + 1.0 * SLOW, f"idle connection closed after {took:.2f}s, "
                                               f"idle_timeout 0.3s")


def test_max_connections_503():
    with Daemon(sets=["http.limits.max_connections=4"]) as d:
        held = []
        try:
            for _ in range(4):
                s = connect(d.host, d.port)
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                rs = recv_responses(s, 1, 5 * SLOW)
                check(rs and rs[0].status == 200, f"connection {len(held) + 1} of 4: {rs}")
                held.append(s)
            responses, _ = exchange(d, b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
            check(len(responses) == 1, f"5th connection: {len(responses)} responses")
            check_json_error(responses[0], 503)
            # /health is answered all the same (and the connection closed):
            # a monitor still learns that the daemon lives.
            responses, _ = exchange(d, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            check(len(responses) == 1 and responses[0].status == 200,
                  f"/health at the connection limit: {responses}")
            check(responses[0].header("Connection") == "close",
                  f"/health over the limit kept alive: {responses[0].headers}")
            # A client over the limit that says nothing is refused within
            # a second, not held for header_timeout.
            s = connect(d.host, d.port)
            t0 = time.monotonic()
            rs = recv_responses(s, 1, 5 * SLOW)
            took = time.monotonic() - t0
            s.close()
            check(rs and rs[0].status == 503 and took < 1.0 + 0.5 * SLOW,
                  f"silent client over the limit: {rs} after {took:.2f}s")
        finally:
            for s in held:
                s.close()
        # Closing the held connections frees the slots.
        harness.eventually(lambda: _status_or_none(d) == 200, 3 * SLOW,
                           what="/health 200 after the held connections closed")


def connect_from(source, d):
    """A connection to the daemon from another loopback address (Linux
    routes all of 127/8 to lo), so it counts against that address's share."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5 * SLOW)
    s.bind((source, 0))
    s.connect((d.host, d.port))
    return s


def test_one_address_cannot_take_every_connection():
    """14 connections from 127.0.0.2 with a share of 8: the 9th and
    later get 503 at once, counted under their own reason; 127.0.0.3 and
    the exempt 127.0.0.1 are still served, and a closed connection gives
    its slot back to its address."""
    share, extra = 8, 6
    with Daemon(sets=["http.limits.max_connections_per_address=8"]) as d:
        held = [connect_from("127.0.0.2", d) for _ in range(share + extra)]
        try:
            request = b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n"
            statuses = []
            for s in held:
                try:
                    s.sendall(request)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # refused and closed before our request
                rs = recv_responses(s, 1, 5 * SLOW)
                statuses.append(rs[0].status if rs else None)
            check(statuses.count(200) == share and statuses.count(503) == extra,
                  f"statuses from one address: {statuses}")
            other = connect_from("127.0.0.3", d)
            other.sendall(request)
            rs = recv_responses(other, 1, 5 * SLOW)
            check(rs and rs[0].status == 200, f"another address: {rs}")
            other.close()
            health_ok(d)  # 127.0.0.1 is exempt by default
            fams = harness.parse_exposition(d.metrics())
            refused = harness.sample_value(fams, "edgemon_http_rejected_total",
                                           {"reason": "too_many_from_address"})
            check(refused == extra, f"too_many_from_address counted {refused}, want {extra}")
        finally:
            for s in held:
                s.close()

        def served_again():
            s = connect_from("127.0.0.2", d)
            try:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                rs = recv_responses(s, 1, 5 * SLOW)
                return rs and rs[0].status == 200
            finally:
                s.close()
        harness.eventually(served_again, 5 * SLOW, interval=0.05,
                           what="127.0.0.2 served again after its connections closed")


def _status_or_none(d):
    try:
        return d.get("/health", timeout=1).status
    except OSError:
        return None


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        if hard != resource.RLIM_INFINITY and hard < n:
            raise AssertionError(f"RLIMIT_NOFILE hard limit {hard} < {n} needed")
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, hard))


def test_2000_concurrent_connections():
    count = 2000
    raise_nofile(count + 1000)  # before the daemon starts: it inherits the limit
    with Daemon() as d:
        baseline_rss = harness.rss_bytes(d.pid)
        sel = selectors.DefaultSelector()
        socks = {}
        # Not /health: that one is answered over the limit too.
        request = b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n"
        for i in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            rc = s.connect_ex((d.host, d.port))
            check(rc in (0, errno.EINPROGRESS), f"connect {i}: {errno.errorcode.get(rc, rc)}")
            socks[s] = {"sent": False, "buf": b"", "done": None}
            sel.register(s, selectors.EVENT_WRITE)
        deadline = time.monotonic() + 30 * SLOW
        pending = count
        while pending and time.monotonic() < deadline:
            for key, ev in sel.select(timeout=0.5):
                s = key.fileobj
                st = socks[s]
                if not st["sent"]:
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        st["done"] = f"connect error {errno.errorcode.get(err, err)}"
                    else:
                        try:
                            s.send(request)
                            st["sent"] = True
                            sel.modify(s, selectors.EVENT_READ)
                            continue
                        except OSError as e:
                            st["done"] = f"send {e.__class__.__name__}"
                else:
                    try:
                        data = s.recv(65536)
                    except ConnectionResetError:
                        data = None
                    if data:
                        st["buf"] += data
                        rs, _ = parse_responses(st["buf"])
                        if not rs:
                            continue
                        st["done"] = rs[0].status
                    else:
                        st["done"] = "closed" if data == b"" else "reset"
                sel.unregister(s)
                pending -= 1
        peak_rss = harness.rss_bytes(d.pid)
        outcomes = {}
        for st in socks.values():
            key = st["done"] if st["done"] is not None else "no answer"
            outcomes[key] = outcomes.get(key, 0) + 1
        print(f"outcomes of {count} connections: {outcomes}; RSS {baseline_rss / 2**20:.1f} MiB "
              f"-> {peak_rss / 2**20:.1f} MiB")
        unexpected = {k: v for k, v in outcomes.items()
                      if k not in (200, 503, "closed", "reset")}
        for s in socks:
            s.close()
        sel.close()
        check(not unexpected, f"connections that got neither 200, 503 nor a close: {unexpected}")
        served = outcomes.get(200, 0)
        check(500 <= served <= 1024,
              f"{served} connections served; max_connections is 1024 and most should fit")
        check(outcomes.get(503, 0) + outcomes.get("closed", 0) + outcomes.get("reset", 0)
              >= count - 1024, f"fewer than {count - 1024} connections refused: {outcomes}")
        if SANITIZE:
            print("RSS bound not checked under ASan (shadow memory)")
        else:
            check(peak_rss < 64 * 2**20, f"RSS {peak_rss / 2**20:.1f} MiB with {count} clients")
        harness.eventually(lambda: _status_or_none(d) == 200, 5 * SLOW,
                           what="/health 200 after the 2000 clients left")
        health_ok(d, bound=0.5)
        fams = harness.parse_exposition(d.metrics())
        rejected = fams.get("edgemon_http_rejected_total")
        check(rejected is not None and sum(v for _, _, v in rejected.samples) > 0,
              "edgemon_http_rejected_total did not count the refused connections")


def test_one_address_holds_its_share_of_the_memory_budget():
    """With a 1 MiB share per address, a client at 127.0.0.2 holding a 1 MB
    body in progress gets 503 (memory_per_address, Retry-After) for its next
    body at the head, while 127.0.0.3 is served; once the first connection
    goes, the address may send again."""
    sets = ["ingest.enabled=true", "ingest.limits.max_body_bytes=1MiB",
            "http.limits.memory_per_address=1MiB"]
    with Daemon(sets=sets) as d:
        def write_from(source, body):
            s = connect_from(source, d)
            s.sendall(b"POST /write HTTP/1.1\r\nHost: x\r\nContent-Length: "
                      + str(len(body)).encode() + b"\r\n\r\n" + body)
            rs = recv_responses(s, 1, 5 * SLOW)
            s.close()
            return rs[0] if rs else None

        holder = connect_from("127.0.0.2", d)
        holder.sendall(b"POST /write HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
        body = b"m v=1\n" * 20000
        r = harness.eventually(
            lambda: (lambda r: r if r is not None and r.status == 503 else None)(
                write_from("127.0.0.2", body)),
            5 * SLOW, what="503 for the address holding its share")
        check("memory_per_address" in r.body.decode() and r.header("Retry-After") == "1",
              f"refusal {r} {r.body[:200]!r}")
        other = write_from("127.0.0.3", body)
        check(other is not None and other.status == 204, f"another address: {other}")
        holder.close()
        harness.eventually(lambda: (write_from("127.0.0.2", body) or other).status == 204,
                           5 * SLOW, what="the address served once its body is gone")
        refused = harness.sample_value(harness.parse_exposition(d.metrics()),
                                       "edgemon_http_rejected_total",
                                       {"reason": "memory_per_address"})
        check(refused >= 1, f"memory_per_address counted {refused}")


def test_rate_limit_429():
    with Daemon(sets=["http.access.read.rate=5", "http.access.read.burst=5"]) as d:
        statuses = []
        retry_after = None
        t0 = time.monotonic()
        s = connect(d.host, d.port)
        try:
            for _ in range(20):
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                rs = recv_responses(s, 1, 5 * SLOW)
                check(rs, "no response during the rate-limit burst")
                statuses.append(rs[0].status)
                if rs[0].status == 429:
                    check_json_error(rs[0], 429)
                    retry_after = rs[0].header("retry-after")
        finally:
            s.close()
        elapsed = time.monotonic() - t0
        ok = statuses.count(200)
        print(f"20 requests in {elapsed:.2f}s: {ok} x 200, {statuses.count(429)} x 429")
        check(set(statuses) <= {200, 429}, f"statuses {statuses}")
        check(statuses[:5] == [200] * 5, f"the burst of 5 was not allowed: {statuses}")
        check(ok <= 5 + 5 * elapsed + 1, f"{ok} requests allowed in {elapsed:.2f}s at 5/s burst 5")
        check(statuses.count(429) >= 1, f"no 429 among {statuses}")
        check(retry_after is not None and ((retry_after.strip().isdigit() and
                                            int(retry_after) >= 1) or "GMT" in retry_after),
              f"429 Retry-After is {retry_after!r}")
        # The bucket is per client address: another loopback address still passes.
        r = get_from(d, "127.0.0.2", "/health")
        check(r.status == 200, f"127.0.0.2 limited by 127.0.0.1's bucket: {r.status}")
        # Tokens refill at 5/s.
        harness.eventually(lambda: d.get("/health").status == 200, 2 * SLOW, interval=0.1,
                           what="a request allowed again after the refill")


def get_from(d, source, path):
    """GET from a chosen loopback source address (all of 127/8 is local)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5 * SLOW)
    try:
        s.bind((source, 0))
        s.connect((d.host, d.port))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        rs, _ = parse_responses(recv_until_close(s, 5 * SLOW))
    finally:
        s.close()
    check(len(rs) == 1, f"GET {path} from {source}: {len(rs)} responses")
    return rs[0]


def test_read_allowlist():
    with Daemon(sets=["http.access.read.allow=127.0.0.2/32"]) as d:
        check_json_error(get_from(d, "127.0.0.1", "/metrics"), 403)
        check_json_error(get_from(d, "127.0.0.1", "/health"), 403)
        r = get_from(d, "127.0.0.2", "/metrics")
        check(r.status == 200, f"allowed address 127.0.0.2 got {r.status}")


def test_reload_auth():
    with Daemon() as d:
        r = d.request("POST", "/reload", body=b"")
        check_json_error(r, 403)
        r = d.request("POST", "/reload", headers={"Authorization": "Bearer anything"}, body=b"")
        check_json_error(r, 403)
    valid = f"http:\n  access:\n    write:\n      tokens: [{TOKEN}]\n"
    config = harness.write_file(harness.make_tmpdir() + "/edgemon.yaml", valid)
    with Daemon(config_path=config) as d:
        for headers in ({}, {"Authorization": "Bearer wrong"},
                        {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": f"Basic {TOKEN}"},
                        {"Authorization": f"Bearer {TOKEN[:-1]}"}):
            r = d.request("POST", "/reload", headers=headers, body=b"")
            check_json_error(r, 401)
            check("bearer" in r.header("www-authenticate", "").lower(),
                  f"401 without WWW-Authenticate: Bearer ({r.header('www-authenticate')!r})")
        r = d.request("POST", "/reload", headers={"Authorization": f"Bearer {TOKEN}"}, body=b"")
        check(r.status == 200, f"POST /reload with the right token: {r.status} {r.body[:300]!r}")
        # An invalid file is refused with its errors and the daemon goes on.
        harness.write_file(config, valid + "collect:\n  interval: never\n")
        r = d.request("POST", "/reload", headers={"Authorization": f"Bearer {TOKEN}"}, body=b"")
        doc = check_json_error(r, 422)
        check("collect.interval" in r.body.decode(), f"422 does not name the key: {doc}")
        health_ok(d)


if __name__ == "__main__":
    harness.main(globals())
