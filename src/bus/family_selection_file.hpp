#pragma once
// The JSON of the metric selection: the POST /metrics/enable body, and
// metrics.json in the state directory: what FamilySelection knows, kept
// across restarts and readable by an operator (`jq . metrics.json`). It is
// edgemon's record, not a configuration file: the operator's switches live
// in edgemon.yaml's `metrics:` map, which wins when edited (see
// family_selection.hpp).
//
// Writes happen on a worker thread (a fsync on an SD card can take tens of
// milliseconds), as a temporary file renamed over the old one, so a crash
// leaves the old record or the new one, never half of either.
#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bus/family_selection.hpp"
#include "core/timer.hpp"
#include "core/worker_thread.hpp"

namespace edgemon::bus {

// The record as JSON text: {"families": {name: {"enabled", "origin", "file_said"}}}.
std::string family_choices_json(const FamilyChoices& families);
// Parses what family_choices_json wrote. Returns "" or why the text is not a record.
[[nodiscard]] std::string parse_family_choices(std::string_view text, FamilyChoices* out);

// A POST /metrics/enable body, {name: true|false, ...}. Returns "" or why
// the body is not that (naming the first values that are not booleans).
[[nodiscard]] std::string parse_family_changes(std::string_view text,
                                               std::map<std::string, bool>* out);

// Reads `path`: a missing file is an empty record. An unreadable or broken
// one is renamed to PATH.bad (kept for the operator, never overwritten
// silently) and reported.
[[nodiscard]] std::string load_family_choices(const std::string& path, FamilyChoices* out);

class FamilySelectionSaver {
 public:
  FamilySelectionSaver(uv_loop_t* loop, const FamilySelection& selection);
  ~FamilySelectionSaver();

  // Where to write ("" stops writing).
  void set_path(std::string path) { path_ = std::move(path); }
  // Writes soon when the selection changed since the last write: discovery
  // happens in bursts at start, which one write covers.
  void changed();
  // Writes now; `done` gets "" once the record is durable, or the error.
  void save(std::function<void(std::string)> done);
  uint64_t write_errors() const { return write_errors_; }

 private:
  void write(std::vector<std::function<void(std::string)>> waiting);

  const FamilySelection& selection_;
  std::string path_;
  std::unique_ptr<WorkerThread> worker_;
  uv_loop_t* loop_;
  Timer soon_;
  bool armed_ = false;
  bool writing_ = false;
  bool again_ = false;
  uint64_t written_version_ = 0;
  uint64_t write_errors_ = 0;
  std::vector<std::function<void(std::string)>> waiting_;
};

}  // namespace edgemon::bus
