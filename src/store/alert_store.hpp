#pragma once
// Alerts received from Alertmanager, one row per alert (fingerprint), in a
// SQLite file of their own (alerts.db in the state directory): the spool's
// file stays a queue, and either file can be deleted without touching the
// other.
//
// Synchronous and not thread-safe: the daemon uses it from its own worker
// thread (api/alert_endpoints.cpp), never from the loop.
// Schema (documented in the README; operators read it with sqlite3):
//   alerts(fingerprint PRIMARY KEY, alertname, status, labels JSON,
//          annotations JSON, starts_at_ms, ends_at_ms, first_received_ms,
//          last_received_ms, notifications, receiver, generator_url)
//   meta(key, value)            -- schema_version
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace edgemon::store {

// One alert of a notification, as it is written.
struct AlertRecord {
  std::string fingerprint;
  std::string alertname;
  std::string status;  // "firing" or "resolved"
  std::string labels_json;
  std::string annotations_json;
  std::optional<int64_t> starts_at_ms;
  std::optional<int64_t> ends_at_ms;  // a resolved alert without one gets the receive time
  std::string receiver;
  std::string generator_url;
};

struct StoredAlert : AlertRecord {
  int64_t first_received_ms = 0;
  int64_t last_received_ms = 0;
  int64_t notifications = 0;  // notifications that carried this alert
};

// What a notification did to the row of one alert.
enum class AlertChange {
  kNew,       // first seen
  kUpdated,   // same status as stored (a repeat, new annotations...)
  kResolved,  // a firing alert closed
  kReopened,  // a resolved alert firing again
  kStale,     // older than what is stored (a late retry): ignored
};
const char* change_name(AlertChange change);

struct AlertCounts {
  int64_t stored = 0;
  int64_t firing = 0;
};

// What keeps the file bounded on a 1 GiB board.
struct AlertLimits {
  int64_t max_alerts = 10000;
  // Bytes of live data (pages in use); a count alone would not bound rows
  // that carry 64 KiB annotations.
  int64_t max_bytes = 64 * 1024 * 1024;
  int64_t resolved_retention_ms = 7LL * 24 * 3600 * 1000;
};

// Rows deleted to stay within AlertLimits. The oldest resolved alerts go
// first; firing ones only when they alone exceed a limit (Alertmanager
// re-sends an alert that is still firing every repeat_interval).
struct AlertsDeleted {
  int64_t retention = 0;  // resolved longer ago than resolved_retention_ms
  int64_t resolved = 0;   // oldest resolved, beyond max_alerts or max_bytes
  int64_t firing = 0;     // least recently notified firing, beyond a limit
};

struct AlertStoreOpenReport {
  bool created = false;
  // The file was not a usable alert store: renamed to moved_to, a new one
  // started in its place.
  std::string corrupt_reason;
  std::string moved_to;
};

class AlertStore {
 public:
  // Opens or creates the file. A file that is not an alert store or fails
  // `PRAGMA quick_check` is moved aside and a fresh one created; one written
  // by a newer edgemon (higher schema_version) is left alone and refused.
  // Returns null with *error set when no store can be had.
  static std::unique_ptr<AlertStore> open(const std::string& path, AlertStoreOpenReport* report,
                                          std::string* error);
  ~AlertStore();
  AlertStore(const AlertStore&) = delete;
  AlertStore& operator=(const AlertStore&) = delete;

  // Applies one notification's alerts in one transaction (durable when it
  // returns ""), then deletes beyond max_alerts. `changes` gets one entry
  // per record. Returns "" or the error (then nothing was written).
  [[nodiscard]] std::string upsert(std::span<const AlertRecord> records, int64_t now_ms,
                                   const AlertLimits& limits, std::vector<AlertChange>* changes,
                                   AlertsDeleted* deleted);

  // Deletes resolved alerts last notified before now_ms -
  // resolved_retention_ms, then the excess beyond the limits.
  std::string enforce(const AlertLimits& limits, int64_t now_ms, AlertsDeleted* deleted);

  // Alerts with `status` ("" = all), most recently notified first, at most
  // `limit`; *more is set when further ones exist.
  std::string list(std::string_view status, int64_t limit, std::vector<StoredAlert>* out,
                   bool* more);

  AlertCounts counts() const { return counts_; }
  // The last error was SQLite reporting a damaged file: reopening moves it
  // aside.
  bool corrupt() const { return corrupt_; }
  const std::string& path() const { return path_; }
  // Size of the database file plus its WAL.
  int64_t file_bytes() const;

  // The prepared statements; defined in the .cpp (named here so that its
  // helpers can take them).
  struct Statements;

 private:
  AlertStore() = default;
  std::string recount();
  std::string apply(const AlertRecord& record, int64_t now_ms, AlertChange* change);
  std::string trim(const AlertLimits& limits, AlertsDeleted* deleted);
  std::string delete_oldest(std::string_view status, int64_t count, int64_t* deleted);
  std::string used_bytes(int64_t* bytes);
  std::string commit_or_rollback(std::string error);
  std::string failed(std::string_view what);

  sqlite3* db_ = nullptr;
  std::string path_;
  std::unique_ptr<Statements> statements_;
  AlertCounts counts_;
  bool corrupt_ = false;
};

}  // namespace edgemon::store
