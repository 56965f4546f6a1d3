#include "core/json_document.hpp"

namespace edgemon {

std::string json_text(const cJSON* root) {
  char* text = cJSON_PrintUnformatted(root);
  std::string out = text != nullptr ? text : "{}";
  cJSON_free(text);
  return out;
}

}  // namespace edgemon
