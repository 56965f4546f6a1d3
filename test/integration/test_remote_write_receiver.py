"""edgemon's remote-write encoder against a real Prometheus 2.42 receiver:
requests built by test/tools/rw_encode (the daemon's own encoder and snappy)
are POSTed to /api/v1/write and read back over the query API with exact
values, labels and timestamps. Also pins down how Prometheus answers what it
refuses -- garbage, out-of-order and duplicate samples -- because the
remote-write output's retry and dead-letter policy is built on those
answers."""

import os
import shutil
import subprocess
import sys
import time

import harness
from harness import check
from prometheus import Prometheus

RW_ENCODE = os.environ.get("EDGEMON_RW_ENCODE") or os.path.join(
    harness.SOURCE_DIR, "build", "test", "rw_encode")

# Recent enough for the TSDB head to accept, on whole seconds.
T = (int(time.time()) - 600) * 1000


def encode(text, plain=False):
    r = subprocess.run([RW_ENCODE] + (["--plain"] if plain else []), input=text.encode("utf-8"),
                       capture_output=True, timeout=30)
    check(r.returncode == 0, f"rw_encode rc {r.returncode}: {r.stderr!r}")
    return r.stdout, r.stderr.decode("utf-8").strip().splitlines()[-1]


def snappy_block(data):
    """A raw snappy block of literals only: enough to wrap bytes of our choosing."""
    out = bytearray()
    n = len(data)
    while True:  # uncompressed length, base-128 varint
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            break
    for i in range(0, len(data), 256):
        chunk = data[i:i + 256]
        if len(chunk) <= 60:
            out.append((len(chunk) - 1) << 2)
        else:
            out += bytes([60 << 2, len(chunk) - 1])
        out += chunk
    return bytes(out)


def values(prom, selector, at_ms):
    """Every stored sample of each matching series, up to at_ms."""
    result = prom.query(f"{selector}[30m]", at=at_ms / 1000)
    return {tuple(sorted(s["metric"].items())): [(round(float(t) * 1000), v) for t, v in s["values"]]
            for s in result}


def test_samples_round_trip_with_exact_values_and_labels():
    body, counters = encode("\n".join([
        # Lines of one series out of time order: the encoder orders them.
        f'edge_rw_temp{{site="a b",sensor="x\\"y\\\\z",empty=""}} 22.125 {T + 15000}',
        f'edge_rw_temp{{site="a b",sensor="x\\"y\\\\z",empty=""}} 21.5 {T}',
        f'edge_rw_temp{{site="a b",sensor="x\\"y\\\\z",empty=""}} 0.1 {T + 30000}',
        f'edge_rw_temp{{site="a b",sensor="x\\"y\\\\z",empty=""}} 7 {T + 7000}',
        f'edge_rw_big{{unit="ü\\nline"}} 1e300 {T}',
        f'edge_rw_big{{unit="ü\\nline"}} -2.2250738585072014e-308 {T + 1000}',
        f'edge_rw_special{{kind="nan"}} NaN {T}',
        f'edge_rw_special{{kind="inf"}} +Inf {T}',
        f'edge_rw_special{{kind="-inf"}} -Inf {T}',
        f'edge_rw_stale{{}} 5 {T}',
        f'edge_rw_stale{{}} stale {T + 15000}',
    ]) + "\n")
    check('"series":6' in counters and '"empty_labels":1' in counters, counters)
    with Prometheus() as prom:
        r = prom.write(body)
        check(r.status == 204, f"write: {r}")
        temp = values(prom, "edge_rw_temp", T + 60000)
        key = (("__name__", "edge_rw_temp"), ("sensor", 'x"y\\z'), ("site", "a b"))
        check(list(temp) == [key], f"edge_rw_temp series: {list(temp)}")
        check(temp[key] == [(T, "21.5"), (T + 7000, "7"), (T + 15000, "22.125"),
                            (T + 30000, "0.1")], f"edge_rw_temp samples: {temp[key]}")

        big = values(prom, "edge_rw_big", T + 60000)
        key = (("__name__", "edge_rw_big"), ("unit", "ü\nline"))
        check(list(big) == [key], f"edge_rw_big series: {list(big)}")
        got = [(t, float(v)) for t, v in big[key]]
        check(got == [(T, 1e300), (T + 1000, -2.2250738585072014e-308)], f"edge_rw_big: {got}")

        special = {dict(k)["kind"]: v for k, v in values(prom, "edge_rw_special", T + 60000).items()}
        check(special == {"nan": [(T, "NaN")], "inf": [(T, "+Inf")], "-inf": [(T, "-Inf")]},
              f"edge_rw_special: {special}")

        # The staleness marker arrived as one, not as an ordinary NaN: the
        # series ends at T+15s instead of answering NaN.
        check(prom.query("edge_rw_stale", at=(T + 10000) / 1000)[0]["value"][1] == "5",
              "edge_rw_stale before its marker")
        check(prom.query("edge_rw_stale", at=(T + 20000) / 1000) == [],
              "edge_rw_stale after its staleness marker")

        names = sorted(s["__name__"] for s in prom.series('{__name__=~"edge_rw_.+"}'))
        check(names == ["edge_rw_big", "edge_rw_special", "edge_rw_special", "edge_rw_special",
                        "edge_rw_stale", "edge_rw_temp"], f"series: {names}")
        check(all("empty" not in s for s in prom.series("edge_rw_temp")), "an empty label arrived")
        prom.stop()


