#include "api/config_server_endpoints.hpp"

#include <charconv>
#include <optional>

#include "core/clock.hpp"
#include "core/config_hub.hpp"
#include "core/json_document.hpp"
#include "core/rfc3339.hpp"
#include "http/access.hpp"
#include "http/query_string.hpp"

namespace edgemon::api {
namespace {

using store::ConfigScope;
http::Response json_answer(int status, const JsonPtr& root) {
  http::Response r;
  r.status = status;
  r.set_body(json_text(root.get()) + "\n");
  return r;
}

// Names are device ids and device_type tag values: one path segment.
std::string check_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return "names are 1 to 128 bytes";
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) {
      return "names may not contain spaces or control characters";
    }
  }
  return "";
}

// FNV-1a: only so that the ETags of two device types' defaults at the same
// version differ.
uint32_t name_hash(std::string_view text) {
  uint32_t h = 2166136261u;
  for (unsigned char c : text)
    h = (h ^ c) * 16777619u;
  return h;
}

std::optional<int64_t> parse_version(std::string_view text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = text.substr(1, text.size() - 2);
  }
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0) return std::nullopt;
  return v;
}

cJSON* version_json(const store::ConfigVersion& v) {
  cJSON* item = cJSON_CreateObject();
  cJSON_AddNumberToObject(item, "version", static_cast<double>(v.version));
  cJSON_AddBoolToObject(item, "deleted", v.deleted);
  cJSON_AddNumberToObject(item, "bytes", static_cast<double>(v.bytes));
  cJSON_AddStringToObject(item, "updated", format_rfc3339_ms(v.updated_ms).c_str());
  cJSON_AddStringToObject(item, "updated_by", v.updated_by.c_str());
  return item;
}

http::Response invalid_document(const config::Errors& errors) {
  JsonPtr root = json_object();
  std::string message = "configuration refused: " + std::to_string(errors.size()) +
                        (errors.size() == 1 ? " error" : " errors");
  cJSON_AddStringToObject(root.get(), "error", message.c_str());
  cJSON_AddNumberToObject(root.get(), "status", 400);
  cJSON* list = cJSON_AddArrayToObject(root.get(), "errors");
  for (const auto& e : errors) {
    cJSON* item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "key", e.key.c_str());
    if (e.line > 0) {
      cJSON_AddNumberToObject(item, "line", e.line);
      cJSON_AddNumberToObject(item, "column", e.column);
    }
    cJSON_AddStringToObject(item, "message", e.message.c_str());
    cJSON_AddItemToArray(list, item);
  }
  return json_answer(400, root);
}

}  // namespace

// What a path under /config/ or /config_defaults/ names.
struct ConfigServerEndpoints::Target {
  ConfigScope scope = ConfigScope::kDevice;
  std::string name;
  std::string part;  // "", "versions" or "report"
  std::string error;

  static Target parse(std::string_view path) {
    Target t;
    std::string_view rest;
    if (path.starts_with("/config/")) {
      rest = path.substr(8);
    } else {
      t.scope = ConfigScope::kDeviceType;
      rest = path.substr(std::string_view("/config_defaults/").size());
    }
    size_t slash = rest.find('/');
    t.name = std::string(rest.substr(0, slash));
    if (slash != std::string_view::npos) t.part = std::string(rest.substr(slash + 1));
    t.error = check_name(t.name);
    bool known = t.part.empty() || t.part == "versions" ||
                 (t.part == "report" && t.scope == ConfigScope::kDevice);
    if (t.error.empty() && !known) t.error = "no such resource: " + t.part.substr(0, 64);
    return t;
  }
};

ConfigServerEndpoints::ConfigServerEndpoints(uv_loop_t* loop, Validator validator)
    : loop_(loop),
      validator_(std::move(validator)),
      store_(std::make_shared<std::unique_ptr<store::ConfigStore>>()) {}

ConfigServerEndpoints::~ConfigServerEndpoints() {
  // The worker finishes its queue first; the store closes after it.
  worker_.reset();
}

