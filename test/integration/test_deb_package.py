"""The Debian package on this machine itself, with dpkg: built from this
build by init/build-deb.sh, lintian without errors, then installed (binary,
unit, conffile, system user, state directory, man page), upgraded with the
operator's edit of the conffile kept, removed (configuration and state
kept) and purged (both gone). Skipped unless run as root, and when an
edgemon package is already installed (it is not this test's to replace),
and under the sanitizers (the package is of the release build)."""
import os
import pwd
import shutil
import subprocess

import harness
from harness import check, make_tmpdir

BUILD = os.path.dirname(os.path.abspath(harness.BIN))
SCRIPT = os.path.join(harness.SOURCE_DIR, "init", "build-deb.sh")
CONF = "/etc/edgemon/edgemon.yaml"


def run(*cmd, ok=True, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                       env={**os.environ, **(env or {})})
    if ok:
        check(r.returncode == 0, f"{' '.join(cmd)}: rc {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def installed():
    r = run("dpkg-query", "-W", "-f=${Status}", "edgemon", ok=False)
    return r.returncode == 0 and "installed" in r.stdout and "not-installed" not in r.stdout


def build(version):
    out = make_tmpdir("edgemon-deb-")
    deb = run("sh", SCRIPT, BUILD, out, env={"DEB_VERSION": version}).stdout.strip()
    check(deb.endswith(f"edgemon_{version}_{run('dpkg', '--print-architecture').stdout.strip()}"
                       ".deb") and os.path.exists(deb), f"no package: {deb!r}")
    return deb


def test_install_upgrade_remove_purge():
    if os.geteuid() != 0 or not shutil.which("dpkg") or harness.SANITIZE:
        raise harness.Skip("needs root and dpkg, and the release build")
    if installed():
        raise harness.Skip("an edgemon package is installed here already")
    first = build("0.1.0~test1")
    if shutil.which("lintian"):
        r = run("lintian", "--tag-display-limit", "0", first, ok=False)
        errors = [line for line in r.stdout.splitlines() if line.startswith("E:")]
        check(not errors, "lintian errors:\n" + "\n".join(errors))
    try:
        run("dpkg", "-i", first)
        check(installed(), "not installed after dpkg -i")
        v = run("/usr/bin/edgemon", "version").stdout
        check(v.startswith("edgemon "), f"edgemon version: {v}")
        run("/usr/bin/edgemon", "check", "-c", CONF)
        with open("/lib/systemd/system/edgemon.service", encoding="utf-8") as f:
            unit = f.read()
        check("ExecStart=/usr/bin/edgemon run -c /etc/edgemon/edgemon.yaml" in unit,
              "the unit does not run the packaged binary on the packaged config")
        user = pwd.getpwnam("edgemon")
        st = os.stat("/var/lib/edgemon")
        check(st.st_uid == user.pw_uid and (st.st_mode & 0o777) == 0o750,
              f"/var/lib/edgemon owner {st.st_uid} mode {oct(st.st_mode)}")
        check(os.path.exists("/usr/share/man/man1/edgemon.1.gz"), "no man page")
        man = run("sh", "-c", "zcat /usr/share/man/man1/edgemon.1.gz").stdout
        check(".SS spool" in man and "usage: edgemon spool" in man,
              "the man page lacks the commands' --help")
        conffiles = run("dpkg-query", "-W", "-f=${Conffiles}", "edgemon").stdout
        check(CONF in conffiles, f"{CONF} is not a conffile: {conffiles!r}")

        # The operator's edit survives an upgrade.
        with open(CONF, "a", encoding="utf-8") as f:
            f.write("# edited by the operator\n")
        run("dpkg", "-i", "--force-confold", build("0.1.0~test2"))
        check(run("dpkg-query", "-W", "-f=${Version}", "edgemon").stdout == "0.1.0~test2",
              "not upgraded")
        with open(CONF, encoding="utf-8") as f:
            check(f.read().endswith("# edited by the operator\n"), "the upgrade lost the edit")

        with open("/var/lib/edgemon/spool.db", "w", encoding="utf-8") as f:
            f.write("")  # stands for the state a running daemon leaves
        run("dpkg", "-r", "edgemon")
        check(not os.path.exists("/usr/bin/edgemon"), "binary left after remove")
        check(os.path.exists(CONF) and os.path.exists("/var/lib/edgemon/spool.db"),
              "remove took the configuration or the state")
        run("dpkg", "-P", "edgemon")
        check(not os.path.exists(CONF) and not os.path.exists("/var/lib/edgemon"),
              "purge left the configuration or the state")
    finally:
        if installed() or run("dpkg-query", "-W", "edgemon", ok=False).returncode == 0:
            run("dpkg", "-P", "edgemon", ok=False)


def test_install_scripts_from_a_checkout():
    """init/install.sh and init/uninstall.sh, into a DESTDIR (no root needed):
    the configuration is kept by uninstall and removed by --purge."""
    dest = make_tmpdir("edgemon-destdir-")
    env = {"PATH": os.environ["PATH"]}
    run("sh", os.path.join(harness.SOURCE_DIR, "init", "install.sh"), "--destdir", dest,
        "--no-start", env=env)
    for path in ("usr/local/bin/edgemon", "etc/systemd/system/edgemon.service",
                 "etc/edgemon/edgemon.yaml"):
        check(os.path.exists(os.path.join(dest, path)), f"install.sh did not install {path}")
    run("sh", os.path.join(harness.SOURCE_DIR, "init", "uninstall.sh"), "--destdir", dest)
    check(not os.path.exists(os.path.join(dest, "usr/local/bin/edgemon")),
          "uninstall.sh left the binary")
    check(os.path.exists(os.path.join(dest, "etc/edgemon/edgemon.yaml")),
          "uninstall.sh took the configuration without --purge")
    run("sh", os.path.join(harness.SOURCE_DIR, "init", "uninstall.sh"), "--destdir", dest,
        "--purge")
    check(not os.path.exists(os.path.join(dest, "etc/edgemon")), "--purge kept /etc/edgemon")


if __name__ == "__main__":
    harness.main(globals())
