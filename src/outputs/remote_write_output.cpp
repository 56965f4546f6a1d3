#include "outputs/remote_write_output.hpp"

#include <algorithm>
#include <type_traits>
#include <variant>
#include <vector>

#include "core/snappy.hpp"
#include "core/snappy_library.hpp"
#include "metrics/prometheus_names.hpp"
#include "outputs/influx_request.hpp"
#include "outputs/output_registry.hpp"
#include "outputs/protobuf_c_library.hpp"
#include "outputs/remote_write_encoder.hpp"
#include "outputs/remote_write_request.hpp"

namespace edgemon::outputs {
namespace {

std::optional<double> sample_value(const metrics::FieldValue& value) {
  return std::visit(
      [](const auto& v) -> std::optional<double> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return std::nullopt;
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? 1.0 : 0.0;
        } else {
          return static_cast<double>(v);
        }
      },
      value);
}

// Series of one point at a time, in scratch arrays kept between points and
// batches: after the first few points encoding allocates nothing new.
class RemoteWriteRows final : public RowEncoder {
 public:
  // `usable`: the libraries are loaded. Without them the output is failing
  // and sends nothing, so nothing is encoded for it either: its points are
  // counted as dropped (unavailable).
  explicit RemoteWriteRows(bool usable) : usable_(usable) {}

  void append(const metrics::Point& point, EncodedPoints& into) override {
    if (!usable_) {
      ++into.unavailable;
      return;
    }
    const size_t count = build_series(point, into);
    if (count == 0) return;
    const size_t start = into.text.size();
    RwEncodeResult result = encoder_.encode(std::span(series_.data(), count), &into.text);
    into.unrepresentable += result.rejected.total();
    if (result.series == 0) return;
    // One end per series written: a batch may end between any two.
    std::string_view written = std::string_view(into.text).substr(start);
    if (!split_write_request(written, 1, &parts_)) {
      // The encoder's own output always parses; were it not to, the
      // point's series go as one item rather than not at all.
      into.ends.push_back(into.text.size());
      return;
    }
    for (std::string_view part : parts_)
      into.ends.push_back(static_cast<size_t>(part.data() + part.size() - into.text.data()));
  }

 private:
  size_t build_series(const metrics::Point& point, EncodedPoints& into) {
    const int64_t time_ms = point.time_ns / 1000000 - (point.time_ns % 1000000 < 0 ? 1 : 0);
    size_t n = 0;
    for (const auto& field : point.fields) {
      std::optional<double> value = sample_value(field.value);
      if (!value) {
        ++into.unrepresentable;  // a string is not a sample
        continue;
      }
      if (series_.size() <= n) series_.emplace_back();
      RwSeries& s = series_[n];
      s.labels.resize(1 + point.tags.size());
      s.labels[0].first = "__name__";
      metrics::point_metric_name(point.measurement, field.key, &s.labels[0].second);
      // Two fields whose names differ only in characters replaced by '_'
      // would be one series with two values at one time, which Prometheus
      // refuses with the whole request: the first one is kept.
      bool clash = false;
      for (size_t i = 0; i < n && !clash; ++i)
        clash = series_[i].labels[0].second == s.labels[0].second;
      if (clash) {
        ++into.unrepresentable;
        continue;
      }
      for (size_t i = 0; i < point.tags.size(); ++i) {
        auto& label = s.labels[i + 1];
        metrics::point_label_name(point.tags[i].key, &label.first);
        label.second = point.tags[i].value;
      }
      s.samples.assign(1, {time_ms, *value});
      ++n;
    }
    return n;
  }

  bool usable_;
  RemoteWriteEncoder encoder_;
  std::vector<RwSeries> series_;
  std::vector<std::string_view> parts_;
};

// Loads libprotobuf-c and libsnappy if no output has yet: "" once both are
// loaded, else why not, naming the Debian package to install.
std::string load_libraries() {
  std::string error;
  if (protobuf_c_library(&error) == nullptr || snappy_library(&error) == nullptr) {
    return error;
  }
  return "";
}

class RemoteWriteKind final : public OutputKind {
 public:
  // Configuring the output is what loads its libraries, on the loop, at
  // start or on the reload that adds it; a daemon without one never maps
  // them.
  explicit RemoteWriteKind(const RemoteWriteConfig& config)
      : config_(config), unavailable_(load_libraries()) {}

  std::string_view type() const override { return "remote_write"; }
  std::string display_url() const override { return redact_url(config_.url); }
  metrics::Precision precision() const override { return metrics::Precision::kMs; }
  std::unique_ptr<RowEncoder> make_encoder() const override {
    return std::make_unique<RemoteWriteRows>(unavailable_.empty());
  }

  void join_rows(std::span<store::Batch> rows, std::string* body) const override {
    concatenate_rows(rows, body);  // see remote_write_request.hpp for why this is one request
  }

  std::optional<RowCut> cut_row(std::string_view row, int64_t max_items) const override {
    std::vector<std::string_view> parts;
    if (max_items < 1 || !split_write_request(row, static_cast<size_t>(max_items), &parts) ||
        parts.empty()) {
      return std::nullopt;
    }
    std::optional<size_t> series = count_write_request_series(parts.front());
    if (!series || *series == 0) return std::nullopt;
    return RowCut{parts.front().size(), static_cast<int64_t>(*series)};
  }

