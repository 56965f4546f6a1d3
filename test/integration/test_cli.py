"""The command line: `check` on good and bad configs, `collect --once`
against the fixture host tree (golden file), `config`, `version`, `--help`.

`python3 test_cli.py --update-golden` rewrites golden/collect_once_fixture.prom
and golden/collect_once_fixture.lp from the current binary (review the diff
before committing it).
"""

import difflib
import os
import re
import socket
import sys
import time

import harness
from harness import check, make_tmpdir, run_cli, write_file

GOLDEN = os.path.join(harness.HERE, "golden", "collect_once_fixture.prom")
GOLDEN_LP = os.path.join(harness.HERE, "golden", "collect_once_fixture.lp")
FIXTURE_HOST = os.path.join(harness.SOURCE_DIR, "test", "fixtures", "host")
# Collectors whose output depends on the machine running the test or on the
# clock, not on the fixture tree.
NONDETERMINISTIC = "filesystem,uname,network_address,self,time"
# Families whose values vary from run to run even on a fixture tree.
IGNORED_FAMILIES = ("edgemon_collector_duration_seconds",)
UPDATE_GOLDEN = "--update-golden" in sys.argv

SUBCOMMANDS = ("run", "check", "collect", "config", "version")


def error_lines(out, path):
    """The FILE:LINE:COL: key: message lines of a `check` run, as tuples."""
    found = []
    pattern = re.compile(re.escape(path) + r":(\d+):(\d+): (.*)$")
    for line in out.splitlines():
        m = pattern.match(line.strip())
        if m:
            found.append((int(m.group(1)), int(m.group(2)), m.group(3)))
    return found


def check_config(text):
    path = write_file(os.path.join(make_tmpdir(), "edgemon.yaml"), text)
    r = run_cli(["check", "-c", path])
    return path, r, r.stdout + r.stderr


def expect_error(text, line, key, column=None, message_re=None):
    path, r, out = check_config(text)
    check(r.returncode == 2, f"check exit {r.returncode}, expected 2, for:\n{text}\noutput:\n{out}")
    errs = error_lines(out, path)
    check(errs, f"no FILE:LINE:COL line in output:\n{out}")
    for ln, col, rest in errs:
        if ln != line or (column is not None and col != column):
            continue
        if key and not rest.startswith(key + ": "):
            continue
        if message_re and not re.search(message_re, rest):
            continue
        return errs
    raise AssertionError(f"expected an error at line {line}"
                         f"{'' if column is None else ' column ' + str(column)} naming {key!r}"
                         f"{'' if not message_re else ' matching ' + message_re!r}; got:\n{out}")


def test_check_accepts_good_configs():
    for text in ("", "# only a comment\n",
                 "log:\n  level: debug\nhttp:\n  listen: [\"127.0.0.1:0\", \"[::1]:0\"]\n"
                 "  limits:\n    max_connections: 10\n    header_timeout: 500ms\n"
                 "collect:\n  interval: 1s\n  disable: [thermal]\n"):
        path, r, out = check_config(text)
        check(r.returncode == 0, f"check exit {r.returncode} for a valid config:\n{text}\n{out}")
        check(f"{path}: OK" in out, f"expected '{path}: OK', got:\n{out}")


def test_check_accepts_shipped_config():
    path = os.path.join(harness.SOURCE_DIR, "etc", "edgemon.yaml")
    r = run_cli(["check", "-c", path])
    check(r.returncode == 0 and f"{path}: OK" in r.stdout + r.stderr,
          f"etc/edgemon.yaml: exit {r.returncode}: {r.stdout}{r.stderr}")


def test_check_unknown_key():
    errs = expect_error("http:\n  limits:\n    max_conections: 10\n", 3,
                        "http.limits.max_conections", column=5, message_re="unknown")
    check(len(errs) == 1, f"one mistake, several errors: {errs}")


def test_check_wrong_type():
    expect_error("collect:\n  interval: fast\n", 2, "collect.interval", column=13)
    expect_error("http:\n  limits:\n    max_connections: [1, 2]\n", 3,
                 "http.limits.max_connections", column=22)
    expect_error("log: debug\n", 1, "log", column=6)