void ConfigServerEndpoints::configure(const config::Config& config, const std::string& path) {
  enabled_ = config.config_server.serve;
  device_tokens_.configure(config.ingest.tokens);
  operator_tokens_ = config.http.access.write.tokens;
  versions_kept_ = config.config_server.versions_kept;
  if (!enabled_ || path == path_) return;
  path_ = path;
  if (!worker_) worker_ = std::make_unique<WorkerThread>(loop_);
  auto error = std::make_shared<std::string>();
  worker_->post(
      [store = store_, path, error] {
        store->reset();
        *store = store::ConfigStore::open(path, error.get());
      },
      [this, error] { store_error_ = *error; });
}

void ConfigServerEndpoints::add_routes(http::Router& router) {
  struct Spec {
    const char* method;
    const char* prefix;
    bool from_devices;
  };
  // Devices reach their own configuration (GET) and report (POST) through
  // the ingest group's networks; what only operators do is the write
  // group's (its networks and tokens).
  static constexpr Spec kRoutes[] = {
      {"GET", "/config/*", true},
      {"POST", "/config/*", true},
      {"PUT", "/config/*", false},
      {"DELETE", "/config/*", false},
      {"GET", "/config_defaults/*", false},
      {"PUT", "/config_defaults/*", false},
      {"DELETE", "/config_defaults/*", false},
  };
  for (const Spec& spec : kRoutes) {
    if (!enabled_) {
      router.remove(spec.method, spec.prefix);
      continue;
    }
    http::Route& route = router.add(
        spec.method, spec.prefix, spec.from_devices ? http::Group::kIngest : http::Group::kWrite,
        [this](const http::Request& q, http::Response& r) { handle(q, r); });
    route.max_body_bytes =
        std::string_view(spec.method) == "POST" ? kMaxReportBytes : kMaxDocumentBytes;
    if (spec.from_devices) {
      route.head_check = [this](const http::Request& head, http::Response* refusal) {
        return head_check(head, refusal);
      };
    }
  }
  if (enabled_) {
    router.add("GET", "/config", http::Group::kWrite,
               [this](const http::Request&, http::Response& r) { list(r); });
  } else {
    router.remove("GET", "/config");
  }
}

bool ConfigServerEndpoints::is_operator(const http::Request& request) const {
  std::string token = ingest::presented_token(request, {});
  return !token.empty() && http::token_matches(token, operator_tokens_);
}

// Devices read and report only their own; an operator's token reads any.
bool ConfigServerEndpoints::head_check(const http::Request& head, http::Response* refusal) const {
  if (is_operator(head)) return true;
  Target target = Target::parse(head.path);
  if (!device_tokens_.required()) {
    *refusal = http::json_error(403, "the config server needs ingest.tokens");
    return false;
  }
  ingest::Identity id = device_tokens_.identify(head, {});
  if (id.status != 0) {
    *refusal = http::json_error(id.status, id.message);
    refusal->headers.emplace_back("WWW-Authenticate", "Bearer realm=\"edgemon\"");
    return false;
  }
  if (id.device != ingest::kAnyDevice && id.device != target.name) {
    *refusal = http::json_error(403, "the token of " + id.device.substr(0, 128) +
                                         " reads and reports only its own configuration");
    return false;
  }
  return true;
}

void ConfigServerEndpoints::handle(const http::Request& request, http::Response& response) {
  if (!enabled_) {
    response = http::json_error(404, "the config server is off (config_server.serve)");
    return;
  }
  std::string_view m = request.method;
  // The server checks a route's head only before reading a body; a GET has
  // none. (A POST is checked again: a reload may have changed the tokens.)
  if (request.path.starts_with("/config/") && m != "PUT" && m != "DELETE") {
    http::Response refusal;
    if (!head_check(request, &refusal)) {
      response = std::move(refusal);
      return;
    }
  }
  Target target = Target::parse(request.path);
  if (!target.error.empty()) {
    response = http::json_error(404, target.error);
    return;
  }
  bool get = m == "GET" || m == "HEAD";
  if (target.part == "versions" && get) return get_versions(target, response);
  if (target.part == "report" && get) return get_report(target, response);
  if (target.part == "report" && m == "POST") return post_report(target, request, response);
  if (target.part.empty() && m == "PUT") return put_document(target, request, response);
  if (target.part.empty() && m == "DELETE") return delete_document(target, request, response);
  if (target.part.empty() && get) {
    auto params = http::parse_query(request.query);
    if (!params) {
      response = http::json_error(400, "malformed query string");
      return;
    }
    if (const std::string* v = http::find_param(*params, "version")) {
      std::optional<int64_t> version = parse_version(*v);
      if (!version) {
        response = http::json_error(400, "version must be a whole number");
        return;
      }
      return get_version(target, *version, response);
    }
    if (target.scope == ConfigScope::kDeviceType) return get_version(target, -1, response);
    return get_device(target, request, response);
  }
  response = http::json_error(405, std::string(m) + " is not allowed on " +
                                       (target.part.empty() ? "a configuration" : target.part));
}