  ContentCoding compress(std::string_view body, std::string* wire) const override {
    // Mandatory: a receiver refuses an uncompressed body.
    *wire = snappy_compress(body);
    return ContentCoding::kSnappy;
  }

  http::ClientRequest request(std::string_view) const override {
    http::ClientRequest r;
    r.method = "POST";
    r.url = config_.url;
    r.timeout = config_.timeout;
    r.ca_file = config_.tls_ca_file;
    r.verify_tls = !config_.tls_skip_verify;
    r.max_response_bytes = 16 * 1024;
    r.headers.emplace_back("Content-Type: application/x-protobuf");
    r.headers.emplace_back("X-Prometheus-Remote-Write-Version: 0.1.0");
    for (const auto& [name, value] : config_.headers)
      r.headers.push_back(name + ": " + value);
    if (!config_.bearer_token.empty()) {
      r.headers.emplace_back("Authorization: Bearer " + config_.bearer_token);
    } else if (!config_.username.empty()) {
      r.username = config_.username;
      r.password = config_.password;
    }
    return r;
  }

  WriteOutcome classify(const http::ClientResponse& response) const override {
    return classify_remote_write(response);
  }
  std::string describe_failure(const http::ClientResponse& response) const override {
    return outputs::describe_failure(response);
  }
  bool rejects_whole_request() const override { return true; }
  std::string unavailable() const override { return unavailable_; }

 private:
  RemoteWriteConfig config_;
  std::string unavailable_;
};

}  // namespace

WriteOutcome classify_remote_write(const http::ClientResponse& response) {
  const int s = response.status;
  if (s == 0) return WriteOutcome::kRetry;
  if (s >= 200 && s < 300) return WriteOutcome::kDelivered;
  if (s == 413) return WriteOutcome::kTooLarge;
  if (s == 408 || s == 429 || s >= 500) return WriteOutcome::kRetry;
  if (s < 400 || s == 401 || s == 403 || s == 404 || s == 405 || s == 407) {
    return WriteOutcome::kRefused;
  }
  return WriteOutcome::kRejected;
}

OutputSpec remote_write_spec(std::string name, const RemoteWriteConfig& config) {
  OutputSpec spec;
  spec.name = std::move(name);
  spec.delivery = config;
  spec.delivery.precision = "ms";
  spec.delivery.gzip = false;
  spec.schema = parse_schema(config.schema).value_or(PointSchema::kHost);
  spec.settings = settings_text("remote_write", config);
  spec.kind = std::make_shared<RemoteWriteKind>(config);
  return spec;
}

std::string check_remote_write_url(std::string_view text) {
  // Unlike InfluxDB's, a query string is allowed: some receivers take a
  // tenant or labels there.
  return config::check_http_url(text, "http://127.0.0.1:9090/api/v1/write");
}

std::string check_header_name(std::string_view text) {
  if (text.empty()) return "a header name cannot be empty";
  for (char c : text) {
    bool token = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!token) return "'" + std::string(text) + "' is not a valid header name";
  }
  for (std::string_view own : {"content-type", "content-encoding", "content-length",
                               "x-prometheus-remote-write-version", "host"}) {
    if (text.size() == own.size() && std::equal(text.begin(), text.end(), own.begin(),
                                                [](char a, char b) { return (a | 0x20) == b; })) {
      return "'" + std::string(text) + "' is set by the output itself";
    }
  }
  return "";
}

void RemoteWriteConfig::validate(const std::string& path, config::Errors& errors) const {
  auto add = [&](const char* key, std::string message) {
    errors.push_back({"", 0, 0, path + "." + key, std::move(message)});
  };
  if (url.empty()) add("url", "is required, e.g. http://127.0.0.1:9090/api/v1/write");
  if (!bearer_token.empty() && !username.empty()) {
    add("username", "set either bearer_token or username/password, not both");
  }
  if (!password.empty() && username.empty()) add("password", "needs a username");
  for (const auto& [name, value] : headers) {
    if (value.find_first_of("\r\n") != std::string::npos) {
      add("headers", "the value of '" + name + "' must not contain line breaks");
    }
  }
  if (retry_initial > retry_max) {
    add("retry_initial", "is longer than retry_max (" + config::format_duration(retry_max) + ")");
  }
  if (max_age.count() != 0 && max_age < std::chrono::minutes(1)) {
    add("max_age",
        "must be 0 (no limit) or at least 1m (got " + config::format_duration(max_age) + ")");
  }
}

namespace {

const OutputKindRegistration kRemoteWrite{
    {"outputs", "remote_write",
     "Prometheus remote-write receivers (Prometheus, Mimir, Cortex, Thanos, VictoriaMetrics) to "
     "send points to as samples; each has its own queue in the spool, like an InfluxDB output.",
     config::make_options<RemoteWriteConfig>},
    [](const config::Instance& instance) {
      return remote_write_spec(instance.name, instance.as<RemoteWriteConfig>());
    }};

}  // namespace
}  // namespace edgemon::outputs
