// POST /alert bodies come from the network (any client the ingest allowlist
// admits). Arbitrary bytes must give either a parsed message that keeps the
// parser's promises or a bounded error naming a path, never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/utf8.hpp"
#include "ingest/alert_webhook.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  edgemon::ingest::WebhookLimits limits;
  edgemon::ingest::WebhookMessage message;
  std::string error = edgemon::ingest::parse_alert_webhook(body, &message, limits);
  if (!error.empty()) {
    // A path, then why; short whatever the input holds.
    if (error.find(": ") == std::string::npos || error.size() > 400) std::abort();
    if (!message.alerts.empty()) std::abort();
    return 0;
  }
  if (message.alerts.size() > limits.max_alerts) std::abort();
  for (const auto& a : message.alerts) {
    if (a.status != "firing" && a.status != "resolved") std::abort();
    if (a.labels.empty() || a.labels.size() > limits.max_pairs) std::abort();
    if (a.fingerprint.empty() || !edgemon::valid_utf8(a.fingerprint)) std::abort();
    for (size_t i = 1; i < a.labels.size(); ++i) {
      if (!(a.labels[i - 1].first < a.labels[i].first)) std::abort();
    }
    for (const auto& [name, value] : a.labels) {
      if (!edgemon::valid_utf8(name) || !edgemon::valid_utf8(value)) std::abort();
    }
    // A time that parsed formats back to one that parses to the same ms.
    for (const auto& t : {a.starts_at_ms, a.ends_at_ms}) {
      if (!t) continue;
      int64_t again = 0;
      if (!edgemon::ingest::parse_rfc3339_ms(edgemon::ingest::format_rfc3339_ms(*t), &again) ||
          again != *t) {
        std::abort();
      }
    }
  }
  return 0;
}