void ConfigServerEndpoints::run(http::Response& response,
                                std::function<http::Response(store::ConfigStore*)> job) {
  auto answer = std::make_shared<http::Response>();
  worker_->post(
      [store = store_, job = std::move(job), answer] {
        if (!*store) {
          *answer = http::json_error(503, "the config store is not open");
          return;
        }
        *answer = job(store->get());
      },
      [this, answer, responder = response.defer()]() mutable {
        Result result = kServed;
        switch (answer->status) {
          case 200:
            break;
          case 201:
          case 204:
            result = kStored;
            break;
          case 304:
            result = kNotModified;
            break;
          case 404:
            result = kNotFound;
            break;
          case 400:
            result = kInvalid;
            break;
          case 412:
            result = kConflict;
            break;
          default:
            result = kFailed;
        }
        ++results_[result];
        responder.send(std::move(*answer));
      });
}

// The device type's defaults, then the device's own document: a YAML stream
// the agent lays over its file in that order.
void ConfigServerEndpoints::get_device(const Target& target, const http::Request& request,
                                       http::Response& response) {
  std::string device_type;
  if (auto params = http::parse_query(request.query)) {
    if (const std::string* t = http::find_param(*params, "device_type")) device_type = *t;
  }
  if (!device_type.empty()) {
    if (std::string err = check_name(device_type); !err.empty()) {
      response = http::json_error(400, "device_type: " + err);
      return;
    }
  }
  std::string if_none_match;
  if (const std::string* h = request.header("if-none-match")) if_none_match = *h;
  std::string device = target.name;
  run(response, [device, device_type, if_none_match](store::ConfigStore* store) {
    std::optional<store::ConfigVersion> own;
    std::optional<store::ConfigVersion> defaults;
    std::string err = store->latest(ConfigScope::kDevice, device, &own);
    if (err.empty() && !device_type.empty()) {
      err = store->latest(ConfigScope::kDeviceType, device_type, &defaults);
    }
    if (!err.empty()) return http::json_error(500, err);
    if (own && own->deleted) own.reset();
    if (defaults && defaults->deleted) defaults.reset();
    if (!own && !defaults) {
      return http::json_error(
          404, "no configuration for device " + device +
                   (device_type.empty() ? std::string() : " nor for device_type " + device_type));
    }
    std::string etag = "\"d" + std::to_string(own ? own->version : 0) + ".t" +
                       std::to_string(defaults ? defaults->version : 0) + "." +
                       std::to_string(name_hash(device_type)) + "\"";
    http::Response r;
    r.headers.emplace_back("ETag", etag);
    r.headers.emplace_back("Cache-Control", "no-cache");
    if (if_none_match == etag) {
      r.status = 304;
      return r;
    }
    r.content_type = "application/yaml; charset=utf-8";
    std::string text = "# edgemon configuration served for device " + device + "\n";
    auto add = [&text](const std::string& what, const store::ConfigVersion& v) {
      text += "# " + what + ": version " + std::to_string(v.version) + " of " +
              format_rfc3339_ms(v.updated_ms) + "\n---\n" + v.body;
      if (!v.body.empty() && v.body.back() != '\n') text += "\n";
    };
    if (defaults) add("defaults of device_type " + device_type, *defaults);
    if (own) add("device " + device, *own);
    r.set_body(std::move(text));
    return r;
  });
}

