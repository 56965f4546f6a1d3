#pragma once
// Configuration of the hub side (ingest endpoints, local history, received
// alerts) and of the agent's push to a hub. Declared like config.hpp: each
// struct lists its keys once in visit().
#include <string>
#include <vector>

#include "core/config_types.hpp"
#include "core/net_address.hpp"

namespace edgemon::config {

using namespace std::chrono_literals;

std::string check_device_token_name(std::string_view text);
std::string check_hub_format(std::string_view text);
std::string check_history_schema(std::string_view text);
std::string check_config_server_url(std::string_view text);

struct IngestLimits {
  ByteSize max_body_bytes{8 * 1024 * 1024};
  ByteSize max_decoded_bytes{8 * 1024 * 1024};
  int64_t max_points = 50000;
  int64_t max_tags = 64;
  int64_t max_fields = 256;
  int64_t max_key_bytes = 256;
  int64_t max_tag_value_bytes = 1024;
  int64_t max_series_key_bytes = 4096;
  int64_t max_string_bytes = 65536;
  ByteSize max_pending_bytes{8 * 1024 * 1024};

  template <class V>
  void visit(V& v) {
    v.field("max_body_bytes", max_body_bytes,
            "Largest request body as sent (compressed or not) on the ingest endpoints; larger "
            "ones get 413. The rest of the API keeps http.limits.max_body_bytes.",
            IntRange{1024, int64_t{1} << 32});
    v.field("max_decoded_bytes", max_decoded_bytes,
            "Largest body after gzip decoding; larger ones get 413.",
            IntRange{1024, int64_t{1} << 32});
    v.field("max_points", max_points, "Points in one request; more get 413.",
            IntRange{1, 100000000});
    v.field("max_tags", max_tags, "Tags of one point; a point with more is rejected.",
            IntRange{1, 10000});
    v.field("max_fields", max_fields, "Fields of one point; a point with more is rejected.",
            IntRange{1, 10000});
    v.field("max_key_bytes", max_key_bytes,
            "Longest measurement name, tag key or field key, in bytes.", IntRange{1, 65536});
    v.field("max_tag_value_bytes", max_tag_value_bytes, "Longest tag value, in bytes.",
            IntRange{1, 65536});
    v.field("max_series_key_bytes", max_series_key_bytes,
            "Longest series key: the measurement and every tag as ,key=value. It bounds what "
            "one point can make the history's series index and the device registry hold; a "
            "point with a longer one is rejected.",
            IntRange{64, 1 << 20});
    v.field("max_string_bytes", max_string_bytes, "Longest string field value, in bytes.",
            IntRange{1, 16 * 1024 * 1024});
    v.field("max_pending_bytes", max_pending_bytes,
            "Accepted points not yet durable in the spool, in bytes of line protocol; beyond it "
            "requests get 503 with Retry-After, so a burst cannot exhaust memory.",
            IntRange{1024 * 1024, int64_t{1} << 34});
  }
};

struct IngestSection {
  bool enabled = false;
  bool json = true;
  bool line_protocol = true;
  bool alerts = true;
  std::vector<std::string> allow{"127.0.0.0/8", "::1/128"};
  double rate = 0;
  int64_t burst = 0;
  StringMap tokens;
  Duration device_active_window = 5min;
  bool expose_metrics = false;
  int64_t max_series = 10000;
  IngestLimits limits;

  template <class V>
  void visit(V& v) {
    v.field("enabled", enabled,
            "Turns this edgemon into a hub: agents and InfluxDB clients may push points to it.",
            nullptr);
    v.field("json", json, "POST /metrics: the edge agent's JSON payload.", nullptr);
    v.field("line_protocol", line_protocol,
            "POST /write (InfluxDB v1), POST /api/v2/write (v2) and GET|HEAD /ping.", nullptr);
    v.field("alerts", alerts,
            "POST /alert: Alertmanager's webhook (GET /alerts lists what was received).", nullptr);
    v.field("allow", allow,
            "Client networks allowed to push (CIDR or address); others get 403. Empty allows "
            "none.",
            check_cidr);
    v.field("rate", rate, "Requests per second allowed per client address; 0 is unlimited.",
            DoubleRange{0, 1e9});
    v.field("burst", burst, "Requests a client may make at once above the rate (bucket size).",
            IntRange{0, 1000000});
    v.field("tokens", tokens,
            "Bearer tokens by device: {DEVICE_ID: TOKEN}. A device's token only writes points "
            "of that device_id; the name \"*\" is a fleet token for any device. Sent as "
            "`Authorization: Bearer TOKEN` (or `Token TOKEN`, or as the password of Basic "
            "authentication or of the `p` parameter, for InfluxDB clients). Empty: no token "
            "needed, only `allow` guards the endpoints.",
            check_device_token_name);
    v.field("device_active_window", device_active_window,
            "A device is active in /devices and /metrics if it pushed within this window.",
            IntRange{1000, 30LL * 86400000});
    v.field("expose_metrics", expose_metrics,
            "Also serve the latest pushed values on GET /metrics (as edgemon_pushed_* "
            "gauges).",
            nullptr);
    v.field("max_series", max_series,
            "With expose_metrics: most series kept; points of further series are not exposed "
            "(counted), but still stored and forwarded.",
            IntRange{1, 10000000});
    v.section("limits", limits, "Size limits of one request; each violation is a clear error.");
  }
};

struct HistorySection {
  bool enabled = true;
  std::string path;
  std::string schema = "system_metrics";
  Duration raw_retention = 6h;
  Duration aggregate_retention = 7 * 24h;
  ByteSize max_bytes{128 * 1024 * 1024};
  Duration retention_interval = 60s;
  int64_t max_series = 20000;
  int64_t max_query_points = 10000;
  ByteSize max_queue_bytes{8 * 1024 * 1024};
  Duration flush_interval = 10s;

