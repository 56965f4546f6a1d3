"""edgemon's spool as the running daemon uses it: the max_bytes cap drops
exactly the oldest batches and counts them exactly (also while the oldest
are in a request in flight); the max_age cap; a
corrupt spool file is moved aside and the daemon starts anyway; `edgemon
spool` and `sqlite3` read and purge a live daemon's file; a restart keeps
the queue and delivers it once, in order.

Outputs that must queue point at a closed loopback port (a free port no one
listens on), so nothing is ever delivered and the spool only grows. The
spool file is read with SQLite itself (python's sqlite3, read-only) to
compare what the daemon reports with what the file holds."""

import collections
import json
import os
import sqlite3
import subprocess
import threading
import time

import harness
import output_config
from fake_influx import FakeInflux
from harness import Daemon, check, eventually, free_port, make_tmpdir, run_cli

CAP = 64 * 1024


def write_config(outputs, interval="300ms"):
    return output_config.write_config(outputs, "it-spool", interval, schema="host")


def closed_url():
    return f"http://127.0.0.1:{free_port()}"


def outputs_by_name(status):
    return {o["name"]: o for o in status.get("outputs", [])}


def spool_path(daemon):
    return os.path.join(daemon.state_dir, "spool.db")


def read_batches(path, output):
    """[(id, created_ms, points, bytes, body)] of one output, oldest first,
    read with SQLite itself (as an operator would)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute("SELECT id, created_ms, points, bytes, body FROM batches "
                          "WHERE output = ? ORDER BY id", (output,)).fetchall()
    finally:
        db.close()


def spool_cli(path, *args, ok=True):
    r = run_cli(["spool", "--spool", path, *args])
    if ok:
        check(r.returncode == 0, f"edgemon spool {' '.join(args)}: rc {r.returncode}: {r.stderr}")
    return r


def consistent(daemon, read):
    """Calls read() between two /status documents of the same spool commit
    count, so that what read() saw in the file is what /status reports.
    Returns (status, read result) or None when a commit slipped between."""
    s1 = daemon.get_json("/status")
    got = read()
    s2 = daemon.get_json("/status")
    if s1["spool"]["commits"] != s2["spool"]["commits"]:
        return None
    return s1, got


def test_max_bytes_drops_exactly_the_oldest_batches():
    cfg = write_config([
        {"name": "capped", "url": closed_url(), "max_bytes": "64KiB"},
        {"name": "reference", "url": closed_url(), "max_bytes": "1GiB"},
    ])
    with Daemon(config_path=cfg) as d:
        path = spool_path(d)

        def capped_enough():
            o = outputs_by_name(d.get_json("/status"))
            return o["capped"]["dropped_points"]["max_bytes"] >= 150  # about three rounds
        eventually(capped_enough, 20 * harness.SLOW, interval=0.1,
                   what="the capped output dropping a few rounds")

        def snapshot():
            got = consistent(d, lambda: (read_batches(path, "capped"),
                                         read_batches(path, "reference")))
            if got is None:
                return None
            status, (capped, ref) = got
            o = outputs_by_name(status)
            # The file and the report must describe the same commit.
            if sum(b[2] for b in capped) != o["capped"]["queued"]["points"] or \
                    sum(b[2] for b in ref) != o["reference"]["queued"]["points"]:
                return None
            return o, capped, ref
        o, capped, ref = eventually(snapshot, 10 * harness.SLOW, interval=0.05,
                                    what="a /status and a file read of the same commit")
        c, r = o["capped"], o["reference"]
        dropped = c["dropped_points"]["max_bytes"]
        check(dropped > 0, "nothing dropped")
        check(dropped + c["queued"]["points"] == r["queued"]["points"],
              f"capped: dropped {dropped} + queued {c['queued']['points']} != reference queued "
              f"{r['queued']['points']}")
        check(c["queued"]["bytes"] <= CAP, f"capped queue holds {c['queued']['bytes']} bytes")
        check(r["dropped_points"]["max_bytes"] == 0, "the reference output dropped points")
        # The same rounds went to both outputs with the same encoding, so the
        # capped queue must be exactly the newest batches of the reference.
        k = len(capped)
        check(0 < k < len(ref), f"capped keeps {k} batches, reference {len(ref)}")
        check([b[4] for b in capped] == [b[4] for b in ref[-k:]],
              "the batches the cap kept are not the newest ones")
        check(dropped == sum(b[2] for b in ref[:-k]),
              f"dropped {dropped} points, the older batches hold {sum(b[2] for b in ref[:-k])}")
        kept_bytes = sum(b[3] for b in capped)
        check(kept_bytes == c["queued"]["bytes"] and kept_bytes <= CAP,
              f"kept {kept_bytes} bytes, /status says {c['queued']['bytes']}")
        check(kept_bytes + ref[-k - 1][3] > CAP,
              "the cap dropped more than it had to: the next older batch would have fit")
        check(min(b[1] for b in capped) >= ref[-k][1] - 5,
              "a kept batch is older than the dropped ones")
        # Every drop is logged: the sum of the logged points equals the
        # counter (compared between two commits, once our reader of the
        # daemon's stderr has caught up).
        def logged_matches():
            logged = sum(e.get("max_bytes_points", 0) for e in list(d.log.events)
                         if e and e.get("event") == "spool_cap_dropped"
                         and e.get("output") == "capped")
            now = outputs_by_name(d.get_json("/status"))["capped"]["dropped_points"]["max_bytes"]
            return logged == now
        eventually(logged_matches, 5 * harness.SLOW, interval=0.05,
                   what="spool_cap_dropped log lines adding up to dropped_points.max_bytes")
        print(f"  capped keeps {k} batches / {kept_bytes} bytes, dropped {len(ref) - k} "
              f"batches / {dropped} points")


def test_cap_reached_while_sending_counts_each_point_once():
    # A slow server: the queue passes max_bytes while the oldest batches are
    # in flight. Each point must end up counted once: sent, dropped or queued.
    fast = threading.Event()

    def slow(i, r):
        if not fast.is_set():
            time.sleep(1.0)
        return (204, {}, b"")
    fake = FakeInflux(slow)
    try:
        cfg = write_config([
            {"name": "capped", "url": fake.url, "max_bytes": "64KiB", "batch_size": 40},
            {"name": "reference", "url": closed_url(), "max_bytes": "1GiB"},
        ])
        with Daemon(config_path=cfg) as d:
            def capped_while_sending():
                o = outputs_by_name(d.get_json("/status"))["capped"]
                # A few rounds dropped while requests kept being answered.
                return o["dropped_points"]["max_bytes"] >= 150 and o["sent_points"] >= 100
            eventually(capped_while_sending, 20 * harness.SLOW, interval=0.1,
                       what="drops by the cap while requests are answered slowly")
            fast.set()

            def settled():
                status = d.get_json("/status")
                o = outputs_by_name(status)
                c = o["capped"]
                delivered = lines_of(fake.answered(204))
                quiet = (c["queued"]["points"] == 0 and c["sent_points"] == len(delivered)
                         and all(r.status is not None for r in fake.snapshot()))
                again = d.get_json("/status")
                return (o, delivered) if quiet and \
                    again["spool"]["commits"] == status["spool"]["commits"] else None
            o, delivered = eventually(settled, 15 * harness.SLOW, interval=0.05,
                                      what="the capped output caught up, nothing in flight")
            check_no_duplicates(delivered)
            c, r = o["capped"], o["reference"]
            dropped = c["dropped_points"]["max_bytes"]
            total = c["sent_points"] + dropped + c["queued"]["points"]
            print(f"  sent {c['sent_points']} + dropped {dropped} + queued "
                  f"{c['queued']['points']} = {total}; produced {r['queued']['points']}")
            check(total >= r["queued"]["points"], "points neither sent, dropped nor queued")
            # A cap may delete the batches of the request in flight; the 2xx
            # that follows makes them sent, not dropped.
            check(total == r["queued"]["points"],
                  f"{total - r['queued']['points']} points counted both as sent and as "
                  f"dropped by max_bytes")
    finally:
        fake.close()


def test_max_age_drops_batches_older_than_it():
    # max_age is at least 1m. Rather than wait a minute, the first daemon
    # queues batches, and their creation times are moved two minutes back
    # while it is stopped, as if the board had been off that long.
    state = make_tmpdir("edgemon-state-")
    url = closed_url()
    with Daemon(config_path=write_config([{"name": "main", "url": url}]), state_dir=state) as a:
        eventually(lambda: outputs_by_name(a.get_json("/status"))["main"]["queued"]["batches"]
                   >= 6, 15 * harness.SLOW, interval=0.05, what="six queued batches")
        path = spool_path(a)
    before = read_batches(path, "main")
    aged = before[:len(before) // 2]
    db = sqlite3.connect(path, timeout=5)
    with db:
        db.execute("UPDATE batches SET created_ms = created_ms - 120000 WHERE output = 'main' "
                   "AND id <= ?", (aged[-1][0],))
    db.close()

    cfg = write_config([{"name": "main", "url": url, "max_age": "1m"}])
    with Daemon(config_path=cfg, state_dir=state) as b:
        _, e = b.log.wait_for(lambda e: e.get("event") == "spool_cap_dropped", 10 * harness.SLOW)
        check(e is not None, "no spool_cap_dropped logged for the aged batches")
        check(e.get("max_age_batches") == len(aged) and
              e.get("max_age_points") == sum(x[2] for x in aged),
              f"logged {e}, expected {len(aged)} batches / {sum(x[2] for x in aged)} points")
        st = outputs_by_name(b.get_json("/status"))["main"]
        check(st["dropped_points"]["max_age"] == sum(x[2] for x in aged),
              f"dropped_points.max_age {st['dropped_points']['max_age']}, expected "
              f"{sum(x[2] for x in aged)}")
        check(st["dropped_points"]["max_bytes"] == 0, "max_bytes dropped something")
        left = {x[0] for x in read_batches(path, "main")}
        check(not left & {x[0] for x in aged}, "an aged batch is still queued")
        check({x[0] for x in before[len(aged):]} <= left,
              "a batch younger than max_age was dropped")
        print(f"  dropped {len(aged)} of {len(before)} batches by age")


def test_corrupt_spool_file_is_moved_aside_and_the_daemon_starts():
    state = make_tmpdir("edgemon-state-")
    garbage = b"this is not an SQLite database\n" * 200 + bytes(range(256)) * 16
    with open(os.path.join(state, "spool.db"), "wb") as f:
        f.write(garbage)
    fake = FakeInflux()
    try:
        cfg = write_config([{"name": "main", "url": fake.url}])
        with Daemon(config_path=cfg, state_dir=state) as d:
            _, e = d.log.wait_event("spool_corrupt", 10 * harness.SLOW)
            check(e is not None, f"no spool_corrupt logged:\n{d.log.tail()}")
            spool = eventually(lambda: (lambda s: s if s["open"] else None)(
                d.get_json("/status")["spool"]), 10 * harness.SLOW, what="the new spool open")
            check(spool["corrupt_files"] == 1, f"corrupt_files {spool['corrupt_files']}")
            moved = spool.get("corrupt_file_moved_to")
            check(moved and moved == e.get("moved_to"), f"moved_to {moved!r}, logged {e}")
            with open(moved, "rb") as f:
                check(f.read() == garbage, f"{moved} does not hold the corrupt file")
            fam = harness.parse_exposition(d.metrics())
            check(harness.sample_value(fam, "edgemon_spool_corrupt_files_total") == 1,
                  "edgemon_spool_corrupt_files_total is not 1")
            eventually(lambda: outputs_by_name(d.get_json("/status"))["main"]["sent_points"] > 0
                       and fake.answered(204), 10 * harness.SLOW, what="points delivered")
            with open(spool_path(d), "rb") as f:
                check(f.read(16) == b"SQLite format 3\0", "the new spool is not a database")
            # A round made before the new spool was open waited in memory;
            # once committed, nothing is held there any more.
            spool = d.get_json("/status")["spool"]
            check(spool["commits"] > 0 and spool["error"] is None, f"spool {spool}")
            check(spool["unspooled_bytes"] == 0,
                  f"spool.unspooled_bytes stays {spool['unspooled_bytes']} after "
                  f"{spool['commits']} successful commits")
    finally:
        fake.close()


def test_damaged_pages_do_not_stop_the_daemon():
    # A real spool with some pages overwritten (a torn write on an SD card):
    # the daemon must start, say what it did, and deliver new points.
    state = make_tmpdir("edgemon-state-")
    cfg_closed = write_config([{"name": "main", "url": closed_url()}])
    with Daemon(config_path=cfg_closed, state_dir=state) as a:
        eventually(lambda: outputs_by_name(a.get_json("/status"))["main"]["queued"]["batches"]
                   >= 4, 15 * harness.SLOW, interval=0.05, what="four queued batches")
        path = spool_path(a)
    size = os.path.getsize(path)
    check(size > 16384, f"spool only {size} bytes")
    with open(path, "r+b") as f:
        f.seek(8192)
        f.write(b"\xa5" * 8192)
    fake = FakeInflux()
    try:
        cfg = write_config([{"name": "main", "url": fake.url}])
        with Daemon(config_path=cfg, state_dir=state) as d:
            def reported():
                status = d.get_json("/status")
                st = outputs_by_name(status)["main"]
                return status if status["spool"]["corrupt_files"] == 1 or \
                    st["dropped_points"]["corrupt"] > 0 else None
            status = eventually(reported, 10 * harness.SLOW, interval=0.05,
                                what="the damage reported (file moved aside or rows skipped)")
            eventually(lambda: len(fake.answered(204)) >= 2, 10 * harness.SLOW,
                       what="new points delivered")
            check_no_duplicates(lines_of(fake.answered(204)))
            print(f"  spool {status['spool']}, dropped "
                  f"{outputs_by_name(status)['main']['dropped_points']}")
    finally:
        fake.close()


def lines_of(requests):
    return [line for r in requests for line in r.lines]


def check_no_duplicates(lines):
    dup = [line for line, n in collections.Counter(lines).items() if n > 1]
    check(not dup, f"{len(dup)} lines delivered more than once, e.g. {dup[:2]}")


def test_spool_cli_on_a_live_daemons_file():
    sqlite = harness.require_binary("sqlite3")
    cfg = write_config([{"name": "main", "url": closed_url()},
                        {"name": "other", "url": closed_url()}])
    with Daemon(config_path=cfg) as d:
        path = spool_path(d)
        eventually(lambda: outputs_by_name(d.get_json("/status"))["main"]["queued"]["batches"]
                   >= 5, 15 * harness.SLOW, interval=0.05, what="five queued batches")

        stats = json.loads(spool_cli(path, "stats", "--json").stdout)
        names = [o["output"] for o in stats["outputs"]]
        check(names == ["main", "other"], f"stats outputs {names}")
        check("main" in spool_cli(path, "stats").stdout, "stats text does not name main")

        listing = spool_cli(path, "list", "--output", "main").stdout.splitlines()
        check(listing[0].split()[:2] == ["ID", "OUTPUT"], f"list header {listing[:1]}")
        rows = [x.split() for x in listing[1:]]
        ids = [int(x[0]) for x in rows]
        check(len(ids) >= 5 and ids == sorted(ids), f"list ids {ids}")
        check(all(x[1] == "main" for x in rows), "list --output main shows other outputs")
        shown = spool_cli(path, "show", str(ids[0])).stdout
        meta, _, body = shown.partition("\n\n")
        check(f"id: {ids[0]}" in meta and "output: main" in meta, f"show: {meta}")
        check(len([x for x in body.split("\n") if x]) == int(rows[0][3]),
              f"show {ids[0]}: body lines != {rows[0][3]} points")

        def dump_and_count():
            lines = [x for x in spool_cli(path, "dump", "--output", "main", "--format", "lp")
                     .stdout.split("\n") if x and not x.startswith("#")]
            r = subprocess.run([sqlite, path, "SELECT count(*) FROM batches WHERE output='main'"],
                               capture_output=True, text=True, timeout=10 * harness.SLOW)
            check(r.returncode == 0, f"sqlite3 on the live file: {r.stderr}")
            return lines, int(r.stdout.strip())

        def agreed():
            got = consistent(d, dump_and_count)
            if got is None:
                return None
            status, (lines, count) = got
            q = outputs_by_name(status)["main"]["queued"]
            return (lines, count, q) if len(lines) == q["points"] and count == q["batches"] \
                else None
        lines, count, q = eventually(agreed, 10 * harness.SLOW, interval=0.05,
                                     what="dump lines == queued points, sqlite3 count == batches")
        check(len(set(lines)) == len(lines), "dump repeats lines")

        other_before = outputs_by_name(d.get_json("/status"))["other"]["queued"]["points"]
        r = spool_cli(path, "purge", "--output", "main").stdout
        check(r.startswith("purged ") and int(r.split()[1]) >= count,
              f"purge said {r!r}, {count} batches were queued")

        def refreshed():
            o = outputs_by_name(d.get_json("/status"))
            return o if o["main"]["queued"]["batches"] <= 2 else None
        o = eventually(refreshed, 5 * harness.SLOW, interval=0.05,
                       what="the daemon's queue shrinking after the purge")
        check(o["other"]["queued"]["points"] >= other_before, "purge --output main touched other")
        eventually(lambda: outputs_by_name(d.get_json("/status"))["main"]["queued"]["batches"]
                   >= 2, 5 * harness.SLOW, interval=0.05, what="the daemon spooling after purge")
        check(d.running(), "the daemon died after the purge")
        print(f"  dumped {len(lines)} lines in {count} batches; purge: {r.strip()}")


def test_restart_keeps_the_queue_and_delivers_it_once_in_order():
    state = make_tmpdir("edgemon-state-")
    with Daemon(config_path=write_config([{"name": "main", "url": closed_url()}]),
                state_dir=state) as a:
        eventually(lambda: outputs_by_name(a.get_json("/status"))["main"]["queued"]["batches"]
                   >= 5, 15 * harness.SLOW, interval=0.05, what="five queued batches")
        path = spool_path(a)
    # The dump's '#' lines state the precision; the points are the rest.
    expected = [x for x in spool_cli(path, "dump", "--format", "lp").stdout.split("\n")
                if x and not x.startswith("#")]
    check(expected, "daemon A left nothing in the spool")
    fake = FakeInflux()
    try:
        with Daemon(config_path=write_config([{"name": "main", "url": fake.url}]),
                    state_dir=state) as b:
            def delivered():
                st = outputs_by_name(b.get_json("/status"))["main"]
                got = lines_of(fake.answered(204))
                return got if st["queued"]["points"] == 0 and len(got) > len(expected) and \
                    st["sent_points"] == len(got) else None
            got = eventually(delivered, 15 * harness.SLOW, interval=0.05,
                             what="A's queue and B's new points delivered")
            check_no_duplicates(got)
            check(got[:len(expected)] == expected,
                  "the queue daemon A left did not arrive first, whole and in order")
            print(f"  {len(expected)} lines from before the restart, {len(got)} delivered")
    finally:
        fake.close()



def test_health_says_unhealthy_while_the_spool_cannot_be_written():
    """A file-size limit stands in for a full disk: the spool's writes fail
    with EFBIG. /health turns 503 naming the spool, ingest answers 503 (not
    stored: the history has none of those points either, so a client's
    retry counts nothing twice), and once writes work again the spool
    recovers and /health is 200."""
    cfg = write_config([{"name": "main", "url": closed_url()}])
    with Daemon(config_path=cfg, sets=["ingest.enabled=true"]) as d:
        eventually(lambda: d.get_json("/status")["spool"]["commits"] > 0, 10 * harness.SLOW,
                   what="a first commit")
        check(d.get("/health").status == 200, "unhealthy before the limit")
        limit = os.path.getsize(spool_path(d)) + 64 * 1024
        subprocess.run(["prlimit", "--pid", str(d.proc.pid), f"--fsize={limit}:"], check=True)
        attempts = iter(range(10**6))
        refused_names = []

        def body(name):
            # Recent times, a few series: what the history keeps.
            t0 = time.time_ns() - 10 * 10**9
            return "".join(f"{name},n={i % 10} v={i}i {t0 + i * 10**6}\n"
                           for i in range(5000)).encode()

        def refused():
            name = f"attempt{next(attempts)}"
            r = d.request("POST", "/write?precision=ns", body=body(name))
            check(r.status in (204, 503), f"ingest: {r.status} {r.body[:200]!r}")
            if r.status != 503:
                return None
            refused_names.append(name)
            return r
        r = eventually(refused, 20 * harness.SLOW, what="ingest refused once the spool fails")
        check(b"not stored" in r.body, f"503 body {r.body!r}")
        h = d.get("/health")
        reasons = json.loads(h.body)["reasons"]
        check(h.status == 503 and any(x.startswith("spool cannot be written") for x in reasons),
              f"/health {h.status} {reasons}")
        check(d.get_json("/status")["spool"]["error"], "no spool error in /status")

        subprocess.run(["prlimit", "--pid", str(d.proc.pid), "--fsize=unlimited:"], check=True)
        eventually(lambda: d.get("/health").status == 200, 15 * harness.SLOW,
                   what="healthy again once the spool can be written")
        spool = d.get_json("/status")["spool"]
        check(spool["error"] is None and spool["commit_failures"] > 0, f"spool {spool}")
        eventually(lambda: d.request("POST", "/write?precision=ns", body=body("after")).status
                   == 204, 10 * harness.SLOW, what="ingest accepted again")

        def history_has(name):
            r = d.get(f"/history?measurement={name}&limit=1")
            check(r.status == 200, f"/history: {r.status} {r.body[:200]!r}")
            return json.loads(r.body)["count"] > 0
        eventually(lambda: d.get("/history?limit=1").status == 200, 10 * harness.SLOW,
                   what="the history open")
        eventually(lambda: history_has("after"), 10 * harness.SLOW,
                   what="the points accepted after recovery in the history")
        stored = [name for name in refused_names if history_has(name)]
        check(not stored, f"answered 503 'not stored', yet in the history: {stored}")


if __name__ == "__main__":
    harness.main(globals())
