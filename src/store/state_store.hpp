#pragma once
// What sources must remember across a restart (a log tail's offset,
// discovered metrics, last-seen times), in a small SQLite file of its own.
//
// Everything lives in memory, read and changed on the loop thread without
// waiting; changes are written off the loop, on a thread of the store's own,
// in one transaction at most every flush_interval. A crash or power cut
// loses at most that interval of changes, never the file.
//
// Schema (operators read it with sqlite3):
//   state(scope TEXT, key TEXT, value BLOB, updated_ms INTEGER,
//         PRIMARY KEY (scope, key))
//   meta(key, value)            -- schema_version
#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "core/timer.hpp"
#include "core/worker_thread.hpp"

struct sqlite3;

namespace edgemon::store {

// State is meant to be small; these keep a misbehaving source from making it
// otherwise. Bytes count scope, key and value.
struct StateLimits {
  size_t max_total_bytes = 1024 * 1024;
  size_t max_value_bytes = 64 * 1024;
};

struct StateStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t writes = 0;  // transactions committed
  uint64_t write_failures = 0;
  uint64_t refused = 0;    // puts (and stored rows at open) beyond the limits
  std::string last_error;  // of the last failed write
};

struct StateOpenReport {
  bool created = false;
  // The file was not a usable state store: renamed to moved_to, a new one
  // started in its place.
  std::string corrupt_reason;
  std::string moved_to;
};

class ScopedState;

class StateStore {
 public:
  explicit StateStore(uv_loop_t* loop, StateLimits limits = {},
                      std::chrono::milliseconds flush_interval = std::chrono::seconds(1));
  // Writes what is still unwritten, waiting for it: state is small, and a
  // restart should not lose the last second of it.
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Opens or creates the file and loads it, synchronously: call it once at
  // start, before the sources. A damaged or foreign file is moved aside and
  // the store starts empty; one of a newer edgemon is refused. Returns "" or
  // the error; then the store keeps state in memory only.
  [[nodiscard]] std::string open(const std::string& path, StateOpenReport* report = nullptr);

  std::optional<std::string> get(std::string_view scope, std::string_view key) const;
  // Returns "" or why the value was refused (beyond a limit; counted). An
  // unchanged value writes nothing.
  [[nodiscard]] std::string put(std::string_view scope, std::string_view key,
                                std::string_view value);
  void erase(std::string_view scope, std::string_view key);
  void erase_scope(std::string_view scope);

  // Writes every change made so far; `done` runs on the loop thread once it
  // is in the file (or failed, counted in stats).
  void flush(std::function<void()> done = nullptr);

  // The view of one scope a source is handed, e.g. "tegrastats/board".
  ScopedState scoped(std::string scope);

  const StateStats& stats() const { return stats_; }
  const StateLimits& limits() const { return limits_; }

  struct Entry {
    std::string value;
    int64_t updated_ms = 0;
  };
  using Keys = std::map<std::string, Entry, std::less<>>;

 private:
  void mark_dirty(std::string_view scope, std::string_view key);
  void schedule_flush();
  void post_write(std::function<void()> done);

  StateLimits limits_;
  std::chrono::milliseconds flush_interval_;
  std::map<std::string, Keys, std::less<>> scopes_;
  // Changed since the last write: keys whose memory state is to be written,
  // scopes to be deleted first.
  std::set<std::pair<std::string, std::string>> dirty_keys_;
  std::set<std::string> dirty_scopes_;
  StateStats stats_;
  std::shared_ptr<sqlite3> db_;  // used by worker_ only once open
  Timer flush_timer_;
  // Last, so that it is destroyed (and its queued writes run) first.
  WorkerThread worker_;
};

// One scope of a StateStore; does not own it, and must not outlive it.
class ScopedState {
 public:
  ScopedState(StateStore* store, std::string scope) : store_(store), scope_(std::move(scope)) {}

  std::optional<std::string> get(std::string_view key) const { return store_->get(scope_, key); }
  [[nodiscard]] std::string put(std::string_view key, std::string_view value) {
    return store_->put(scope_, key, value);
  }
  void erase(std::string_view key) { store_->erase(scope_, key); }
  // Forgets every key of the scope.
  void clear() { store_->erase_scope(scope_); }
  const std::string& scope() const { return scope_; }

 private:
  StateStore* store_;
  std::string scope_;
};

}  // namespace edgemon::store
