#include "app/config_import.hpp"

#include <cjson/cJSON.h>
#include <yaml.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>

#include "core/config.hpp"
#include "core/config_loader.hpp"
#include "core/json_document.hpp"
#include "core/json_text.hpp"

namespace edgemon::app {
namespace {

constexpr size_t kMaxImportBytes = 1 << 20;
// Aliases make a YAML document a graph: walking it as a tree is bounded by
// these, not by the file's size.
constexpr int kMaxDepth = 32;
constexpr size_t kMaxNodes = 100000;

// A YAML node as cJSON (scalars as strings): one tree for both formats.
cJSON* to_json(yaml_document_t* doc, yaml_node_t* node, int depth, size_t* budget) {
  if (node == nullptr || depth > kMaxDepth || *budget == 0) return nullptr;
  --*budget;
  switch (node->type) {
    case YAML_SCALAR_NODE:
      return cJSON_CreateString(
          std::string(reinterpret_cast<char*>(node->data.scalar.value), node->data.scalar.length)
              .c_str());
    case YAML_SEQUENCE_NODE: {
      cJSON* array = cJSON_CreateArray();
      for (auto* it = node->data.sequence.items.start; it < node->data.sequence.items.top; ++it) {
        cJSON* item = to_json(doc, yaml_document_get_node(doc, *it), depth + 1, budget);
        if (item == nullptr) {
          cJSON_Delete(array);
          return nullptr;
        }
        cJSON_AddItemToArray(array, item);
      }
      return array;
    }
    case YAML_MAPPING_NODE: {
      cJSON* object = cJSON_CreateObject();
      for (auto* p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; ++p) {
        yaml_node_t* key = yaml_document_get_node(doc, p->key);
        cJSON* value = to_json(doc, yaml_document_get_node(doc, p->value), depth + 1, budget);
        if (key == nullptr || key->type != YAML_SCALAR_NODE || value == nullptr) {
          cJSON_Delete(value);
          cJSON_Delete(object);
          return nullptr;
        }
        std::string name(reinterpret_cast<char*>(key->data.scalar.value), key->data.scalar.length);
        cJSON_AddItemToObject(object, name.c_str(), value);
      }
      return object;
    }
    default:
      return nullptr;
  }
}

std::string parse_tree(std::string_view text, JsonPtr* out) {
  yaml_parser_t parser;
  yaml_document_t doc;
  if (yaml_parser_initialize(&parser) == 0) return "out of memory";
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  if (yaml_parser_load(&parser, &doc) == 0) {
    std::string why = parser.problem != nullptr ? parser.problem : "not YAML or JSON";
    std::string where = " at line " + std::to_string(parser.problem_mark.line + 1);
    yaml_parser_delete(&parser);
    return why + where;
  }
  size_t budget = kMaxNodes;
  out->reset(to_json(&doc, yaml_document_get_root_node(&doc), 0, &budget));
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  if (*out == nullptr) return "too deep, too large or not a mapping of names to values";
  if (!cJSON_IsObject(out->get())) return "not a mapping of keys to values";
  return "";
}

// A scalar read as text, or "" when the node is not one.
std::string text_of(const cJSON* item) {
  return cJSON_IsString(item) ? item->valuestring : "";
}

// Whole or fractional seconds, as the old tools wrote intervals, to an
// edgemon duration within [min_ms, max_ms] (the key's range); "" when it is
// not a number in it.
std::string seconds_to_duration(const cJSON* item, long long min_ms, long long max_ms) {
  std::string t = text_of(item);
  char* end = nullptr;
  double seconds = std::strtod(t.c_str(), &end);
  if (t.empty() || end == nullptr || *end != '\0' || !(seconds * 1000 >= min_ms) ||
      !(seconds * 1000 <= max_ms)) {
    return "";
  }
  auto ms = static_cast<long long>(std::llround(seconds * 1000));
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

bool is_port(const std::string& text) {
  if (text.empty() || text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  int port = std::stoi(text);
  return port >= 1 && port <= 65535;
}

bool truthy(const cJSON* item) {
  std::string t = text_of(item);
  std::transform(t.begin(), t.end(), t.begin(), ::tolower);
  return t == "true" || t == "yes" || t == "1" || t == "on";
}

std::string quoted(std::string_view text) {
  std::string out;
  append_json_string(out, text);  // a JSON string is a YAML double-quoted scalar
  return out;
}

// Writes the configuration as YAML as keys are mapped.
class Writer {
 public:
  std::string& out() { return out_; }
  void unmapped(const std::string& key, const std::string& why) {
    result_.push_back(key + ": " + why);
  }
  std::vector<std::string> take_unmapped() { return std::move(result_); }

 private:
  std::string out_;
  std::vector<std::string> result_;
};

// The edge power exporter's config.yaml (its README, "Config File").
void import_power_exporter(const cJSON* root, Writer& w, std::string* log_comment) {
  std::string device_type, interval, port;
  const cJSON* metrics = nullptr;
  const cJSON* enabled = nullptr;
  const cJSON* item = nullptr;
  cJSON_ArrayForEach(item, root) {
    std::string key = item->string;
    if (key == "device_type") {
      device_type = text_of(item);
      if (std::string why = config::check_tag_value(device_type); !why.empty()) {
        w.unmapped(key, why);
        device_type.clear();
      }
    } else if (key == "interval") {
      // tegrastats --interval: 100 ms to 60 s.
      interval = seconds_to_duration(item, 100, 60000);
      if (interval.empty()) w.unmapped(key, "expected seconds, from 0.1 to 60");
    } else if (key == "port") {
      if (is_port(text_of(item))) {
        port = text_of(item);
      } else {
        w.unmapped(key, "expected a port number, 1 to 65535");
      }
    } else if (key == "reload_port") {
      w.unmapped(key,
                 "edgemon serves /reload, /metrics/list and /metrics/enable on its one "
                 "port (http.listen); they need a token in http.access.write.tokens");
    } else if (key == "metrics" && cJSON_IsObject(item)) {
      metrics = item;
    } else if (key == "enabled_metrics" && cJSON_IsArray(item)) {
      enabled = item;
    } else {
      w.unmapped(key, "not a key of the edge power exporter that edgemon knows");
    }
  }
  std::string& out = w.out();
  if (!device_type.empty()) out += "tags:\n  device_type: " + quoted(device_type) + "\n";
  if (!port.empty()) {
    // The exporter listened on every interface; so does this, on its port.
    out += "http:\n  listen: [" + quoted("0.0.0.0:" + port) + "]\n";
    *log_comment +=
        "# http.listen: the exporter's port on every interface; the systemd unit "
        "allows only\n# localhost traffic until IPAddressAllow= is widened.\n";
  }
  out += "sources:\n  tegrastats:\n    - name: jetson\n      exporter_names: true\n";
  if (!interval.empty()) out += "      interval: " + interval + "\n";
  if (!device_type.empty()) out += "      device_type: " + quoted(device_type) + "\n";
  if (metrics != nullptr) {
    out += "metrics:\n";
    std::set<std::string> seen;
    cJSON_ArrayForEach(item, metrics) {
      std::string name = item->string;
      std::string value = text_of(item);
      if (value != "true" && value != "false") {
        w.unmapped("metrics." + name, "expected true or false");
      } else if (!config::check_metric_name(name).empty()) {
        w.unmapped("metrics." + name, "not a metric name");
      } else if (!seen.insert(name).second) {
        w.unmapped("metrics." + name, "named twice; the first is kept");
      } else {
        out += "  " + quoted(name) + ": " + value + "\n";
      }
    }
  }
  if (enabled != nullptr) {
    out += "enabled_metrics:\n";
    cJSON_ArrayForEach(item, enabled) {
      std::string name = text_of(item);
      if (config::check_metric_name(name).empty()) {
        out += "  - " + quoted(name) + "\n";
      } else {
        w.unmapped("enabled_metrics[" + quoted(name) + "]", "not a metric name");
      }
    }
  }
  w.unmapped("CONFIG_SERVER_URL, CONFIG_TIMEOUT (environment)",
             "edgemon has no central configuration client yet: keep the file in your "
             "configuration management and `systemctl reload edgemon` after a change");
}

std::string log_level(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), ::tolower);
  if (text == "warning") return "warn";
  if (text == "critical") return "error";
  return text == "debug" || text == "info" || text == "warn" || text == "error" ? text : "";
}

// The platform observability agent's agent_config.json (its README,
// "Configuration").
void import_observability_agent(const cJSON* root, Writer& w) {
  std::string interval, level;
  bool collect = true;
  const cJSON* item = nullptr;
  cJSON_ArrayForEach(item, root) {
    std::string key = item->string;
    if (key == "metrics_interval") {
      // collect.interval: 100 ms to 1 h.
      interval = seconds_to_duration(item, 100, 3600000);
      if (interval.empty()) w.unmapped(key, "expected seconds, from 0.1 to 3600");
    } else if (key == "collect_metrics") {
      collect = truthy(item);
    } else if (key == "log_level" && !log_level(text_of(item)).empty()) {
      level = log_level(text_of(item));
    } else if (key == "api_endpoint" || key == "api_token" || key == "log_source_id") {
      w.unmapped(key,
                 "the platform's own API: edgemon sends to InfluxDB, Prometheus remote "
                 "write or an edgemon hub (outputs.*)");
    } else if (key == "log_files" || key == "batch_size" || key == "flush_interval" ||
               key == "poll_interval") {
      w.unmapped(key, "log tailing is not in edgemon yet");
    } else if (key.starts_with("collect_docker") || key.starts_with("docker_")) {
      w.unmapped(key, "container metrics are not in edgemon yet");
    } else if (key.starts_with("collect_http") || key.starts_with("http_")) {
      w.unmapped(key, "HTTP checks are not in edgemon yet");
    } else if (key == "heartbeat_interval") {
      w.unmapped(key, "edgemon's liveness is GET /health and edgemon_* metrics");
    } else {
      w.unmapped(key, "not a key of the platform observability agent that edgemon knows");
    }
  }
  std::string& out = w.out();
  if (!interval.empty() || !collect) {
    out += "collect:\n";
    if (!interval.empty()) out += "  interval: " + interval + "\n";
    if (!collect) {
      out += "  disable: [";
      bool first = true;
      for (const config::KindDecl* k : config::registered_kinds("collectors")) {
        out += (first ? "" : ", ") + k->kind;
        first = false;
      }
      out += "]\n";
    }
  }
  if (!level.empty()) out += "log:\n  level: " + level + "\n";
}

bool has_any(const cJSON* root, std::initializer_list<const char*> keys) {
  return std::any_of(keys.begin(), keys.end(), [&](const char* k) {
    return cJSON_GetObjectItemCaseSensitive(root, k) != nullptr;
  });
}

}  // namespace

ImportedConfig import_config(std::string_view text) {
  ImportedConfig result;
  if (text.size() > kMaxImportBytes) {
    result.error = "larger than 1 MiB: not a configuration file";
    return result;
  }
  JsonPtr root(nullptr, cJSON_Delete);
  if (std::string err = parse_tree(text, &root); !err.empty()) {
    result.error = err;
    return result;
  }
  Writer w;
  std::string notes;
  if (has_any(root.get(), {"api_endpoint", "api_token", "log_source_id", "collect_metrics",
                           "metrics_interval", "collect_docker_metrics", "http_services"})) {
    result.tool = "platform observability agent (agent_config.json)";
    import_observability_agent(root.get(), w);
  } else if (has_any(root.get(),
                     {"device_type", "reload_port", "metrics", "enabled_metrics", "port"})) {
    result.tool = "edge power exporter (config.yaml)";
    import_power_exporter(root.get(), w, &notes);
  } else {
    result.error =
        "not a configuration of a tool edgemon replaces (the edge power exporter's "
        "config.yaml, the platform observability agent's agent_config.json)";
    return result;
  }
  result.yaml = "# edgemon configuration imported from the " + result.tool +
                " by `edgemon config --import`.\n# `edgemon config` lists every key.\n" + notes +
                w.out();
  result.unmapped = w.take_unmapped();
  // What is printed must load: a failure here is edgemon's bug, said as such.
  config::Config check;
  config::Errors errors = config::load_yaml_string(result.yaml, "imported", &check);
  if (errors.empty()) errors = config::validate(check);
  if (!errors.empty()) {
    result.error = "the imported configuration does not validate (please report): " +
                   errors.front().to_string();
  }
  return result;
}

}  // namespace edgemon::app
