#include "outputs/write_outcome.hpp"

#include <cjson/cJSON.h>

#include <memory>

namespace edgemon::outputs {
namespace {

constexpr size_t kMaxMessage = 300;

std::string server_message(const std::string& body) {
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> json(
      cJSON_ParseWithLength(body.data(), body.size()), cJSON_Delete);
  for (const char* key : {"error", "message"}) {
    const cJSON* item = json ? cJSON_GetObjectItemCaseSensitive(json.get(), key) : nullptr;
    if (cJSON_IsString(item) && item->valuestring != nullptr) return item->valuestring;
  }
  std::string text = body;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  return text;
}

}  // namespace

WriteOutcome classify(const http::ClientResponse& response) {
  int s = response.status;
  if (s == 0) return WriteOutcome::kRetry;
  if (s >= 200 && s < 300) return WriteOutcome::kDelivered;
  if (s == 400 || s == 422) return WriteOutcome::kRejected;
  if (s == 413) return WriteOutcome::kTooLarge;
  if (s == 408 || s == 429 || s >= 500) return WriteOutcome::kRetry;
  // 401/403/404, redirects we do not follow, other client errors: the
  // configuration is wrong, and resending the same request will not fix it.
  return WriteOutcome::kRefused;
}

const char* outcome_name(WriteOutcome outcome) {
  switch (outcome) {
    case WriteOutcome::kDelivered:
      return "delivered";
    case WriteOutcome::kRejected:
      return "rejected";
    case WriteOutcome::kRefused:
      return "refused";
    case WriteOutcome::kTooLarge:
      return "too_large";
    case WriteOutcome::kRetry:
      return "retry";
  }
  return "unknown";
}

std::string describe_failure(const http::ClientResponse& response) {
  if (response.status == 0) return response.error.empty() ? "no response" : response.error;
  std::string out = "HTTP " + std::to_string(response.status);
  std::string message = server_message(response.body);
  if (message.size() > kMaxMessage) message = message.substr(0, kMaxMessage) + "...";
  if (!message.empty()) out += ": " + message;
  return out;
}

}  // namespace edgemon::outputs
