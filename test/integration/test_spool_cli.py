"""`edgemon spool ...` against a spool file written by the real Spool class
(test/tools/spool_fill): every subcommand's output and exit code, the file
readable by the stock sqlite3 shell, reading commands answering while another
process holds the write lock, and changing ones waiting for it.
"""

import json
import os
import sqlite3
import subprocess
import threading
import time

import harness
from harness import check, make_tmpdir, run_cli, write_file

SPOOL_FILL = os.environ.get("EDGEMON_SPOOL_FILL") or os.path.join(
    harness.SOURCE_DIR, "build", "test", "spool_fill")
T0_MS = 1700000000000  # 2023-11-14T22:13:20Z
STEP_MS = 60000


def fill(path, output, count, points, *extra):
    r = subprocess.run([SPOOL_FILL, path, output, str(count), str(points)] + list(extra),
                       capture_output=True, text=True, timeout=60 * harness.SLOW)
    check(r.returncode == 0, f"spool_fill failed: {r.stderr}")
    return [int(x) for x in r.stdout.split()]


def expected_body(output, k, points, created_ms, precision):
    scale = {"ns": lambda ms: ms * 1000000, "us": lambda ms: ms * 1000,
             "ms": lambda ms: ms, "s": lambda ms: ms // 1000}[precision]
    return "".join(f"spool_fill,output={output},batch={k} v={p}i {scale(created_ms) + p}\n"
                   for p in range(points))


def spool(path, *args, timeout=30.0):
    return run_cli(["spool", "--spool", path] + list(args), timeout=timeout)


def ok(r, what):
    check(r.returncode == 0, f"{what}: exit {r.returncode}\nstdout:\n{r.stdout}\n"
                             f"stderr:\n{r.stderr}")
    return r.stdout


def data_lines(text):
    """Lines of a table without its header."""
    lines = [l for l in text.splitlines() if l.strip()]
    check(lines and lines[0].split()[0] == "ID", f"no header line in:\n{text}")
    return [l.split() for l in lines[1:]]


def make_spool():
    """influx: 5 batches x 3 points (s) and 2 dead letters; backup: 3 x 2 (ms)."""
    path = os.path.join(make_tmpdir("edgemon-spool-cli-"), "spool.db")
    ids = {
        "influx": fill(path, "influx", 5, 3, "--precision", "s", "--created-ms", str(T0_MS),
                       "--step-ms", str(STEP_MS)),
        "backup": fill(path, "backup", 3, 2, "--created-ms", str(T0_MS)),
        "dead": fill(path, "influx", 2, 4, "--dead", "400", "--created-ms", str(T0_MS)),
    }
    return path, ids


def test_file_is_readable_by_the_sqlite3_shell():
    exe = harness.require_binary("sqlite3")
    path, _ = make_spool()
    r = subprocess.run([exe, path, "SELECT count(*) FROM batches; "
                        "SELECT count(*) FROM dead_letters; "
                        "SELECT value FROM meta WHERE key = 'schema_version'; "
                        "SELECT body FROM batches WHERE output = 'backup' ORDER BY id LIMIT 1;"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, f"sqlite3: {r.stderr}")
    # Counts, schema version, then the body as stored (the shell adds a newline).
    expected = "8\n2\n1\n" + expected_body("backup", 0, 2, T0_MS, "ms") + "\n"
    check(r.stdout == expected, f"sqlite3 output:\n{r.stdout}\nexpected:\n{expected}")


def test_stats_text_and_json():
    path, _ = make_spool()
    out = ok(spool(path, "stats"), "stats")
    rows = {l.split()[0]: l.split() for l in out.splitlines()[2:]}
    check(out.splitlines()[0].startswith(f"spool {path}: "), f"stats header:\n{out}")
    check(rows["influx"][1:4] == ["5", "15", str(5 * len(expected_body("influx", 0, 3, T0_MS,
                                                                          "s")))],
          f"influx row: {rows['influx']}")
    check(rows["influx"][5:7] == ["2", "8"], f"influx dead letters: {rows['influx']}")
    check(rows["backup"][1:3] == ["3", "6"], f"backup row: {rows['backup']}")
    doc = json.loads(ok(spool(path, "stats", "--json"), "stats --json"))
    check(doc["path"] == path and doc["file_bytes"] > 0, f"stats json: {doc}")
    by_name = {o["output"]: o for o in doc["outputs"]}
    check([o["output"] for o in doc["outputs"]] == ["backup", "influx"], f"order: {doc}")
    influx = by_name["influx"]
    check((influx["batches"], influx["points"], influx["dead_letters"], influx["dead_points"])
          == (5, 15, 2, 8), f"influx: {influx}")
    check(influx["oldest_created_ms"] == T0_MS and influx["oldest_age_ms"] > 0, f"{influx}")


def test_list_show_and_dump():
    path, ids = make_spool()
    rows = data_lines(ok(spool(path, "list"), "list"))
    check([int(r[0]) for r in rows] == ids["influx"] + ids["backup"], f"list ids: {rows}")
    first = rows[0]
    check(first[1:] == ["influx", "2023-11-14T22:13:20.000Z", "3",
                        str(len(expected_body("influx", 0, 3, T0_MS, "s"))), "s", "0"],
          f"list line: {first}")
    rows = data_lines(ok(spool(path, "list", "--output", "backup", "--limit", "2"), "list"))
    check([int(r[0]) for r in rows] == ids["backup"][:2], f"list --output --limit: {rows}")
    rows = data_lines(ok(spool(path, "list", "--after", str(ids["influx"][3])), "list --after"))
    check([int(r[0]) for r in rows] == ids["influx"][4:] + ids["backup"], f"--after: {rows}")

    out = ok(spool(path, "show", str(ids["influx"][1])), "show")
    head, body = out.split("\n\n", 1)
    check(f"id: {ids['influx'][1]}" in head and "precision: s" in head and "points: 3" in head,
          f"show metadata:\n{head}")
    check(body == expected_body("influx", 1, 3, T0_MS + STEP_MS, "s"), f"show body:\n{body}")
    r = spool(path, "show", "99999")
    check(r.returncode == 1 and "no batch 99999" in r.stderr, f"show missing: {r}")

    out = ok(spool(path, "dump", "--output", "influx"), "dump")
    header, out = out.split("\n", 1)
    check(header.startswith("# ") and "precision=s" in header and "/write?precision=s" in header,
          f"dump lp does not say its timestamps' unit first: {header!r}")
    check(out == "".join(expected_body("influx", k, 3, T0_MS + k * STEP_MS, "s")
                         for k in range(5)), f"dump lp:\n{out}")
    objs = [json.loads(l) for l in ok(spool(path, "dump", "--format", "json"), "dump").splitlines()]
    check([o["id"] for o in objs] == ids["influx"] + ids["backup"], f"dump json ids: {objs}")
    check(objs[-1]["body"] == expected_body("backup", 2, 2, T0_MS + 2000, "ms")
          and objs[-1]["precision"] == "ms" and objs[-1]["points"] == 2, f"{objs[-1]}")
    r = spool(path, "dump")
    check(r.returncode == 0 and "different precisions" in r.stderr, f"mixed dump: {r.stderr}")
    # Each change of precision is announced where it happens.
    headers = [l for l in r.stdout.splitlines() if l.startswith("#")]
    check(len(headers) == 2 and "precision=s" in headers[0] and "precision=ms" in headers[1],
          f"mixed dump headers: {headers}")


def test_purge_by_output_and_time():
    path, ids = make_spool()
    out = ok(spool(path, "purge", "--output", "backup"), "purge --output")
    size = 3 * len(expected_body("backup", 0, 2, T0_MS, "ms"))
    check(out.strip() == f"purged 3 batches (6 points, {size} bytes)", f"purge: {out}")
    # Before T0 + 2.5 steps: batches 0, 1 and 2 of influx.
    out = ok(spool(path, "purge", "--before", "2023-11-14T22:15:50Z"), "purge --before")
    check(out.startswith("purged 3 batches (9 points"), f"purge --before RFC 3339: {out}")
    out = ok(spool(path, "purge", "--before", str(T0_MS // 1000 + 4 * 60 - 1)), "unix secs")
    check(out.startswith("purged 1 batch (3 points"), f"purge --before seconds: {out}")
    now_ms = int(time.time() * 1000)
    fill(path, "old", 2, 1, "--created-ms", str(now_ms - 3 * 3600 * 1000))
    fill(path, "fresh", 2, 1, "--created-ms", str(now_ms))
    out = ok(spool(path, "purge", "--output", "old", "--before", "2h"), "purge --before 2h")
    check(out.startswith("purged 2 batches (2 points"), f"purge --before 2h: {out}")
    rows = data_lines(ok(spool(path, "list"), "list"))
    check([r[1] for r in rows] == ["influx", "fresh", "fresh"], f"left after purges: {rows}")
    r = spool(path, "purge", "--before", "yesterday")
    check(r.returncode == 2 and "RFC 3339" in r.stderr, f"bad --before: {r}")


def test_dead_letters():
    path, ids = make_spool()
    rows = data_lines(ok(spool(path, "dead-letter"), "dead-letter"))
    check([int(r[1]) for r in rows] == ids["dead"], f"dead-letter list: {rows}")
    check(rows[0][7] == "400" and " ".join(rows[0][8:]) == "spool_fill: HTTP 400", f"{rows[0]}")
    first, second = int(rows[0][0]), int(rows[1][0])
    out = ok(spool(path, "dead-letter", "show", str(first)), "dead-letter show")
    head, body = out.split("\n\n", 1)
    check("status: 400" in head and f"batch: {ids['dead'][0]}" in head, f"show:\n{head}")
    check(body == expected_body("influx", 0, 4, T0_MS, "ms"), f"dead letter body:\n{body}")

    out = ok(spool(path, "dead-letter", "retry", str(first)), "retry")
    check(out.startswith("requeued 1 dead letter (4 points"), f"retry: {out}")
    rows = data_lines(ok(spool(path, "list", "--output", "influx"), "list"))
    check(int(rows[-1][0]) > max(ids["backup"]) and rows[-1][3] == "4", f"requeued: {rows}")
    r = spool(path, "dead-letter", "retry", str(first))
    check(r.returncode == 1 and "not dead letters" in r.stderr, f"retry again: {r}")
    r = spool(path, "dead-letter", "purge", "--output", "backup")
    check(r.returncode == 0 and r.stdout.startswith("purged 0 dead letters"), f"{r}")
    out = ok(spool(path, "dead-letter", "purge", str(second)), "purge")
    check(out.startswith("purged 1 dead letter (4 points"), f"dead-letter purge: {out}")
    check(data_lines(ok(spool(path, "dead-letter", "list"), "list")) == [], "dead letters left")


def test_readers_do_not_wait_for_a_writer_and_writers_do():
    path, ids = make_spool()
    holder = sqlite3.connect(path, isolation_level=None, timeout=10)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("DELETE FROM batches")  # uncommitted: readers still see every batch
    try:
        for args in (["stats"], ["list"], ["show", str(ids["influx"][0])], ["dump"],
                     ["dead-letter", "list"], ["dead-letter", "show", "1"]):
            t0 = time.monotonic()
            r = spool(path, *args)
            took = time.monotonic() - t0
            ok(r, " ".join(args) + " beside a write transaction")
            check(took < 3.0 * harness.SLOW, f"{args} took {took:.1f}s beside a writer")
        check(len(data_lines(spool(path, "list").stdout)) == 8, "reader saw uncommitted delete")
        # A purge waits for the lock (up to 5 s) and goes ahead once it is free.
        result = {}
        purge = threading.Thread(target=lambda: result.update(r=spool(path, "purge", "--output",
                                                                      "backup")))
        purge.start()
        time.sleep(0.5)
        check(purge.is_alive(), "purge did not wait for the write lock")
        holder.execute("ROLLBACK")
        purge.join(timeout=10 * harness.SLOW)
        check(not purge.is_alive(), "purge still waiting after the lock was released")
        check(ok(result["r"], "purge after the lock").startswith("purged 3 batches"),
              f"{result['r'].stdout}")
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()


def test_locating_the_spool_and_errors():
    path, _ = make_spool()
    directory = os.path.dirname(path)
    config = write_file(os.path.join(directory, "edgemon.yaml"), f"spool:\n  path: {path}\n")
    out = ok(run_cli(["spool", "-c", config, "stats"]), "stats -c")
    check(f"spool {path}:" in out, f"-c did not find spool.path:\n{out}")
    out = ok(run_cli(["spool", "--state-dir", directory, "list", "--limit", "1"]), "--state-dir")
    check(len(data_lines(out)) == 1, f"--state-dir: {out}")

    missing = os.path.join(directory, "nothing.db")
    r = spool(missing, "stats")
    check(r.returncode == 1 and f"no spool at {missing}" in r.stderr, f"missing: {r}")
    check(not os.path.exists(missing), "a reading command created the file")
    r = spool(missing, "purge")
    check(r.returncode == 1 and not os.path.exists(missing), f"purge on missing: {r}")

    garbage = write_file(os.path.join(directory, "garbage.db"), "not a database " * 500)
    for args in (["stats"], ["purge"]):
        r = spool(garbage, *args)
        check(r.returncode == 1 and "not a database" in r.stderr, f"{args} on garbage: {r}")
    # Readers may leave SQLite's -wal and -shm beside a database; nothing else.
    left = sorted(f for f in os.listdir(directory) if not f.endswith(("-wal", "-shm")))
    check(left == ["edgemon.yaml", "garbage.db", "spool.db"], f"files now: {left}")

    for args in (["bogus"], [], ["show"], ["show", "x"], ["stats", "--before", "1h"],
                 ["list", "--limit", "-3"], ["dump", "--format", "csv"],
                 ["dead-letter", "resurrect"], ["list", "extra"]):
        r = spool(path, *args)
        check(r.returncode == 2, f"{args}: exit {r.returncode}, expected 2 (usage)\n{r.stderr}")
    r = run_cli(["spool", "--help"])
    check(r.returncode == 0 and "dead-letter retry" in r.stdout, f"--help: {r}")


if __name__ == "__main__":
    check(os.access(SPOOL_FILL, os.X_OK), f"spool_fill not built: {SPOOL_FILL}")
    harness.main(globals())
