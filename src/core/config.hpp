#pragma once
// The daemon's configuration as typed structs. Each struct declares its keys
// once in visit(): name, storage, help text and constraints. Loading YAML,
// applying environment overrides and printing the commented reference file
// (`edgemon config`, checked in as etc/edgemon.yaml) are all visitors over
// these declarations, so the three can never disagree.
#include <string>
#include <vector>

#include "core/config_hub.hpp"
#include "core/config_types.hpp"
#include "core/net_address.hpp"
#include "core/options.hpp"
#include "core/regex.hpp"

namespace edgemon::config {

using namespace std::chrono_literals;

std::string check_log_level(std::string_view text);
std::string check_collector_name(std::string_view text);
// The registered collectors, comma-separated, for help text.
std::string collector_names();
std::string check_tag_name(std::string_view text);
// A Prometheus metric family name: [a-zA-Z_:][a-zA-Z0-9_:]*.
std::string check_metric_name(std::string_view text);
std::string check_new_metrics(std::string_view text);
std::string check_tag_value(std::string_view text);
std::string check_spool_sync(std::string_view text);
std::string check_output_name(std::string_view text);
// An http:// or https:// URL with a host, no fragment, no blanks; empty
// passes (required keys are checked by validate()). `example` is shown.
std::string check_http_url(std::string_view text, std::string_view example);
std::string check_output_url(std::string_view text);
std::string check_precision(std::string_view text);
std::string check_output_schema(std::string_view text);

struct LogSection {
  std::string level = "info";
  std::string file;
  ByteSize max_size{10 * 1024 * 1024};
  int64_t max_files = 3;

  template <class V>
  void visit(V& v) {
    v.field("level", level, "Lowest level written: debug, info, warn or error.", check_log_level);
    v.field("file", file, "Log file path. Empty: JSON lines to stderr (journald under systemd).",
            nullptr);
    v.field("max_size", max_size, "Rotate the log file when it reaches this size.",
            IntRange{4096, int64_t{1} << 40});
    v.field("max_files", max_files, "Rotated files kept (file.1 ... file.N); 0 truncates instead.",
            IntRange{0, 100});
  }
};

struct HttpLimits {
  int64_t max_connections = 1024;
  int64_t max_connections_per_address = 64;
  std::vector<std::string> per_address_exempt{"127.0.0.1", "::1"};
  ByteSize max_header_bytes{16 * 1024};
  ByteSize max_body_bytes{1024 * 1024};
  Duration header_timeout = 10s;
  Duration body_timeout = 30s;
  Duration idle_timeout = 60s;
  ByteSize max_pending_response_bytes{4 * 1024 * 1024};
  ByteSize memory_budget{16 * 1024 * 1024};
  ByteSize memory_per_address{10 * 1024 * 1024};
  Duration shutdown_timeout = 5s;