// version < 0: the newest.
void ConfigServerEndpoints::get_version(const Target& target, int64_t version,
                                        http::Response& response) {
  run(response, [target, version](store::ConfigStore* store) {
    std::optional<store::ConfigVersion> found;
    std::string err = version < 0 ? store->latest(target.scope, target.name, &found)
                                  : store->version(target.scope, target.name, version, &found);
    if (!err.empty()) return http::json_error(500, err);
    if (!found || found->deleted) {
      return http::json_error(404, std::string("no such version of ") +
                                       std::string(store::scope_name(target.scope)) + " " +
                                       target.name);
    }
    http::Response r;
    r.content_type = "application/yaml; charset=utf-8";
    r.headers.emplace_back("ETag", "\"" + std::to_string(found->version) + "\"");
    r.set_body(found->body);
    return r;
  });
}

void ConfigServerEndpoints::get_versions(const Target& target, http::Response& response) {
  run(response, [target](store::ConfigStore* store) {
    std::vector<store::ConfigVersion> versions;
    if (std::string err = store->versions(target.scope, target.name, &versions); !err.empty()) {
      return http::json_error(500, err);
    }
    if (versions.empty()) {
      return http::json_error(
          404,
          "nothing stored for " + std::string(store::scope_name(target.scope)) + " " + target.name);
    }
    JsonPtr root = json_object();
    cJSON_AddStringToObject(root.get(), std::string(store::scope_name(target.scope)).c_str(),
                            target.name.c_str());
    cJSON* list = cJSON_AddArrayToObject(root.get(), "versions");
    for (const auto& v : versions)
      cJSON_AddItemToArray(list, version_json(v));
    return json_answer(200, root);
  });
}

void ConfigServerEndpoints::put_document(const Target& target, const http::Request& request,
                                         http::Response& response) {
  std::optional<int64_t> expected;
  if (const std::string* h = request.header("if-match")) {
    expected = parse_version(*h);
    if (!expected) {
      response = http::json_error(400, "If-Match takes the ETag of a version, e.g. \"3\"");
      return;
    }
  } else if (const std::string* none = request.header("if-none-match");
             none != nullptr && *none == "*") {
    expected = 0;  // create only
  }
  std::string who = "operator@" + request.client.to_string();
  int64_t keep = versions_kept_;
  auto body = std::make_shared<std::string>(std::move(request.body));
  run(response, [this, target, expected, who, keep, body](store::ConfigStore* store) {
    std::string name = std::string(store::scope_name(target.scope)) + " " + target.name;
    if (config::Errors errors = validator_(*body, name); !errors.empty()) {
      return invalid_document(errors);
    }
    int64_t version = 0;
    std::optional<store::ConfigConflict> conflict;
    std::string err = store->put(target.scope, target.name, *body, who, unix_now_ms(), expected,
                                 keep, &version, &conflict);
    if (!err.empty()) return http::json_error(500, err);
    if (conflict) {
      http::Response r = http::json_error(
          412, "the stored version is " + std::to_string(conflict->current_version) +
                   ", not the one in If-Match: read it again, then change that");
      r.headers.emplace_back("ETag", "\"" + std::to_string(conflict->current_version) + "\"");
      return r;
    }
    JsonPtr root = json_object();
    cJSON_AddStringToObject(root.get(), std::string(store::scope_name(target.scope)).c_str(),
                            target.name.c_str());
    cJSON_AddNumberToObject(root.get(), "version", static_cast<double>(version));
    http::Response r = json_answer(version == 1 ? 201 : 200, root);
    r.headers.emplace_back("ETag", "\"" + std::to_string(version) + "\"");
    return r;
  });
}