def test_check_out_of_range():
    expect_error("http:\n  limits:\n    max_connections: 0\n", 3,
                 "http.limits.max_connections", column=22)
    expect_error("collect:\n  interval: 10ms\n", 2, "collect.interval", column=13)


def test_check_bad_value():
    expect_error("log:\n  level: loud\n", 2, "log.level", column=10)
    expect_error("http:\n  listen: [\"127.0.0.1\"]\n", 2, "http.listen")
    expect_error("collect:\n  filesystem:\n    fs_types_exclude: \"(\"\n", 3,
                 "collect.filesystem.fs_types_exclude")


def test_check_bad_yaml():
    path, r, out = check_config("log:\n  level: info: debug\n")
    check(r.returncode == 2, f"bad YAML: exit {r.returncode}, expected 2:\n{out}")
    errs = error_lines(out, path)
    check(any(ln == 2 for ln, _, _ in errs), f"bad YAML error does not name line 2:\n{out}")
    path, r, out = check_config("http:\n  listen: [\"127.0.0.1:1\"\n  limits: {}\n")
    check(r.returncode == 2 and error_lines(out, path),
          f"unclosed flow sequence: exit {r.returncode}:\n{out}")


def test_check_reports_every_error():
    text = ("log:\n  levle: info\n"               # line 2: unknown key
            "http:\n  limits:\n    max_body_bytes: -1\n"  # line 5: out of range
            "collect:\n  interval: soon\n")         # line 7: wrong type
    path, r, out = check_config(text)
    check(r.returncode == 2, f"exit {r.returncode}:\n{out}")
    lines = {ln for ln, _, _ in error_lines(out, path)}
    check({2, 5, 7} <= lines, f"expected errors at lines 2, 5 and 7, got {sorted(lines)}:\n{out}")


def test_check_duplicate_key_and_missing_file():
    expect_error("log:\n  level: info\n  level: warn\n", 3, "log.level", message_re="duplicate")
    missing = os.path.join(make_tmpdir(), "nope.yaml")
    r = run_cli(["check", "-c", missing])
    check(r.returncode == 2 and missing in r.stdout + r.stderr,
          f"missing file: exit {r.returncode}: {r.stdout}{r.stderr}")


def test_set_rejects_unknown_key_and_bad_value():
    for arg, key in (("collect.bogus=1", "collect.bogus"),
                     ("http.limits.max_connections=zero", "http.limits.max_connections")):
        r = run_cli(["collect", "--once", "--set", arg], timeout=20)
        check(r.returncode not in (0, 1), f"--set {arg}: exit {r.returncode}, expected a usage "
                                          f"or config error (2)")
        check(key in r.stdout + r.stderr, f"--set {arg}: message does not name {key}: {r.stderr}")


def test_config_matches_shipped_yaml():
    r = run_cli(["config"])
    check(r.returncode == 0, f"edgemon config: exit {r.returncode}: {r.stderr}")
    with open(os.path.join(harness.SOURCE_DIR, "etc", "edgemon.yaml"), encoding="utf-8") as f:
        shipped = f.read()
    if r.stdout != shipped:
        diff = "".join(difflib.unified_diff(shipped.splitlines(True), r.stdout.splitlines(True),
                                            "etc/edgemon.yaml", "edgemon config", n=1))
        raise AssertionError(f"`edgemon config` differs from etc/edgemon.yaml "
                             f"(run `make etc`):\n{diff[:3000]}")
    # The reference must itself be a valid config.
    path = write_file(os.path.join(make_tmpdir(), "ref.yaml"), r.stdout)
    c = run_cli(["check", "-c", path])
    check(c.returncode == 0, f"`edgemon config` output fails check: {c.stdout}{c.stderr}")


def test_version():
    r = run_cli(["version"])
    check(r.returncode == 0, f"version: exit {r.returncode}: {r.stderr}")
    check(re.search(r"\bedgemon\b", r.stdout) and re.search(r"\d+\.\d+\.\d+", r.stdout),
          f"version output lacks 'edgemon' and a x.y.z version: {r.stdout!r}")


