#pragma once
// A cJSON document owned by RAII, and its compact text: what every JSON
// answer and report is built with.
#include <cjson/cJSON.h>

#include <memory>
#include <string>

namespace edgemon {

using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

inline JsonPtr json_object() {
  return JsonPtr(cJSON_CreateObject(), cJSON_Delete);
}

// Unformatted; "{}" if cJSON cannot print it (out of memory).
std::string json_text(const cJSON* root);

}  // namespace edgemon