  template <class V>
  void visit(V& v) {
    v.field("max_connections", max_connections,
            "Open connections accepted at once; beyond this new ones get 503.",
            IntRange{1, 1000000});
    v.field("max_connections_per_address", max_connections_per_address,
            "Open connections accepted at once from one client address (an IPv6 client: its "
            "/64), so that one client cannot take every connection; beyond this 503.",
            IntRange{1, 1000000});
    v.field("per_address_exempt", per_address_exempt,
            "Client addresses or networks (CIDR) without the per-address cap: a reverse proxy "
            "in front of edgemon, local tools.",
            check_cidr);
    v.field("max_header_bytes", max_header_bytes,
            "Largest request line plus headers; larger requests get 431.",
            IntRange{1024, 1024 * 1024});
    v.field("max_body_bytes", max_body_bytes, "Largest request body; larger ones get 413.",
            IntRange{0, int64_t{1} << 32});
    v.field("header_timeout", header_timeout,
            "Time a client has to send a complete request head (slowloris guard); then 408.",
            IntRange{100, 600000});
    v.field("body_timeout", body_timeout, "Time a client has to send the request body; then 408.",
            IntRange{100, 3600000});
    v.field("idle_timeout", idle_timeout,
            "An idle keep-alive connection (or one not reading its responses) is closed after "
            "this.",
            IntRange{100, 3600000});
    v.field("max_pending_response_bytes", max_pending_response_bytes,
            "Responses queued for one slow client before reading its pipelined requests pauses.",
            IntRange{64 * 1024, int64_t{1} << 32});
    v.field("memory_budget", memory_budget,
            "Memory all clients together can make edgemon hold: bodies of requests being "
            "received and responses not yet written. Beyond it new requests get 503 with "
            "Retry-After (GET /health excepted) and clients that do not read their answers "
            "are served no further pipelined requests until theirs are written.",
            IntRange{1024 * 1024, int64_t{1} << 36});
    v.field("memory_per_address", memory_per_address,
            "The share of memory_budget one client address (an IPv6 client: its /64) can hold, "
            "so that one client cannot spend it for all; beyond it that address's new requests "
            "get 503 with Retry-After. Addresses in per_address_exempt have no share of their "
            "own.",
            IntRange{1024 * 1024, int64_t{1} << 36});
    v.field("shutdown_timeout", shutdown_timeout,
            "On SIGTERM, time given to in-flight responses before connections are closed.",
            IntRange{0, 600000});
  }
};

struct AccessGroup {
  std::vector<std::string> allow;
  double rate = 0;
  int64_t burst = 0;
  std::vector<std::string> tokens;

  template <class V>
  void visit(V& v) {
    v.field("allow", allow,
            "Client networks allowed (CIDR or address); others get 403. Empty allows none.",
            check_cidr);
    v.field("rate", rate, "Requests per second allowed per client address; 0 is unlimited.",
            DoubleRange{0, 1e9});
    v.field("burst", burst, "Requests a client may make at once above the rate (bucket size).",
            IntRange{0, 1000000});
    v.field("tokens", tokens,
            "Bearer tokens accepted (Authorization: Bearer TOKEN). Empty: no token needed for "
            "reads; mutating endpoints are disabled until one is set.",
            nullptr);
  }
};

struct AccessSection {
  AccessGroup read{{"0.0.0.0/0", "::/0"}, 0, 0, {}};
  AccessGroup write{{"127.0.0.0/8", "::1/128"}, 5, 10, {}};

  template <class V>
  void visit(V& v) {
    v.section("read", read,
              "Read-only endpoints: GET /metrics, /health, /status. Open by default; the listen "
              "address keeps them on loopback.");
    v.section("write", write,
              "Endpoints that change state: POST /reload. Need a bearer token from `tokens`.");
  }
};

struct HttpSection {
  std::vector<std::string> listen{"127.0.0.1:9110"};
  HttpLimits limits;
  AccessSection access;

  template <class V>
  void visit(V& v) {
    v.field("listen", listen,
            "Addresses the HTTP API listens on: IPv4 \"HOST:PORT\" or IPv6 \"[HOST]:PORT\".",
            check_listen_address);
    v.section("limits", limits, "Protection against slow, large or too many requests.");
    v.section("access", access, "Who may call which endpoints, and how often.");
  }
};

struct CollectSection {
  Duration interval = 15s;
  std::string procfs = "/proc";
  std::string sysfs = "/sys";
  std::string rootfs = "/";
  std::vector<std::string> disable;
  // The options of collectors that declare some, in their own files.
  SectionSet collectors{"collectors"};

