"""The InfluxDB output over https against a real InfluxDB 1.6 on loopback
serving TLS with a certificate of a CA made for the test (openssl CLI, IP
SAN 127.0.0.1):

- with `tls_ca_file` set to that CA, points arrive;
- with the system's CAs only, the output reports the verification failure
  (naming OpenSSL's reason) in /status and keeps every point queued;
- with `tls_skip_verify`, points arrive;
- the daemon maps OpenSSL (libssl, libcrypto) and nothing else new: no
  libcurl, GnuTLS, Kerberos, LDAP, RTMP or SSH library."""

import os
import shutil
import subprocess
import sys

import harness
from harness import Daemon, check, eventually, make_tmpdir, write_file
from influx import Influxd

DB = "edge"
# Libraries Debian's libcurl drags in; none may be mapped by the lean client.
FORBIDDEN = ("libcurl", "gnutls", "krb5", "ldap", "rtmp", "ssh", "nghttp", "sasl", "psl")


def make_certificates():
    """(ca.pem, server.pem, server.key) in a temp dir: a CA, and a server
    certificate it signed for IP address 127.0.0.1."""
    d = make_tmpdir("edgemon-tls-")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def openssl(*args):
        r = subprocess.run(["openssl", *args], cwd=d, capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, f"openssl {' '.join(args)}: {r.stderr[-500:]}")

    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=edgemon test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    write_file(os.path.join(d, "ext.cnf"),
               "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
               "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    return tuple(os.path.join(d, n) for n in ("ca.pem", "server.pem", "server.key"))


def config(url, tls_lines=""):
    return f"""\
device_id: tls-device
collect:
  interval: 1s
spool:
  commit_interval: 100ms
outputs:
  influxdb:
    - name: main
      url: {url}
      database: {DB}
      flush_interval: 200ms
      retry_initial: 200ms
      retry_max: 1s
{tls_lines}"""


def write_config(text):
    return write_file(os.path.join(make_tmpdir("edgemon-cfg-"), "edgemon.yaml"), text)


def output_status(daemon):
    for o in daemon.get_json("/status").get("outputs", []):
        if o["name"] == "main":
            return o
    raise AssertionError("no output main in /status")


def stored(server):
    return len(server.times(DB, "loadavg", "load1"))


def mapped_libraries(pid):
    with open(f"/proc/{pid}/maps") as f:
        return sorted({line.split()[-1] for line in f if ".so" in line.split()[-1]})


CERTS = None
SERVER = None


def setup():
    global CERTS, SERVER
    if SERVER is None:
        CERTS = make_certificates()
        ca, cert, key = CERTS
        SERVER = Influxd(tls=(cert, key, ca)).start()
        SERVER.create_database(DB)
    return SERVER


def test_points_arrive_with_the_test_ca():
    server = setup()
    before = stored(server)
    cfg = write_config(config(server.url, f"      tls_ca_file: {CERTS[0]}\n"))
    with Daemon(config_path=cfg) as d:
        eventually(lambda: stored(server) >= before + 2, 15 * harness.SLOW, interval=0.1,
                   what="points in influxd over https")
        status = output_status(d)
        check(status["state"] == "ok" and not status["last_error"], f"status {status}")
        libs = mapped_libraries(d.pid)
        check(any("libssl.so" in lib for lib in libs), f"libssl not mapped: {libs}")
        check(any("libcrypto.so" in lib for lib in libs), f"libcrypto not mapped: {libs}")
        bad = [lib for lib in libs if any(f in os.path.basename(lib) for f in FORBIDDEN)]
        check(not bad, f"libraries the lean client must not map: {bad}")


def test_system_store_rejects_the_test_ca_and_nothing_is_lost():
    server = setup()
    before = stored(server)
    cfg = write_config(config(server.url))
    with Daemon(config_path=cfg) as d:
        def rejected():
            s = output_status(d)
            return s if "certificate verification failed" in (s["last_error"] or "") and \
                s["queued"]["points"] > 0 else None
        status = eventually(rejected, 15 * harness.SLOW, interval=0.1,
                            what="a TLS verification error in /status")
        err = status["last_error"]
        # OpenSSL's own words for a certificate of an unknown CA.
        check("local issuer" in err or "self-signed" in err or "self signed" in err,
              f"last_error {err!r} does not say why")
        check(status["state"] == "retrying", f"status {status}")
        check(sum(status["dropped_points"].values()) == 0, f"drops {status['dropped_points']}")
        check(status["dead_lettered_points"] == 0, f"dead letters {status}")
        check(stored(server) == before, "points arrived without a trusted certificate")


def test_hostname_is_verified():
    server = setup()
    # The certificate names 127.0.0.1 only.
    cfg = write_config(config(f"https://localhost:{server.port}",
                              f"      tls_ca_file: {CERTS[0]}\n"))
    with Daemon(config_path=cfg) as d:
        def rejected():
            s = output_status(d)
            return s if "verification failed" in (s["last_error"] or "") else None
        status = eventually(rejected, 15 * harness.SLOW, interval=0.1,
                            what="a hostname mismatch in /status")
        check("mismatch" in status["last_error"], f"last_error {status['last_error']!r}")


def test_skip_verify_accepts_any_certificate():
    server = setup()
    before = stored(server)
    cfg = write_config(config(server.url, "      tls_skip_verify: true\n"))
    with Daemon(config_path=cfg) as d:
        eventually(lambda: stored(server) >= before + 2, 15 * harness.SLOW, interval=0.1,
                   what="points in influxd with verification off")
        check(output_status(d)["state"] == "ok", f"status {output_status(d)}")


def test_zz_stop_influxd():
    if SERVER is not None:
        SERVER.stop()


if __name__ == "__main__":
    if shutil.which("influxd") is None or shutil.which("openssl") is None:
        print("SKIP: influxd or openssl not installed")
        sys.exit(0)
    harness.main(globals())
