"""edgemon's line-protocol encoder against a real InfluxDB 1.6: points with
every escaping case and field type, encoded by test/tools/lp_encode (the
daemon's own encoder), written over /write and read back with exact values,
tag values, field types and timestamps."""

import json
import os
import shutil
import subprocess
import sys

import harness
from harness import check
from influx import Influxd

LP_ENCODE = os.environ.get("EDGEMON_LP_ENCODE") or os.path.join(
    harness.SOURCE_DIR, "build", "test", "lp_encode")
DB = "lp"
T = 1736847690123456789  # ns

def query(server, q):
    return server.query(DB, q)


def encode(points, precision, extra=()):
    r = subprocess.run([LP_ENCODE, precision, *extra], input=json.dumps(points).encode("utf-8"),
                       capture_output=True, timeout=30)
    check(r.returncode == 0, f"lp_encode rc {r.returncode}: {r.stderr!r}")
    return r.stdout.decode("utf-8"), json.loads(r.stderr.decode("utf-8").strip().splitlines()[-1])


def floor_to(time_ns, unit_ns):
    return (time_ns // unit_ns) * unit_ns  # Python's // floors, like the encoder


# Each case: the JSON point for lp_encode and what InfluxDB must hold after.
# "fields" expectations are (InfluxDB type, value). Every case has its own
# measurement so field types never conflict.
def case(measurement, tags, fields, time_ns=T):
    point = {"measurement": measurement, "tags": tags, "time_ns": str(time_ns),
             "fields": {k: {t: v} for k, (t, v, _, _) in fields.items()}}
    # Empty tag values are omitted, tags with a newline dropped.
    expect = {"tags": {k: v for k, v in tags.items() if v and "\n" not in k + v},
              "fields": {k: (ty, val) for k, (_, _, ty, val) in fields.items() if ty}}
    return point, measurement, expect


def f(v):
    return ("f", v, "float", v)


def i(v):
    return ("i", str(v), "integer", v)


def s(v):
    return ("s", v, "string", v)


def b(v):
    return ("b", v, "boolean", v)


def batches():
    """[(lp_encode precision, v1 precision, unit ns, extra args, cases)]."""
    second = [
        case("my meas", {"tag key": "a,b=c"}, {"path": s('C:\\models\\"new"')}),
        case("cpu,load avg",
             {"host name": "edge 01", "k=ey": "v=al,ue", "path": "C:\\dir",
              "unc": "\\\\srv\\share", "even": "a\\\\,b", "empty": "", "q\"uote": "it's \"x\""},
             {"usage": f(23.5), "whole": f(3.0), "tiny": f(1e-7), "neg": f(-0.1),
              "huge": f(1.7976931348623157e308), "count": i(-42),
              "imax": i(9223372036854775807), "imin": i(-9223372036854775808),
              "up": b(True), "down": b(False),
              "msg": s('say "hi" \\ C:\\path\\ , = x \\\\ end\\'), "blank": s("")}),
        case('eq=in"meas', {"t": "1"}, {"f k,=x": f(1.0), 'q"k': i(1)}),
        case("before_1970", {}, {"v": i(1)}, time_ns=-1_500_000_001),
        # NaN is dropped and counted; the point survives with its other field.
        case("dropped", {"bad\nkey": "x"}, {"nan": ("f", "nan", None, None), "ok": f(2.0)}),
    ]
    milli = [case("millis", {"p": "ms"}, {"v": f(0.5)})]
    micro = [case("micros", {"p": "us"}, {"v": f(0.25)})]
    # v1 has no unsigned type: small uints become integers, huge ones floats.
    nouint = [case("uints", {}, {"small": ("u", "7", "integer", 7),
                                 "big": ("u", "18446744073709551615", "float",
                                         18446744073709551615.0)})]
    return [("s", "s", 10**9, (), second), ("ms", "ms", 10**6, (), milli),
            ("us", "u", 10**3, (), micro), ("s", "s", 10**9, ("nouint",), nouint)]


def write(server, body, precision):
    r = server.write(DB, body, precision)
    check(r.status == 204, f"/write precision={precision}: {r.status} {r.body[:500]!r}\n{body}")


def quote_ident(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rows_by_measurement(server, names):
    # One query per measurement: across measurements InfluxDB merges the
    # columns and renames clashes (path, path_1).
    out = {}
    for name in names:
        for series in query(server, f"SELECT * FROM {quote_ident(name)}"):
            out[series["name"]] = [dict(zip(series["columns"], v)) for v in series["values"]]
    return out


def field_types(server):
    return {sr["name"]: dict(tuple(v) for v in sr["values"])
            for sr in query(server, "SHOW FIELD KEYS")}


def tag_keys(server):
    return {sr["name"]: {v[0] for v in sr["values"]} for sr in query(server, "SHOW TAG KEYS")}


def check_case(name, expect, time_ns, rows, types, tkeys):
    check(name in rows, f"measurement {name!r} not stored; have {sorted(rows)}")
    check(len(rows[name]) == 1, f"{name!r}: {len(rows[name])} rows: {rows[name]}")
    row = rows[name][0]
    check(row["time"] == time_ns, f"{name!r}: time {row['time']} != {time_ns}")
    check(tkeys.get(name, set()) == set(expect["tags"]),
          f"{name!r}: tag keys {tkeys.get(name)} != {set(expect['tags'])}")
    for k, v in expect["tags"].items():
        check(row.get(k) == v, f"{name!r}: tag {k!r} = {row.get(k)!r}, expected {v!r}")
    check(set(types[name]) == set(expect["fields"]),
          f"{name!r}: field keys {set(types[name])} != {set(expect['fields'])}")
    for k, (ty, v) in expect["fields"].items():
        check(types[name][k] == ty, f"{name!r}: field {k!r} type {types[name][k]}, expected {ty}")
        got = row.get(k)
        same = got == v and type(got) is type(v) if ty in ("string", "boolean", "integer") \
            else float(got) == v
        check(same, f"{name!r}: field {k!r} = {got!r}, expected {v!r}")


def test_points_round_trip_through_influxd():
    server = Influxd().start()
    server.create_database(DB)
    expected = []
    for precision, v1_precision, unit, extra, cases in batches():
        body, counters = encode([c[0] for c in cases], precision, extra)
        check(body.count("\n") == len(cases), f"lp_encode gave {body.count(chr(10))} lines for "
                                              f"{len(cases)} points:\n{body}")
        if precision == "s" and not extra:
            check('my\\ meas,tag\\ key=a\\,b\\=c path="C:\\\\models\\\\\\"new\\"" 1736847690\n'
                  in body, f"worked example not byte-exact:\n{body}")
            check(counters == {"dropped_fields": 1, "dropped_tags": 1, "dropped_points": 0},
                  f"counters: {counters}")
        write(server, body, v1_precision)
        expected += [(name, exp, floor_to(int(pt["time_ns"]), unit)) for pt, name, exp in cases]
    rows = rows_by_measurement(server, [name for name, _, _ in expected])
    types, tkeys = field_types(server), tag_keys(server)
    for name, exp, time_ns in expected:
        check_case(name, exp, time_ns, rows, types, tkeys)
    check(set(types) == {name for name, _, _ in expected}, f"measurements: {sorted(types)}")
    server.stop()


if __name__ == "__main__":
    if shutil.which("influxd") is None:
        print("SKIP: influxd not installed")
        sys.exit(0)
    check(os.access(LP_ENCODE, os.X_OK), f"lp_encode not built: {LP_ENCODE}")
    harness.main(globals())