  template <class V>
  void visit(V& v) {
    v.field("interval", interval, "Time between collections. /metrics serves the latest one.",
            IntRange{100, 3600000});
    v.field("procfs", procfs, "Where procfs is mounted (the host's /proc inside a container).",
            nullptr);
    v.field("sysfs", sysfs, "Where sysfs is mounted.", nullptr);
    v.field("rootfs", rootfs, "The host's root, for /etc/os-release and mount points.", nullptr);
    static const std::string disable_help = "Collectors turned off, by name: " + collector_names();
    v.field("disable", disable, disable_help, check_collector_name);
    collectors.visit_sections(v);
  }
};

struct SpoolSection {
  std::string path;
  std::string sync = "normal";
  Duration commit_interval = 1s;
  Duration reclaim_interval = 60s;

  template <class V>
  void visit(V& v) {
    v.field("path", path,
            "The spool file (SQLite). Points wait here for every output until it accepts them. "
            "Empty: spool.db in the state directory.",
            nullptr);
    v.field("sync", sync,
            "normal: nothing committed is lost if the daemon crashes or is killed, but the last "
            "seconds may be lost on power loss. full: committed points also survive power loss, "
            "at the cost of one fsync per commit (more wear on an SD card).",
            check_spool_sync);
    v.field("commit_interval", commit_interval,
            "Points produced within this window are written to the spool in one transaction.",
            IntRange{100, 60000});
    v.field("reclaim_interval", reclaim_interval,
            "How often free pages left by sent batches are returned to the file system.",
            IntRange{1000, 86400000});
  }
};

// How an output delivers what the spool holds for it: the same keys for
// InfluxDB servers and edgemon hubs.
struct DeliverySettings {
  std::string precision = "ms";
  int64_t batch_size = 5000;
  Duration flush_interval = 10s;
  Duration timeout = 10s;
  bool gzip = true;
  ByteSize max_bytes{256 * 1024 * 1024};
  Duration max_age = 7 * 24h;
  int64_t replay_rate = 50000;
  Duration retry_initial = 1s;
  Duration retry_max = 5min;
  std::string tls_ca_file;
  bool tls_skip_verify = false;

 protected:
  template <class V>
  void visit_tls(V& v) {
    v.field("tls_ca_file", tls_ca_file,
            "PEM file of the CA that signed the server's certificate. Empty: the system's CAs.",
            nullptr);
    v.field("tls_skip_verify", tls_skip_verify,
            "Accept any server certificate (for testing only: anyone on the path can read and "
            "change the data).",
            nullptr);
  }

  // `encoding_keys` false leaves out precision and gzip, for a kind whose
  // wire format fixes both (remote_write: milliseconds, snappy).
  template <class V>
  void visit_sending(V& v, bool encoding_keys = true) {
    if (encoding_keys) {
      v.field("precision", precision,
              "Timestamp precision sent: ns, us, ms or s. Coarser is smaller on the wire; points "
              "of one series closer together than this overwrite each other.",
              check_precision);
    }
    v.field("batch_size", batch_size, "Points per write request.", IntRange{1, 1000000});
    v.field("flush_interval", flush_interval,
            "Send when the oldest queued point is this old, even if batch_size is not reached.",
            IntRange{100, 3600000});
    v.field("timeout", timeout, "Time one write request may take; then it is retried.",
            IntRange{100, 600000});
    if (encoding_keys) {
      v.field("gzip", gzip, "Compress request bodies (Content-Encoding: gzip).", nullptr);
    }
    v.field("replay_rate", replay_rate,
            "Points per second sent while draining a backlog after an outage, so the server "
            "is not flooded; 0 is unlimited. Fresh points keep being spooled meanwhile.",
            IntRange{0, 100000000});
    v.field("retry_initial", retry_initial,
            "Wait before the first retry of a failed write; it doubles (with jitter) on each "
            "further failure. A server's Retry-After is honoured.",
            IntRange{100, 600000});
    v.field("retry_max", retry_max, "Longest wait between retries.", IntRange{100, 86400000});
  }

