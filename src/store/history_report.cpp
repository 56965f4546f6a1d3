// The history and the device registry as an operator sees them: /metrics
// and the "history" part of /status.
#include <array>

#include "core/clock.hpp"
#include "store/history.hpp"

namespace edgemon::store {
namespace {

using metrics::FamilyDesc;
using metrics::Type;

constexpr FamilyDesc kWritten{"edgemon_history_written_points_total",
                              "Values (one numeric field of one point) stored in the history file.",
                              Type::kCounter};
constexpr FamilyDesc kDropped{
    "edgemon_history_dropped_points_total",
    "Values not stored in the history, by reason: queue_full (history.max_queue_bytes), "
    "max_series (history.max_series), max_bytes (a new series while the file is at "
    "history.max_bytes), duplicate (same series and time already stored), "
    "too_old (older than aggregate_retention), non_finite (NaN or infinite), write_error.",
    Type::kCounter};
constexpr FamilyDesc kDeleted{"edgemon_history_deleted_rows_total",
                              "Rows deleted from the history file, by table (raw, minute, "
                              "five_minute, hour; devices: devices not seen within "
                              "aggregate_retention, forgotten) and reason (retention, "
                              "max_bytes).",
                              Type::kCounter};
constexpr FamilyDesc kSeries{"edgemon_history_series", "Series in the history file.", Type::kGauge};
constexpr FamilyDesc kFileBytes{"edgemon_history_file_bytes",
                                "Size of the history file plus its write-ahead log.", Type::kGauge};
constexpr FamilyDesc kCacheBytes{
    "edgemon_history_cache_bytes",
    "Memory held by the history's SQLite page caches, by connection (write: up to 8 MiB, "
    "read: up to 1 MiB); each fills as pages are used.",
    Type::kGauge};
constexpr FamilyDesc kQueueBytes{"edgemon_history_queue_bytes",
                                 "Points waiting in memory to be written to the history file.",
                                 Type::kGauge};
constexpr FamilyDesc kOpen{"edgemon_history_open",
                           "Whether the history file is open (1) or not (0).", Type::kGauge};
constexpr FamilyDesc kCorrupt{"edgemon_history_corrupt_files_total",
                              "History files found corrupt and moved aside since start.",
                              Type::kCounter};
constexpr FamilyDesc kDevices{"edgemon_devices",
                              "Devices whose points this edgemon received (its own included).",
                              Type::kGauge};
constexpr FamilyDesc kDevicesActive{
    "edgemon_devices_active", "Devices seen within ingest.device_active_window.", Type::kGauge};

// The same reasons, in the same order, in /metrics and /status.
std::array<std::pair<const char*, uint64_t>, 7> reasons_of(const HistoryDropped& d) {
  return {{{"queue_full", d.queue_full},
           {"max_series", d.max_series},
           {"max_bytes", d.max_bytes},
           {"duplicate", d.duplicate},
           {"too_old", d.too_old},
           {"non_finite", d.non_finite},
           {"write_error", d.write_error}}};
}

void add_dropped(cJSON* object, const HistoryDropped& d) {
  for (const auto& [reason, n] : reasons_of(d))
    cJSON_AddNumberToObject(object, reason, static_cast<double>(n));
}

}  // namespace

void History::write_metrics(metrics::MetricSink& sink) const {
  int64_t now = unix_now_ms();
  sink.begin(kDevices);
  sink.sample(static_cast<double>(devices_.size()));
  sink.begin(kDevicesActive);
  sink.sample(static_cast<double>(devices_.active(now, active_window_ms_)));
  if (!config_.enabled) return;
  sink.begin(kOpen);
  sink.sample(report_.open ? 1.0 : 0.0);
  sink.begin(kWritten);
  sink.sample(static_cast<double>(report_.written));
  sink.begin(kDropped);
  for (const auto& [reason, n] : reasons_of(report_.dropped))
    sink.sample({{"reason", reason}}, static_cast<double>(n));
  const HistoryDeleted& x = report_.deleted;
  struct Row {
    const char* table;
    const char* reason;
    uint64_t rows;
  };
  Row deleted[] = {{"raw", "retention", x.raw_retention},
                   {"minute", "retention", x.minute_retention},
                   {"five_minute", "retention", x.five_minute_retention},
                   {"hour", "retention", x.hour_retention},
                   {"raw", "max_bytes", x.raw_max_bytes},
                   {"minute", "max_bytes", x.minute_max_bytes},
                   {"five_minute", "max_bytes", x.five_minute_max_bytes},
                   {"hour", "max_bytes", x.hour_max_bytes},
                   {"devices", "retention", x.devices_retention}};
  sink.begin(kDeleted);
  for (const Row& r : deleted)
    sink.sample({{"table", r.table}, {"reason", r.reason}}, static_cast<double>(r.rows));
  sink.begin(kSeries);
  sink.sample(static_cast<double>(report_.series));
  sink.begin(kFileBytes);
  sink.sample(static_cast<double>(report_.file_bytes));
  sink.begin(kCacheBytes);
  sink.sample({{"connection", "write"}}, static_cast<double>(report_.writer_cache_bytes));
  sink.sample({{"connection", "read"}}, static_cast<double>(report_.reader_cache_bytes));
  sink.begin(kQueueBytes);
  sink.sample(static_cast<double>(queue_bytes()));
  sink.begin(kCorrupt);
  sink.sample(static_cast<double>(report_.corrupt_files));
}

void History::write_status(cJSON* root) const {
  cJSON* h = cJSON_AddObjectToObject(root, "history");
  cJSON_AddBoolToObject(h, "enabled", config_.enabled);
  cJSON_AddNumberToObject(h, "devices", static_cast<double>(devices_.size()));
  cJSON_AddNumberToObject(h, "devices_active",
                          static_cast<double>(devices_.active(unix_now_ms(), active_window_ms_)));
  if (!config_.enabled) return;
  cJSON_AddStringToObject(h, "path", report_.path.c_str());
  cJSON_AddBoolToObject(h, "open", report_.open);
  if (report_.error.empty()) {
    cJSON_AddNullToObject(h, "error");
  } else {
    cJSON_AddStringToObject(h, "error", report_.error.c_str());
  }
  cJSON_AddNumberToObject(h, "file_bytes", static_cast<double>(report_.file_bytes));
  cJSON_AddNumberToObject(h, "max_bytes", static_cast<double>(config_.max_bytes.bytes));
  cJSON_AddBoolToObject(h, "over_max_bytes", report_.over_size);
  cJSON_AddBoolToObject(h, "refusing_new_series", report_.refusing_new_series);
  cJSON_AddNumberToObject(h, "series", static_cast<double>(report_.series));
  cJSON_AddNumberToObject(h, "queue_bytes", static_cast<double>(queue_bytes()));
  cJSON_AddNumberToObject(h, "written_points", static_cast<double>(report_.written));
  add_dropped(cJSON_AddObjectToObject(h, "dropped_points"), report_.dropped);
  if (!report_.moved_to.empty()) {
    cJSON_AddStringToObject(h, "corrupt_moved_to", report_.moved_to.c_str());
  }
}

}  // namespace edgemon::store
