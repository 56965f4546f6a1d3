#!/usr/bin/env python3
"""A FAKE tegrastats: no Jetson here, so this stands in for NVIDIA's
/usr/bin/tegrastats in the integration tests. It takes the real program's
`--interval MS` and prints, every interval, the next recorded line of a
fixture (test/fixtures/tegrastats/<board>.txt, lines of real Jetsons; `#`
lines are provenance and skipped), cycling, until it is killed -- as the
real one does. Like the real one, the first line comes after one interval.

Environment:
  FAKE_TEGRASTATS_FIXTURE  the fixture file to replay (required)
  FAKE_TEGRASTATS_PIDS     a file this fake appends its pid to when it starts,
                           so a test can find, kill and check each start
  FAKE_TEGRASTATS_FLOOD    print this many lines at once after the first
                           interval, as a broken tegrastats might
"""
import os
import sys
import time


def main(argv):
    interval_ms = None
    args = iter(argv[1:])
    for a in args:
        if a == "--interval":
            interval_ms = int(next(args))
        else:
            print(f"fake_tegrastats: unknown option {a}", file=sys.stderr)
            return 2
    if interval_ms is None or interval_ms <= 0:
        print("fake_tegrastats: --interval MS is required", file=sys.stderr)
        return 2
    pids = os.environ.get("FAKE_TEGRASTATS_PIDS")
    if pids:
        with open(pids, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()}\n")
    with open(os.environ["FAKE_TEGRASTATS_FIXTURE"], encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
    n = 0
    flood = int(os.environ.get("FAKE_TEGRASTATS_FLOOD", "0"))
    if flood:
        time.sleep(interval_ms / 1000.0)
        sys.stdout.write("".join(lines[i % len(lines)] + "\n" for i in range(flood)))
        sys.stdout.flush()
    while True:
        time.sleep(interval_ms / 1000.0)
        sys.stdout.write(lines[n % len(lines)] + "\n")
        sys.stdout.flush()
        n += 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (BrokenPipeError, KeyboardInterrupt):
        sys.exit(1)