  template <class V>
  void visit_spool(V& v) {
    v.field("max_bytes", max_bytes,
            "Spool space this output may use. Beyond it the oldest batches are dropped, counted "
            "and logged.",
            IntRange{64 * 1024, int64_t{1} << 40});
    v.field("max_age", max_age,
            "Batches older than this are dropped, counted and logged; 0 is no limit, else at "
            "least 1m.",
            IntRange{0, 3650LL * 86400000});
  }
};

struct InfluxOutputConfig : DeliverySettings {
  std::string name;
  std::string url;
  int64_t version = 1;
  std::string database;
  std::string retention_policy;
  std::string org;
  std::string bucket;
  std::string token;
  std::string username;
  std::string password;
  std::string schema = "host";

  template <class V>
  void visit(V& v) {
    visit_target(v);
    visit_tls(v);
    visit_sending(v);
    v.field("schema", schema,
            "What is written. host: one measurement per collector, as documented in the README. "
            "system_metrics: one system_metrics point per collection, as the original edge "
            "server wrote. both: the two together.",
            check_output_schema);
    visit_spool(v);
  }

 private:
  template <class V>
  void visit_target(V& v) {
    v.field("name", name,
            "Unique name of this output, used in logs, /status, /metrics and `edgemon spool "
            "--output`. Required; 1 to 64 of a-z, 0-9, _ and -. Renaming it starts a new queue.",
            check_output_name);
    v.field("url", url,
            "Base URL of the InfluxDB server, e.g. http://127.0.0.1:8086 or "
            "https://influx.example.com:8086. Required; no query string.",
            check_output_url);
    v.field("version", version,
            "InfluxDB API: 1 writes to /write (database, retention_policy), 2 writes to "
            "/api/v2/write (org, bucket).",
            IntRange{1, 2});
    v.field("database", database, "Version 1: the database written to. Required for version 1.",
            nullptr);
    v.field("retention_policy", retention_policy,
            "Version 1: the retention policy written to. Empty: the database's default.", nullptr);
    v.field("org", org, "Version 2: the organization. Required for version 2.", nullptr);
    v.field("bucket", bucket, "Version 2: the bucket written to. Required for version 2.", nullptr);
    v.field("token", token,
            "API token, sent as `Authorization: Token TOKEN`. InfluxDB 2 needs one; InfluxDB 1.8 "
            "also accepts USER:PASSWORD here. Not together with username.",
            nullptr);
    v.field("username", username, "Version 1: user for HTTP Basic authentication.", nullptr);
    v.field("password", password, "Version 1: password for HTTP Basic authentication.", nullptr);
  }
};

// An edgemon hub this agent pushes its points to (the hub's POST /write or
// POST /metrics), with the spool, retry and dead-letter rules of InfluxDB
// (outputs/hub_output.hpp).
struct HubOutputConfig : DeliverySettings {
  std::string name;
  std::string url;
  std::string token;
  std::string format = "lp";
  std::string schema = "both";

  template <class V>
  void visit(V& v) {
    v.field("name", name, "Unique name of this output (among all outputs). Required.",
            check_output_name);
    v.field("url", url, "Base URL of the hub's HTTP API, e.g. http://hub.lan:9110. Required.",
            check_output_url);
    v.field("token", token,
            "This device's token on the hub (its ingest.tokens), sent as `Authorization: "
            "Bearer TOKEN`.",
            nullptr);
    visit_tls(v);
    v.field("format", format,
            "lp: line protocol to POST /write, every schema. json: the edge agent's JSON payload "
            "to POST /metrics, one per collection (system_metrics only).",
            check_hub_format);
    v.field("schema", schema, "What is pushed with format lp: host, system_metrics or both.",
            check_output_schema);
    visit_sending(v);
    visit_spool(v);
  }
};

struct OutputsSection {
  Duration stop_timeout = 5s;
  std::vector<InfluxOutputConfig> influxdb;
  std::vector<HubOutputConfig> hub;
  // Outputs of the kinds registered in family "outputs" (remote_write, ...).
  KindLists kinds{"outputs", {}};

