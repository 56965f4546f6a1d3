#include "core/config_hub.hpp"

#include <algorithm>

#include "core/config.hpp"
#include "core/config_loader.hpp"

namespace edgemon::config {

std::string check_device_token_name(std::string_view text) {
  if (text == "*") return "";
  if (text.empty() || text.size() > 128) {
    return "a device id of 1 to 128 bytes, or \"*\" for a fleet token";
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) {
      return "device ids in tokens may not contain spaces or control characters";
    }
  }
  return "";
}

std::string check_hub_format(std::string_view text) {
  if (text == "lp" || text == "json") return "";
  return "expected lp or json (got '" + std::string(text) + "')";
}

std::string check_config_server_url(std::string_view text) {
  if (text.empty()) return "";
  return check_http_url(text, "http://hub.lan:9110");
}

std::string check_history_schema(std::string_view text) {
  if (text == "system_metrics" || text == "host" || text == "both") return "";
  return "expected system_metrics, host or both (got '" + std::string(text) + "')";
}

void validate_hub_parts(const Config& config, Errors& errors) {
  auto add = [&](std::string key, std::string message) {
    errors.push_back({"", 0, 0, std::move(key), std::move(message)});
  };
  const auto& outputs = config.outputs;
  for (size_t i = 0; i < outputs.hub.size(); ++i) {
    const HubOutputConfig& h = outputs.hub[i];
    std::string path = "outputs.hub[" + std::to_string(i) + "]";
    if (h.name.empty()) add(path + ".name", "is required: a unique name such as 'hub'");
    if (h.url.empty()) add(path + ".url", "is required, e.g. http://hub.lan:9110");
    if (h.retry_initial > h.retry_max) {
      add(path + ".retry_initial",
          "is longer than retry_max (" + format_duration(h.retry_max) + ")");
    }
    if (h.max_age.count() != 0 && h.max_age < std::chrono::minutes(1)) {
      add(path + ".max_age", "must be 0 (no limit) or at least 1m");
    }
    if (h.format == "json" && h.schema == "host") {
      add(path + ".schema", "format json carries system_metrics only; use format lp for host");
    }
    bool taken = std::any_of(outputs.influxdb.begin(), outputs.influxdb.end(),
                             [&](const auto& o) { return o.name == h.name; }) ||
                 std::any_of(outputs.hub.begin(), outputs.hub.begin() + static_cast<long>(i),
                             [&](const auto& o) { return o.name == h.name; });
    if (!h.name.empty() && taken) {
      add(path + ".name", "'" + h.name + "' is already the name of another output");
    }
  }
  const IngestSection& ingest = config.ingest;
  if (ingest.rate > 0 && ingest.burst < 1) {
    add("ingest.burst", "burst must be at least 1 when a rate is set (a bucket of 0 admits none)");
  }
  // A body is charged to the memory budget whole when its head arrives: one
  // larger than the budget could never be received.
  // So is it to its address's share: one over the share could never be
  // received from a client that has one.
  uint64_t budget =
      std::min(config.http.limits.memory_budget.bytes, config.http.limits.memory_per_address.bytes);
  const char* limit = config.http.limits.memory_budget.bytes <= budget
                          ? "http.limits.memory_budget"
                          : "http.limits.memory_per_address";
  if (ingest.enabled && ingest.limits.max_body_bytes.bytes > budget) {
    add("ingest.limits.max_body_bytes",
        "is larger than " + std::string(limit) + " (" + std::to_string(budget) + " bytes)");
  }
  if (config.http.limits.max_body_bytes.bytes > budget) {
    add("http.limits.max_body_bytes",
        "is larger than " + std::string(limit) + " (" + std::to_string(budget) + " bytes)");
  }
  if (ingest.limits.max_decoded_bytes.bytes < ingest.limits.max_body_bytes.bytes) {
    add("ingest.limits.max_decoded_bytes", "must be at least max_body_bytes");
  }
  for (const auto& [device, token] : ingest.tokens) {
    if (token.size() < 8) add("ingest.tokens." + device, "tokens need at least 8 characters");
  }
  if (config.history.aggregate_retention < config.history.raw_retention) {
    add("history.aggregate_retention", "must be at least raw_retention");
  }
  const ConfigServerSection& cs = config.config_server;
  if (cs.serve && !ingest.enabled) {
    add("config_server.serve", "needs ingest.enabled: devices fetch through the ingest routes");
  } else if (cs.serve && ingest.tokens.empty()) {
    add("config_server.serve",
        "needs ingest.tokens: a configuration may hold secrets, so each device reads its own "
        "with its token");
  }
  if (cs.poll_interval.count() != 0 && cs.poll_interval < 1s) {
    add("config_server.poll_interval", "must be 0 (start and reload only) or at least 1s");
  }
}

}  // namespace edgemon::config
