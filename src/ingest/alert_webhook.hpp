#pragma once
// Alertmanager's webhook notification (webhook_config, payload version "4"):
// the alerts of one aggregation group, as Alertmanager POSTs them to /alert.
//
//   {"version": "4", "receiver": "hook", "status": "firing", "groupKey": "{}:{...}",
//    "truncatedAlerts": 0, "alerts": [{"status": "firing", "labels": {...},
//    "annotations": {...}, "startsAt": "2026-11-22T06:54:11.243Z",
//    "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "...", "fingerprint": "de47..."}],
//    "groupLabels": {...}, "commonLabels": {...}, "commonAnnotations": {...},
//    "externalURL": "..."}
//
// Parsing is strict (a sender that breaks the format is told where), and
// bounded so that one notification cannot make the store grow without limit.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/rfc3339.hpp"

namespace edgemon::ingest {

// Label or annotation pairs, sorted by name, names unique.
using LabelPairs = std::vector<std::pair<std::string, std::string>>;

struct WebhookAlert {
  std::string status;  // "firing" or "resolved"
  LabelPairs labels;   // at least one
  LabelPairs annotations;
  // Unix ms (finer digits truncated). None: absent or Go's zero time
  // 0001-01-01T00:00:00Z, which Alertmanager sends as the endsAt of every
  // firing alert.
  std::optional<int64_t> starts_at_ms;
  std::optional<int64_t> ends_at_ms;
  std::string generator_url;
  std::string fingerprint;
  // The sender gave no fingerprint: computed with alert_fingerprint().
  bool fingerprint_computed = false;

  // The value of a label or annotation, "" when absent.
  std::string_view label(std::string_view name) const;
  std::string_view annotation(std::string_view name) const;
};

struct WebhookMessage {
  std::string receiver;
  std::string status;  // "firing" or "resolved"
  std::string group_key;
  int64_t truncated_alerts = 0;  // dropped by the receiver's max_alerts
  std::vector<WebhookAlert> alerts;
};

struct WebhookLimits {
  size_t max_alerts = 1000;         // per notification
  size_t max_pairs = 128;           // labels, and annotations, of one alert
  size_t max_name_bytes = 1024;     // a label or annotation name
  size_t max_value_bytes = 65536;   // a label or annotation value
  size_t max_string_bytes = 65536;  // receiver, groupKey, generatorURL
  size_t max_fingerprint_bytes = 128;
};

// Fills *out from the body. Returns "" or the first problem as
// "<JSON path>: <why>", e.g. "alerts[2].startsAt: expected an RFC 3339 time,
// got \"yesterday\"". Unknown members are ignored; groupLabels, commonLabels,
// commonAnnotations and externalURL are derived data and not kept.
std::string parse_alert_webhook(std::string_view body, WebhookMessage* out,
                                const WebhookLimits& limits = {});

// The fingerprint Alertmanager gives a label set: FNV-1a 64 over each name
// and value in name order, each followed by a 0xff byte, as 16 hex digits.
// Computing the same one means an alert keeps its identity whether or not
// the sender included it.
std::string alert_fingerprint(const LabelPairs& sorted_labels);

// RFC 3339 ("2026-11-22T06:54:11.243314465Z", "...+02:00") to Unix ms,
// digits below the millisecond truncated. False if the text is not one in
// the strict form (no space for the T, no second 60) or falls outside
// 0000-9999 in UTC, which format_rfc3339_ms could not write back.
bool parse_rfc3339_ms(std::string_view text, int64_t* unix_ms);
// The alert endpoints answer with the times in this form.
using edgemon::format_rfc3339_ms;

}  // namespace edgemon::ingest