def test_help_everywhere():
    r = run_cli(["--help"])
    check(r.returncode == 0, f"--help: exit {r.returncode}: {r.stderr}")
    for sub in SUBCOMMANDS:
        check(re.search(rf"\b{sub}\b", r.stdout), f"top-level --help does not list {sub!r}:\n{r.stdout}")
    for sub in SUBCOMMANDS:
        r = run_cli([sub, "--help"], timeout=10)
        check(r.returncode == 0, f"{sub} --help: exit {r.returncode}: {r.stderr}")
        check(re.search(r"(?i)usage", r.stdout) and sub in r.stdout,
              f"{sub} --help has no usage line naming {sub!r}:\n{r.stdout}")
    for flag in ("-c", "--listen", "--state-dir", "--set"):
        r = run_cli(["run", "--help"])
        check(flag in r.stdout, f"run --help does not document {flag}:\n{r.stdout}")


def test_usage_errors():
    r = run_cli(["frobnicate"])
    check(r.returncode not in (0, None) and r.stderr.strip(),
          f"unknown command: exit {r.returncode}, stderr {r.stderr!r}")
    state = make_tmpdir()
    r = run_cli(["run", "--no-such-flag", "--listen", "127.0.0.1:0", "--state-dir", state],
                timeout=10)
    check(r.returncode != 0 and "--no-such-flag" in r.stderr,
          f"unknown flag: exit {r.returncode}, stderr {r.stderr!r}")


def fixture_args(root=FIXTURE_HOST):
    return ["collect", "--once",
            "--set", f"collect.procfs={os.path.join(root, 'proc')}",
            "--set", f"collect.sysfs={os.path.join(root, 'sys')}",
            "--set", f"collect.rootfs={os.path.join(root, 'root')}",
            "--set", f"collect.disable={NONDETERMINISTIC}"]


def normalise(text):
    return "".join(l + "\n" for l in text.splitlines()
                   if not any(l.startswith(f) or l.startswith(f"# HELP {f} ")
                              or l.startswith(f"# TYPE {f} ") for f in IGNORED_FAMILIES))


def test_collect_once_golden():
    check(os.path.isdir(os.path.join(FIXTURE_HOST, "proc")),
          f"fixture tree {FIXTURE_HOST}/proc is missing")
    r = run_cli(fixture_args())
    check(r.returncode == 0, f"collect --once on the fixture tree: exit {r.returncode}:\n"
                             f"{r.stderr[-2000:]}")
    families = harness.parse_exposition(r.stdout)
    for must in ("node_cpu_seconds_total", "node_memory_MemTotal_bytes", "node_load1",
                 "node_network_receive_bytes_total", "node_context_switches_total",
                 "edgemon_collector_success"):
        check(must in families, f"collect --once output lacks {must}")
    bad = [s for s in families["edgemon_collector_success"].samples if s[2] != 1]
    check(not bad, f"collectors failed on the fixture tree: {bad}")
    compare_golden(GOLDEN, normalise(r.stdout))


def compare_golden(path, got):
    if UPDATE_GOLDEN:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_file(path, got)
        print(f"wrote {path} ({len(got.splitlines())} lines)")
        return
    check(os.path.exists(path), f"{path} is missing; run test_cli.py --update-golden")
    with open(path, encoding="utf-8") as f:
        want = f.read()
    if got != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                            "golden", "collect --once", n=0))
        raise AssertionError(f"collect --once differs from {os.path.basename(path)} "
                             f"(rerun with --update-golden if intended):\n{diff[:4000]}")