  template <class V>
  void visit(V& v) {
    v.field("stop_timeout", stop_timeout,
            "On SIGTERM, time given to outputs to send what they can; the rest stays in the "
            "spool and is sent after the next start.",
            IntRange{0, 600000});
    v.list("influxdb", influxdb,
           "InfluxDB servers to send points to. Several may run at once; each has its own queue "
           "in the spool, so one being down does not hold back the others.");
    v.list("hub", hub,
           "edgemon hubs to push points to; each has its own queue in the spool, like an "
           "InfluxDB output.");
    v.kinds(kinds);
  }
};

// Sources beyond the host collectors: one list per registered kind, each
// item a named instance with the kind's own options.
struct SourcesSection {
  KindLists kinds{"sources", {}};

  template <class V>
  void visit(V& v) {
    v.kinds(kinds);
  }
};

struct Config {
  std::string device_id;
  std::string state_dir;
  StringMap tags;
  SpoolSection spool;
  OutputsSection outputs;
  IngestSection ingest;
  HistorySection history;
  AlertsSection alerts;
  ConfigServerSection config_server;
  LogSection log;
  HttpSection http;
  CollectSection collect;
  SourcesSection sources;
  StringMap metrics;
  std::vector<std::string> enabled_metrics;
  std::string new_metrics = "auto";

  template <class V>
  void visit(V& v) {
    v.field("device_id", device_id,
            "Stable name of this device. Empty: /etc/machine-id, else the primary MAC address.",
            nullptr);
    v.field("state_dir", state_dir,
            "Directory for local state. Empty: $STATE_DIRECTORY (systemd), /var/lib/edgemon as "
            "root, else $XDG_STATE_HOME/edgemon or ~/.local/state/edgemon.",
            nullptr);
    v.field("tags", tags,
            "Tags added to every point sent to outputs, e.g. {location: lab, zone: a, "
            "device_type: gateway}. device_id and host are always added.",
            check_tag_name);
    v.section("spool", spool,
              "The on-disk queue that keeps points until every output has accepted them.");
    v.section("outputs", outputs, "Where points are sent.");
    v.section("ingest", ingest,
              "The hub: endpoints that receive points from agents and InfluxDB clients.");
    v.section("history", history, "Local history of recent points, for the query endpoints.");
    v.section("alerts", alerts, "Alerts received from Alertmanager on POST /alert.");
    v.section("config_server", config_server,
              "The central configuration server: agents fetch their configuration from a hub "
              "that serves it.");
    v.section("log", log, "Logging.");
    v.section("http", http, "The HTTP API.");
    v.section("collect", collect, "Host metric collection.");
    v.section("sources", sources,
              "Sources of metrics beyond the host collectors, by kind. Several named instances "
              "of a kind may run; a reload restarts only those whose keys changed.");
    v.field("metrics", metrics,
            "Metric families switched on or off by name, e.g. {node_softnet_dropped_total: "
            "false, jetson_temp_gpu_celsius: true}. A disabled family is left out of /metrics "
            "and of what outputs receive. Families not named here follow new_metrics. "
            "POST /metrics/enable changes this set at run time (kept in metrics.json in the "
            "state directory); an entry here that you edit later wins over it.",
            check_metric_name);
    v.field("enabled_metrics", enabled_metrics,
            "The edge power exporter's older list form: every family listed is enabled, as if "
            "named `true` under metrics (where both name a family, metrics wins).",
            check_metric_name);
    v.field("new_metrics", new_metrics,
            "What becomes of a family first seen that metrics does not name: `enabled`, "
            "`disabled` (recorded, listed by GET /metrics/list, exposed only once enabled), or "
            "`auto`: disabled when metrics or enabled_metrics switches any family on (an "
            "allow-list), enabled when they only switch families off or are empty. Families "
            "not named follow this as it is now, also those seen before.",
            check_new_metrics);
  }
};

}  // namespace edgemon::config