  template <class V>
  void visit(V& v) {
    v.field("enabled", enabled,
            "Keep recent points in a local SQLite file for /history, /avg_usage, "
            "/metrics_usage and /devices.",
            nullptr);
    v.field("path", path, "The history file. Empty: history.db in the state directory.", nullptr);
    v.field("schema", schema,
            "Which of this device's own points are kept: system_metrics (compact, what "
            "/avg_usage reads), host, or both. Points pushed to a hub are always kept.",
            check_history_schema);
    v.field("raw_retention", raw_retention, "Raw points are kept this long.",
            IntRange{60000, 365LL * 86400000});
    v.field("aggregate_retention", aggregate_retention,
            "Per-minute, per-5-minute and per-hour aggregates (min, max, avg, last, count) are "
            "kept this long.",
            IntRange{60000, 3650LL * 86400000});
    v.field("max_bytes", max_bytes,
            "Size the file may reach (pages in use). A new series is stored only if it fits "
            "under it (else its values are dropped, counted as max_bytes); when stored series "
            "grow beyond it, their oldest raw points, then the oldest minutes, 5-minute buckets "
            "and hours are deleted (counted).",
            IntRange{1024 * 1024, int64_t{1} << 40});
    v.field("retention_interval", retention_interval,
            "How often retention and the size limit are enforced.", IntRange{1000, 86400000});
    v.field("max_series", max_series,
            "Distinct series (device, measurement, tags, field) kept; points of further series "
            "are not stored (counted).",
            IntRange{1, 100000000});
    v.field("max_query_points", max_query_points,
            "Most points one query returns (limit= is capped to it).", IntRange{1, 10000000});
    v.field("max_queue_bytes", max_queue_bytes,
            "Points waiting to be written to the history file; beyond it they are dropped "
            "(counted), never blocking ingest or collection.",
            IntRange{64 * 1024, int64_t{1} << 34});
    v.field("flush_interval", flush_interval,
            "This device's own points wait in memory this long (or until 256 KiB are queued) "
            "and are written in one transaction: longer means fewer writes to an SD card and "
            "less CPU. Points pushed to a hub are written within a second. A query first has "
            "what waited over a second written, so answers are at most a second behind; a "
            "crash (not a stop) loses at most this much history (the spool, what outputs "
            "send, is written at once).",
            IntRange{100, 600000});
  }
};

struct AlertsSection {
  int64_t max_alerts = 10000;
  Duration resolved_retention = 7 * 24h;

  template <class V>
  void visit(V& v) {
    v.field("max_alerts", max_alerts,
            "Alerts kept (firing and resolved); beyond it the oldest resolved ones are deleted.",
            IntRange{1, 10000000});
    v.field("resolved_retention", resolved_retention, "Resolved alerts are kept this long.",
            IntRange{60000, 3650LL * 86400000});
  }
};

// The central configuration server: an agent fetches its configuration
// from a hub (`url`), a hub serves it (`serve`). One binary, both roles.
struct ConfigServerSection {
  std::string url;
  std::string token;
  Duration timeout = 5s;
  Duration poll_interval = 60s;
  std::string tls_ca_file;
  bool serve = false;
  int64_t versions_kept = 20;

  bool operator==(const ConfigServerSection&) const = default;

  template <class V>
  void visit(V& v) {
    v.field("url", url,
            "Agent: the hub serving this device's configuration, e.g. http://hub.lan:9110. "
            "Fetched at start (never waiting longer than timeout; unreachable, the local file "
            "runs alone) and every poll_interval; what it serves is laid over this file. "
            "Empty: none. Environment: CONFIG_SERVER_URL.",
            check_config_server_url);
    v.field("token", token,
            "Agent: bearer token sent to the config server: this device's entry of the hub's "
            "ingest.tokens (or its fleet token \"*\").",
            nullptr);
    v.field("timeout", timeout,
            "Agent: time one request to the config server may take. Environment: "
            "CONFIG_TIMEOUT (seconds).",
            IntRange{100, 60000});
    v.field("poll_interval", poll_interval,
            "Agent: how often the configuration is asked for again (a conditional request, "
            "answered 304 while nothing changed); 0 only at start and on reload.",
            IntRange{0, 86400000});
    v.field("tls_ca_file", tls_ca_file,
            "Agent: CA certificate (PEM) that verifies an https:// config server; empty: the "
            "system store.",
            nullptr);
    v.field("serve", serve,
            "Hub: serve GET/PUT /config/{device_id} and /config_defaults/{device_type}, kept "
            "and versioned in configs.db in the state directory. Needs ingest.enabled and "
            "ingest.tokens: devices read their own configuration with their token.",
            nullptr);
    v.field("versions_kept", versions_kept,
            "Hub: earlier versions of each configuration kept (GET /config/{device_id}/versions).",
            IntRange{1, 1000});
  }
};

}  // namespace edgemon::config