void ConfigServerEndpoints::delete_document(const Target& target, const http::Request& request,
                                            http::Response& response) {
  std::optional<int64_t> expected;
  if (const std::string* h = request.header("if-match")) expected = parse_version(*h);
  std::string who = "operator@" + request.client.to_string();
  int64_t keep = versions_kept_;
  run(response, [target, expected, who, keep](store::ConfigStore* store) {
    std::optional<store::ConfigVersion> current;
    if (std::string err = store->latest(target.scope, target.name, &current); !err.empty()) {
      return http::json_error(500, err);
    }
    if (!current || current->deleted) return http::json_error(404, "nothing to delete");
    int64_t version = 0;
    std::optional<store::ConfigConflict> conflict;
    std::string err = store->put(target.scope, target.name, std::nullopt, who, unix_now_ms(),
                                 expected, keep, &version, &conflict);
    if (!err.empty()) return http::json_error(500, err);
    if (conflict) return http::json_error(412, "the stored version is not the one in If-Match");
    http::Response r;
    r.status = 204;
    return r;
  });
}

void ConfigServerEndpoints::post_report(const Target& target, const http::Request& request,
                                        http::Response& response) {
  JsonPtr parsed(cJSON_ParseWithLength(request.body.data(), request.body.size()), cJSON_Delete);
  if (!parsed || !cJSON_IsObject(parsed.get())) {
    response = http::json_error(400, "a report is a JSON object");
    return;
  }
  // Stored as received once it parses: it is shown back, never interpreted.
  auto body = std::make_shared<std::string>(std::move(request.body));
  run(response, [target, body](store::ConfigStore* store) {
    bool full = false;
    if (std::string err = store->put_report(target.name, *body, unix_now_ms(), &full);
        !err.empty()) {
      return http::json_error(500, err);
    }
    if (full) {
      return http::json_error(507, "reports are kept for " +
                                       std::to_string(store::ConfigStore::kMaxReports) +
                                       " devices at most");
    }
    http::Response r;
    r.status = 204;
    return r;
  });
}

void ConfigServerEndpoints::get_report(const Target& target, http::Response& response) {
  run(response, [target](store::ConfigStore* store) {
    std::optional<store::DeviceReport> report;
    if (std::string err = store->report(target.name, &report); !err.empty()) {
      return http::json_error(500, err);
    }
    if (!report) return http::json_error(404, "device " + target.name + " has not reported");
    http::Response r;
    r.headers.emplace_back("Last-Modified", format_rfc3339_ms(report->received_ms));
    r.set_body(report->body);
    return r;
  });
}

void ConfigServerEndpoints::list(http::Response& response) {
  if (!enabled_) {
    response = http::json_error(404, "the config server is off (config_server.serve)");
    return;
  }
  run(response, [](store::ConfigStore* store) {
    std::vector<store::ConfigListed> listed;
    if (std::string err = store->list(&listed); !err.empty()) return http::json_error(500, err);
    JsonPtr root = json_object();
    cJSON* devices = cJSON_AddObjectToObject(root.get(), "devices");
    cJSON* types = cJSON_AddObjectToObject(root.get(), "device_types");
    for (const auto& item : listed) {
      cJSON_AddItemToObject(item.scope == ConfigScope::kDevice ? devices : types, item.name.c_str(),
                            version_json(item.current));
    }
    return json_answer(200, root);
  });
}

void ConfigServerEndpoints::write_metrics(metrics::MetricSink& sink) const {
  if (!enabled_) return;
  static constexpr const char* kNames[kCount] = {"served",  "not_modified", "not_found", "stored",
                                                 "invalid", "conflict",     "failed"};
  static constexpr metrics::FamilyDesc kRequests{
      "edgemon_config_server_requests_total",
      "Requests the config server answered (GET/PUT/DELETE/POST /config...), by result: served, "
      "not_modified (304), not_found, stored, invalid (400), conflict (412), failed.",
      metrics::Type::kCounter};
  sink.begin(kRequests);
  for (int i = 0; i < kCount; ++i)
    sink.sample({{"result", kNames[i]}}, static_cast<double>(results_[i]));
}

void ConfigServerEndpoints::write_status(cJSON* root) const {
  if (!enabled_) return;
  cJSON* section = cJSON_AddObjectToObject(root, "config_server_store");
  cJSON_AddStringToObject(section, "path", path_.c_str());
  cJSON_AddBoolToObject(section, "open", store_error_.empty());
  if (!store_error_.empty()) cJSON_AddStringToObject(section, "error", store_error_.c_str());
}

}  // namespace edgemon::api
