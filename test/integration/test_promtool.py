"""GET /metrics is valid Prometheus text format 0.0.4, by promtool's
judgement and ours: no errors, lint warnings only for names promtool also
flags in a real node_exporter's output here, none for edgemon_* names; HELP
and TYPE on every family; gzip when asked."""

import gzip

import harness
from harness import check, Daemon, parse_exposition, promtool_check_metrics


def flagged_names(lines):
    """Metric names promtool's linter complains about (first word of each line)."""
    names = set()
    for line in lines:
        word = line.split()[0]
        if word.replace("_", "").replace(":", "").isalnum():
            names.add(word)
    return names


def node_exporter_flagged():
    proc, port = harness.start_node_exporter()
    try:
        r = harness.http_request("127.0.0.1", port, "GET", "/metrics", timeout=10)
        check(r.status == 200, f"node_exporter /metrics: {r.status}")
    finally:
        harness.stop_process(proc)
    rc, lines = promtool_check_metrics(r.body.decode("utf-8"))
    check(rc in (0, 3), f"promtool fails on node_exporter's own output (rc {rc}): {lines[:5]}")
    return flagged_names(lines)


def check_structure(text, what):
    families = parse_exposition(text)  # raises on format errors
    check(len(families) > 20, f"{what}: only {len(families)} families")
    missing_help = [f.name for f in families.values() if f.help is None or not f.help.strip()]
    missing_type = [f.name for f in families.values() if f.type is None]
    check(not missing_help, f"{what}: families without HELP: {missing_help}")
    check(not missing_type, f"{what}: families without TYPE: {missing_type}")
    seen = {}
    for fam in families.values():
        check(fam.samples, f"{what}: family {fam.name} has HELP/TYPE but no samples")
        for name, labels, _ in fam.samples:
            key = (name, tuple(sorted(labels.items())))
            check(key not in seen, f"{what}: duplicate series {name}{labels}")
            seen[key] = True
        if fam.type == "histogram":
            check_histogram(fam, what)
    return families


def check_histogram(fam, what):
    groups = {}
    for name, labels, value in fam.samples:
        base = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        g = groups.setdefault(base, {"buckets": [], "count": None, "sum": None})
        if name == fam.name + "_bucket":
            g["buckets"].append((float(labels["le"]), value))
        elif name == fam.name + "_count":
            g["count"] = value
        elif name == fam.name + "_sum":
            g["sum"] = value
    for base, g in groups.items():
        b = g["buckets"]
        check(b and b[-1][0] == float("inf"), f"{what}: {fam.name}{base} has no le=+Inf last")
        check([le for le, _ in b] == sorted(le for le, _ in b),
              f"{what}: {fam.name}{base} buckets not in increasing le")
        counts = [c for _, c in b]
        check(counts == sorted(counts), f"{what}: {fam.name}{base} buckets not cumulative")
        check(g["count"] == b[-1][1], f"{what}: {fam.name}{base} +Inf bucket != _count")
        check(g["sum"] is not None, f"{what}: {fam.name}{base} has no _sum")


def test_metrics_pass_promtool():
    harness.require_binary("promtool")
    ne_flagged = node_exporter_flagged()
    check(ne_flagged, "promtool flagged nothing in node_exporter's output; the comparison "
                      "would be meaningless")
    with Daemon() as d:
        d.wait_collected()
        text = d.metrics()
    rc, lines = promtool_check_metrics(text)
    check(rc in (0, 3), f"promtool check metrics: rc {rc} (errors):\n" + "\n".join(lines[:20]))
    ours = flagged_names(lines)
    own = sorted(n for n in ours if n.startswith("edgemon_"))
    check(not own, "promtool lint on edgemon's own names:\n" +
          "\n".join(l for l in lines if l.split()[0] in own))
    extra = sorted(ours - ne_flagged)
    check(not extra, "promtool lint on names node_exporter is not flagged for:\n" +
          "\n".join(l for l in lines if l.split()[0] in extra))
    unparsed = [l for l in lines if l.split()[0] not in ours]
    check(not unparsed, f"promtool output not tied to a metric name: {unparsed}")
    print(f"promtool rc {rc}; {len(ours)} names flagged, all also flagged for node_exporter")


def test_content_type_help_type_and_histograms():
    with Daemon() as d:
        d.wait_collected()  # also makes the HTTP self-metrics have series
        r = d.get("/metrics")
        check(r.status == 200, f"/metrics status {r.status}")
        ctype = r.header("content-type", "")
        check(ctype.replace(" ", "") == harness.EXPOSITION_CONTENT_TYPE.replace(" ", ""),
              f"Content-Type {ctype!r}, expected {harness.EXPOSITION_CONTENT_TYPE!r}")
        check(r.header("content-encoding") is None,
              f"Content-Encoding {r.header('content-encoding')!r} without Accept-Encoding")
        families = check_structure(r.body.decode("utf-8"), "/metrics")
    for must in ("edgemon_build_info", "edgemon_loop_lag_seconds", "edgemon_collector_success",
                 "edgemon_http_requests_total", "node_cpu_seconds_total"):
        check(must in families, f"/metrics lacks {must}")
    check(families["edgemon_loop_lag_seconds"].type == "histogram",
          "edgemon_loop_lag_seconds is not a histogram")


def test_gzip():
    with Daemon() as d:
        d.wait_collected()  # also makes the HTTP self-metrics have series
        plain = parse_exposition(d.metrics())
        r = d.get("/metrics", headers={"Accept-Encoding": "gzip"})
        check(r.status == 200, f"gzip /metrics status {r.status}")
        check(r.header("content-encoding", "").lower() == "gzip",
              f"Accept-Encoding: gzip but Content-Encoding is {r.header('content-encoding')!r}")
        check("accept-encoding" in r.header("vary", "").lower(),
              f"gzip response without Vary: Accept-Encoding ({r.header('vary')!r})")
        if r.header("content-length") is not None:
            check(int(r.header("content-length")) == len(r.body), "Content-Length != body size")
        text = gzip.decompress(r.body).decode("utf-8")
        check(len(r.body) < len(text), "gzip body is not smaller than the text")
        zipped = check_structure(text, "gzip /metrics")
        rc, lines = promtool_check_metrics(text)
        check(rc in (0, 3), f"promtool on the gunzipped body: rc {rc}: {lines[:5]}")
        # The HTTP self-metrics gain series between two scrapes; the families stay.
        check(set(zipped) == set(plain),
              f"families differ between plain and gzip: only plain {set(plain) - set(zipped)}, "
              f"only gzip {set(zipped) - set(plain)}")
        # q=0 refuses gzip.
        r = d.get("/metrics", headers={"Accept-Encoding": "gzip;q=0, identity"})
        check(r.status == 200 and r.header("content-encoding") is None,
              f"Accept-Encoding gzip;q=0 still got {r.header('content-encoding')!r}")


if __name__ == "__main__":
    harness.main(globals())
