"""init/edgemon.service: a notify unit with a watchdog, its own user, and a
hardening score of at most 2.0 from `systemd-analyze security --offline`."""

import os
import re
import subprocess

import harness
from harness import check

UNIT = os.path.join(harness.SOURCE_DIR, "init", "edgemon.service")
MAX_EXPOSURE = 2.0


def service_keys():
    keys = {}
    section = None
    with open(UNIT, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            name, _, value = line.partition("=")
            keys.setdefault((section, name.strip()), []).append(value.strip())
    return keys


def test_security_exposure():
    exe = harness.require_binary("systemd-analyze")
    r = subprocess.run([exe, "security", "--offline=yes", f"--threshold={int(MAX_EXPOSURE * 10)}",
                        UNIT], capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", r.stdout + r.stderr)
    check(m, f"no exposure figure in systemd-analyze output:\n{r.stdout[-1500:]}{r.stderr}")
    exposure = float(m.group(1))
    print(f"systemd-analyze security exposure: {exposure}")
    check(r.returncode == 0, f"systemd-analyze security rc {r.returncode} (exposure {exposure})")
    check(exposure <= MAX_EXPOSURE, f"exposure {exposure} > {MAX_EXPOSURE}")


def test_unit_shape():
    keys = service_keys()

    def one(name):
        values = keys.get(("Service", name))
        check(values, f"[Service] {name}= is missing")
        return values[-1]

    check(one("Type") == "notify", f"Type={one('Type')}, expected notify")
    check(re.fullmatch(r"\d+(\.\d+)?(s|min|ms)?", one("WatchdogSec")),
          f"WatchdogSec={one('WatchdogSec')!r} is not a duration")
    check(one("NotifyAccess") in ("main", "all", "exec"), f"NotifyAccess={one('NotifyAccess')}")
    check(re.search(r"edgemon run\b", one("ExecStart")), f"ExecStart={one('ExecStart')}")
    check("HUP" in keys.get(("Service", "ExecReload"), [""])[-1], "ExecReload does not send HUP")
    dynamic = keys.get(("Service", "DynamicUser"), ["no"])[-1] == "yes"
    user = keys.get(("Service", "User"), ["root"])[-1]
    check(dynamic or user not in ("root", "0"), "the unit runs as root")


def test_unit_verifies():
    exe = harness.require_binary("systemd-analyze")
    d = harness.make_tmpdir()
    with open(UNIT, encoding="utf-8") as f:
        text = f.read()
    # verify insists that ExecStart exists; point it at the built binary.
    text = re.sub(r"^ExecStart=\S+", f"ExecStart={harness.BIN}", text, flags=re.M)
    path = harness.write_file(os.path.join(d, "edgemon.service"), text)
    r = subprocess.run([exe, "verify", path], capture_output=True, text=True, timeout=60)
    out = (r.stdout + r.stderr).strip()
    check(r.returncode == 0, f"systemd-analyze verify rc {r.returncode}:\n{out}")
    check(not out, f"systemd-analyze verify complains:\n{out}")


if __name__ == "__main__":
    harness.main(globals())