def normalise_lp(text, started_ns, ended_ns):
    """Makes the clock- and machine-dependent parts of line protocol fixed,
    after checking them: every timestamp is a gather start within the run,
    every point carries this machine's host name. collect --once prints no
    test-only output; the golden keeps everything else byte for byte."""
    host = socket.gethostname()
    out = []
    for line in text.splitlines():
        m = re.fullmatch(r"(.* )(\d+)", line)
        check(m, f"line protocol line without a timestamp: {line!r}")
        check(started_ns <= int(m.group(2)) <= ended_ns,
              f"timestamp {m.group(2)} outside the run [{started_ns}, {ended_ns}]: {line!r}")
        body = m.group(1)
        check(f",host={host}," in body or f",host={host} " in body,
              f"point without host={host}: {line!r}")
        body = re.sub(r",host=[^, ]+", ",host=HOST", body)
        # The only value that differs between runs on the same tree.
        body = re.sub(r"duration_seconds=[^, ]+,", "", body)
        out.append(body + "TIME\n")
    return "".join(out)


def test_collect_once_line_protocol_golden():
    """Both schemas, with global tags; thermal's `zone` label meets the
    configured `zone` tag and becomes exported_zone."""
    args = fixture_args() + ["--format", "lp", "--schema", "both",
                             "--set", "device_id=fixture-device",
                             "--set", "tags.zone=a", "--set", "tags.location=lab"]
    started_ns = (time.time_ns() // 1_000_000) * 1_000_000
    r = run_cli(args)
    ended_ns = time.time_ns()
    check(r.returncode == 0, f"collect --once --format lp: exit {r.returncode}:\n"
                             f"{r.stderr[-2000:]}")
    check(r.stderr == "", f"collect --once --format lp wrote to stderr:\n{r.stderr[-2000:]}")
    got = normalise_lp(r.stdout, started_ns, ended_ns)
    for must in ("meminfo,device_id=fixture-device,host=HOST,location=lab,zone=a "
                 "memory_MemTotal_bytes=7989481472,",
                 "netdev,device=eth0,device_id=fixture-device,host=HOST,location=lab,zone=a "
                 "network_receive_bytes_total=1234567890,",
                 "thermal,device_id=fixture-device,exported_zone=0,",
                 "edgemon_collector,collector=cpu,",
                 "system_metrics,device_id=fixture-device,device_type=unknown,host=HOST,location=lab,zone=a "
                 "memory=31.9"):
        check(must in got, f"collect --once --format lp lacks {must!r}:\n{got[:3000]}")
    check("cpu=" not in got.split("system_metrics", 1)[1],
          "system_metrics of a single round must not have cpu (no previous sample)")
    compare_golden(GOLDEN_LP, got)


def test_collect_format_flags():
    r = run_cli(fixture_args() + ["--schema", "host"])
    check(r.returncode == 2 and "--format lp" in r.stderr,
          f"--schema without --format lp: exit {r.returncode}, stderr {r.stderr!r}")
    for bad in (["--format", "json"], ["--format", "lp", "--schema", "flask"]):
        r = run_cli(fixture_args() + bad)
        check(r.returncode == 2 and bad[-1] in r.stderr,
              f"{bad}: exit {r.returncode}, stderr {r.stderr!r}")
    r = run_cli(fixture_args() + ["--format", "lp"])
    check(r.returncode == 0, f"--format lp: exit {r.returncode}: {r.stderr[-2000:]}")
    measurements = {l.split(",", 1)[0].split(" ", 1)[0] for l in r.stdout.splitlines()}
    check("system_metrics" not in measurements and {"cpu", "meminfo"} <= measurements,
          f"--format lp defaults to the host schema; got measurements {sorted(measurements)}")


def test_collect_once_reports_failed_collector():
    empty = make_tmpdir()
    for sub in ("proc", "sys", "root"):
        os.mkdir(os.path.join(empty, sub))
    r = run_cli(fixture_args(empty))
    check(r.returncode == 1, f"collect --once on an empty procfs: exit {r.returncode}, expected 1")
    families = harness.parse_exposition(r.stdout)
    success = families.get("edgemon_collector_success")
    check(success is not None, "no edgemon_collector_success in output when collectors fail")
    failed = {l.get("collector") for _, l, v in success.samples if v == 0}
    check({"cpu", "meminfo", "loadavg"} <= failed,
          f"cpu/meminfo/loadavg should report success 0 with an empty procfs; failed={failed}")


if __name__ == "__main__":
    harness.main(globals())