# What Prometheus 2.42 answers, case by case. Printed so a run records it.
def answer(prom, what, body, headers=None):
    r = prom.write(body, headers)
    print(f"  {what}: {r.status} {r.body.decode('utf-8', 'replace').strip()!r}", flush=True)
    return r


def test_refusals_and_their_status_codes():
    with Prometheus() as prom:
        r = answer(prom, "garbage body", b"this is neither snappy nor protobuf")
        check(r.status == 400, f"garbage body: {r}")
        r = answer(prom, "snappy of garbage", snappy_block(b"\xff\xff\xff\xff not protobuf"))
        check(r.status == 400, f"snappy of garbage: {r}")
        plain, _ = encode(f"edge_rw_x 1 {T}\n", plain=True)
        r = answer(prom, "protobuf without snappy", plain)
        check(r.status == 400, f"protobuf without snappy: {r}")

        r = answer(prom, "empty request", snappy_block(b""))
        check(r.status == 204, f"empty request: {r}")

        check(answer(prom, "first sample", encode(f"edge_rw_x 1 {T + 60000}\n")[0]).status == 204,
              "first sample")
        r = answer(prom, "older sample (out of order)", encode(f"edge_rw_x 2 {T}\n")[0])
        check(r.status == 400, f"out of order: {r}")
        r = answer(prom, "same time, same value", encode(f"edge_rw_x 1 {T + 60000}\n")[0])
        check(r.status == 204, f"identical duplicate: {r}")
        r = answer(prom, "same time, other value", encode(f"edge_rw_x 3 {T + 60000}\n")[0])
        check(r.status == 400, f"duplicate timestamp: {r}")

        # One refused sample fails the whole request: Prometheus rolls its
        # appender back, so the good series in it are not stored either.
        r = answer(prom, "good series + out-of-order sample", encode(
            f"edge_rw_good 1 {T + 60000}\nedge_rw_x 4 {T}\n")[0])
        check(r.status == 400, f"mixed request: {r}")
        check(prom.query("edge_rw_good", at=(T + 61000) / 1000) == [],
              "a series from a refused request was stored")

        r = answer(prom, "sample at 1970 (out of bounds)", encode("edge_rw_old 1 1000\n")[0])
        check(r.status == 400, f"out of bounds: {r}")

        # Prometheus 2.42 does not look at the headers.
        r = answer(prom, "no Content-Encoding/version headers",
                   encode(f"edge_rw_hdr 1 {T}\n")[0],
                   {"Content-Encoding": "", "X-Prometheus-Remote-Write-Version": ""})
        print(f"  (headers are {'checked' if r.status != 204 else 'not checked'})")
        prom.stop()


if __name__ == "__main__":
    if shutil.which("prometheus") is None:
        print("SKIP: prometheus not installed")
        sys.exit(0)
    check(os.access(RW_ENCODE, os.X_OK), f"rw_encode not built: {RW_ENCODE}")
    harness.main(globals())
