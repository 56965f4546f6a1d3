#pragma once
// The spool: every batch bound for an output, durable in one SQLite file (WAL)
// from before its first send until the output answered 2xx or a documented
// limit dropped it. One FIFO queue per output, ordered by batch id.
//
// This class is synchronous and not thread-safe: the daemon uses it from its
// one spool thread (see core/worker_thread.hpp), `edgemon spool` from main.
// Schema (documented in the README; operators read it with sqlite3):
//   batches(id, output, created_ms, points, bytes, precision, attempts, crc, body)
//   dead_letters(id, batch_id, output, created_ms, dead_ms, points, bytes,
//                precision, status, error, body)
//   meta(key, value)
#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace edgemon::store {

struct SpoolOptions {
  std::string path;
  // true: synchronous=FULL (a commit survives power loss); false: NORMAL
  // (survives a crash of the daemon; the last commits may be lost on power
  // loss, the file stays consistent).
  bool sync_full = false;
  bool read_only = false;  // `edgemon spool` readers; never creates or repairs
  // false: a corrupt file is an error, not moved aside, and open skips the
  // integrity check (`edgemon spool` must not rename a file under a running
  // daemon).
  bool repair = true;
  // How long a statement waits for another connection's write lock.
  int busy_timeout_ms = 1000;
};

// What open() had to do to give a usable spool.
struct OpenReport {
  bool created = false;
  // The file was unreadable or failed the integrity check: it was renamed to
  // `moved_to` and an empty spool started in its place.
  std::string corrupt_reason;
  std::string moved_to;
};

// A batch to add: line protocol, '\n'-terminated lines, one precision.
struct NewBatch {
  std::string output;
  int64_t created_ms = 0;  // Unix ms when it was produced
  int64_t points = 0;
  std::string precision;  // "ns", "us", "ms" or "s"
  std::string body;
};

struct Batch {
  int64_t id = 0;
  std::string output;
  int64_t created_ms = 0;
  int64_t points = 0;
  int64_t bytes = 0;
  std::string precision;
  int64_t attempts = 0;
  std::string body;
};

struct DeadLetter {
  int64_t id = 0;
  int64_t batch_id = 0;
  std::string output;
  int64_t created_ms = 0;
  int64_t dead_ms = 0;
  int64_t points = 0;
  int64_t bytes = 0;
  std::string precision;
  int status = 0;  // HTTP status that condemned it; 0 = corrupt row
  std::string error;
  std::string body;
};

struct QueueStats {
  std::string output;
  int64_t batches = 0;
  int64_t points = 0;
  int64_t bytes = 0;
  int64_t oldest_created_ms = 0;  // 0 when empty
  int64_t dead_letters = 0;
  int64_t dead_points = 0;
};

// What a cap or a purge removed.
struct Removed {
  int64_t batches = 0;
  int64_t points = 0;
  int64_t bytes = 0;
  // The batches removed, with their points; filled by enforce_caps (an
  // output must know whether the request it has in flight was among them).
  std::vector<std::pair<int64_t, int64_t>> ids;
};

class Spool {
 public:
  // Opens or creates the file (and its directory's WAL files). A file that is
  // not a database, or fails `PRAGMA quick_check`, is moved aside and a fresh
  // one created (never when read_only). Returns null with *error set only when
  // no spool can be had at all (directory not writable...).
  static std::unique_ptr<Spool> open(const SpoolOptions& options, OpenReport* report,
                                     std::string* error);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Adds batches in one transaction; on success `ids` (if given) gets their
  // ids in order. Returns "" or the error (then nothing was added).
  [[nodiscard]] std::string append(std::span<const NewBatch> batches,
                                   std::vector<int64_t>* ids = nullptr);

  // The oldest batches of `output`, in id order, all with the precision of the
  // first one, until adding one more would pass max_points or max_bytes (the
  // first is always returned however large). Increments their `attempts`.
  // Rows whose body fails its checksum or cannot be read are moved to
  // dead_letters (status 0) and counted in *corrupt instead of returned.
  // `after_id` skips the batches up to it (those of a request still in
  // flight, so that the next request can be read meanwhile).
  std::string fetch(std::string_view output, int64_t max_points, int64_t max_bytes,
                    std::vector<Batch>* out, Removed* corrupt, int64_t after_id = 0);

  // Delivered: deletes the batches.
  std::string remove(std::span<const int64_t> ids);
  // A prefix of a batch was delivered (a split after 413): the batch keeps
  // its id and place in the queue with what is left. Like remove() and
  // dead_letter(), a batch already gone (dropped by a cap) is no error.
  std::string replace_body(int64_t id, std::string_view body, int64_t points);
  // Moves batches to dead_letters with the status and error that condemned them.
  std::string dead_letter(std::span<const int64_t> ids, int status, std::string_view error);

  // Drops the oldest batches of `output` until its bytes are <= max_bytes and
  // none is older than now_ms - max_age_ms (0 disables either cap).
  std::string enforce_caps(std::string_view output, int64_t max_bytes, int64_t max_age_ms,
                           int64_t now_ms, Removed* removed);

  // Per output with anything queued or dead-lettered, sorted by output name.
  std::string stats(std::vector<QueueStats>* out);

  // Returns free pages to the file system a bounded number at a time
  // (auto_vacuum=INCREMENTAL) once enough are free; cheap when nothing is.
  std::string reclaim_space();

  // Operator commands (`edgemon spool ...`).
  // Batches without bodies, id > after_id, at most `limit`; output "" = all.
  std::string list(std::string_view output, int64_t after_id, int64_t limit,
                   std::vector<Batch>* out);
  std::string get(int64_t id, Batch* out, bool* found);
  // Deletes batches of `output` ("" = all) created before before_ms (0 = all).
  std::string purge(std::string_view output, int64_t before_ms, Removed* removed);
  std::string list_dead_letters(std::string_view output, int64_t after_id, int64_t limit,
                                bool with_bodies, std::vector<DeadLetter>* out);
  // Puts dead letters back at the end of their output's queue (ids empty: all
  // of `output`, "" = every output).
  std::string retry_dead_letters(std::string_view output, std::span<const int64_t> ids,
                                 Removed* moved);
  std::string purge_dead_letters(std::string_view output, std::span<const int64_t> ids,
                                 Removed* removed);

  const std::string& path() const { return path_; }
  // Size of the database file plus its WAL.
  int64_t file_bytes() const;

 private:
  Spool() = default;
  sqlite3* db_ = nullptr;
  std::string path_;
  struct Statements;
  std::unique_ptr<Statements> statements_;
  // Rows that could be neither read nor deleted (a damaged page): skipped by
  // fetch until the next open, whose integrity check moves the file aside.
  std::set<int64_t> unreadable_;
};

}  // namespace edgemon::store
