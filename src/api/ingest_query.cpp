// /query on the hub: enough InfluxQL for the influx CLI to import into the
// hub (`influx -import` runs its `# DDL` section through /query) and for
// its first commands. Points are not queried here: they are forwarded to
// the outputs, and the history has its own endpoints.
#include <cjson/cJSON.h>

#include <algorithm>
#include <memory>

#include "api/ingest_endpoints.hpp"
#include "core/json_document.hpp"
#include "ingest/influxql.hpp"

namespace edgemon::api {
namespace {

using ingest::InfluxqlStatement;

constexpr size_t kMaxDatabases = 100;

// {"statement_id": i, "series": [{"name": name, "columns": ["name"], "values": [[v], ...]}]}
void add_names(cJSON* result, const char* series_name, const std::vector<std::string>& names) {
  cJSON* series = cJSON_AddArrayToObject(result, "series");
  cJSON* one = cJSON_CreateObject();
  cJSON_AddItemToArray(series, one);
  cJSON_AddStringToObject(one, "name", series_name);
  cJSON* columns = cJSON_AddArrayToObject(one, "columns");
  cJSON_AddItemToArray(columns, cJSON_CreateString("name"));
  cJSON* values = cJSON_AddArrayToObject(one, "values");
  for (const auto& n : names) {
    cJSON* row = cJSON_CreateArray();
    cJSON_AddItemToArray(row, cJSON_CreateString(n.c_str()));
    cJSON_AddItemToArray(values, row);
  }
}

http::Response influx_error(int status, const std::string& message) {
  JsonPtr root = json_object();
  cJSON_AddStringToObject(root.get(), "error", message.c_str());
  http::Response r;
  r.status = status;
  r.set_body(json_text(root.get()) + "\n");
  return r;
}

}  // namespace

void IngestEndpoints::query(const http::Request& request, http::Response& response) {
  std::optional<http::QueryParams> params = http::parse_query(request.query);
  std::optional<http::QueryParams> form;
  if (request.method == "POST" && !request.body.empty()) form = http::parse_query(request.body);
  if (!params || (request.method == "POST" && !request.body.empty() && !form)) {
    response = influx_error(400, "malformed query string or form body");
    return;
  }
  std::string device;
  if (auto refused = refuse_identity(request, *params, &device)) {
    response = std::move(*refused);
    return;
  }
  const std::string* q = http::find_param(*params, "q");
  if (q == nullptr && form) q = http::find_param(*form, "q");
  if (q == nullptr) {
    response = influx_error(400, "missing required parameter \"q\"");
    return;
  }
  std::vector<InfluxqlStatement> statements;
  if (std::string err = ingest::parse_influxql(*q, &statements); !err.empty()) {
    response = influx_error(400, "error parsing query: " + err);
    return;
  }
  for (const auto& st : statements) {
    if (st.kind != InfluxqlStatement::Kind::kCreateDatabase) continue;
    if (std::find(databases_.begin(), databases_.end(), st.database) == databases_.end() &&
        databases_.size() < kMaxDatabases) {
      databases_.push_back(st.database);
    }
  }
  bool wants_measurements =
      std::any_of(statements.begin(), statements.end(), [](const InfluxqlStatement& st) {
        return st.kind == InfluxqlStatement::Kind::kShowMeasurements;
      });
  auto answer = [statements, databases = databases_](std::vector<std::string> measurements,
                                                     const std::string& error) {
    JsonPtr root = json_object();
    cJSON* results = cJSON_AddArrayToObject(root.get(), "results");
    int id = 0;
    for (const auto& st : statements) {
      cJSON* result = cJSON_CreateObject();
      cJSON_AddItemToArray(results, result);
      cJSON_AddNumberToObject(result, "statement_id", id++);
      switch (st.kind) {
        case InfluxqlStatement::Kind::kCreateDatabase:
          break;
        case InfluxqlStatement::Kind::kShowDatabases: {
          std::vector<std::string> sorted = databases;
          std::sort(sorted.begin(), sorted.end());
          if (!sorted.empty()) add_names(result, "databases", sorted);
          break;
        }
        case InfluxqlStatement::Kind::kShowMeasurements:
          if (!error.empty()) {
            cJSON_AddStringToObject(result, "error", error.c_str());
          } else if (!measurements.empty()) {
            add_names(result, "measurements", measurements);
          }
          break;
        case InfluxqlStatement::Kind::kOther:
          cJSON_AddStringToObject(
              result, "error",
              ("edgemon's hub answers CREATE DATABASE, SHOW DATABASES and SHOW MEASUREMENTS "
               "only; query the InfluxDB it forwards to for: " +
               st.text)
                  .c_str());
          break;
      }
    }
    http::Response r;
    r.set_body(json_text(root.get()) + "\n");
    r.headers.emplace_back("X-Influxdb-Version", kInfluxVersionHeader);
    return r;
  };
  if (!wants_measurements || !list_measurements_) {
    response = answer({}, "");
    return;
  }
  list_measurements_([answer, responder = response.defer()](std::vector<std::string> names,
                                                            std::string error) mutable {
    responder.send(answer(std::move(names), error));
  });
}

}  // namespace edgemon::api
