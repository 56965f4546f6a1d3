#pragma once
// Which metric families are exposed: the `metrics:` switches of the
// configuration, the changes made through POST /metrics/enable, and the
// families sources produce that neither names ("discovered"). The bus asks
// it about every family it carries, so a disabled family reaches neither
// /metrics nor the outputs, and a family seen for the first time is
// recorded -- never exposed silently when new_metrics says disabled.
//
// A discovered family has no state of its own: it follows new_metrics as
// the configuration has it now (recorded so that it is listed).
//
// The rule between the file an operator edits and the API: an API setting
// remembers what the file said of that family when it was made; once the
// file says something else, the operator has edited it since, and the file
// wins (the API setting is dropped and the drop logged). Until then the API
// setting stands across reloads and restarts.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config_types.hpp"
#include "metrics/metric_sink.hpp"
#include "metrics/snapshot.hpp"

namespace edgemon::bus {

enum class Origin { kConfig, kApi, kDiscovered };

std::string_view origin_name(Origin origin);
bool parse_origin(std::string_view text, Origin* origin);

struct FamilyChoice {
  bool enabled = true;
  Origin origin = Origin::kDiscovered;
  // kApi only: the file's switch for the family when the API set it:
  // "true", "false", or "" when the file did not name it.
  std::string file_said;
};

using FamilyChoices = std::map<std::string, FamilyChoice, std::less<>>;

class FamilySelection {
 public:
  // Families recorded at most; one beyond follows new_metrics unrecorded,
  // counted, so a source that invents names cannot grow this without end.
  static constexpr size_t kMaxFamilies = 10000;

  // What was saved by an earlier run (metrics.json), before configure().
  void restore(FamilyChoices saved);

  // From the configuration, at start and on every reload. Returns the
  // families whose API setting an edit of the file overrode.
  std::vector<std::string> configure(const config::StringMap& switches,
                                     const std::vector<std::string>& enabled_list,
                                     std::string_view new_metrics);

  // Whether `family` is exposed. A family not seen before is recorded with
  // the new_metrics default.
  bool enabled(std::string_view family);
  // The same without recording: for a second look at a family the bus has
  // already carried.
  bool exposed(std::string_view family) const;

  // The snapshot without its disabled families, or null when it has none
  // (the common case costs no copy).
  std::shared_ptr<const metrics::Snapshot> filter(const metrics::Snapshot& snapshot);

  // POST /metrics/enable, all or nothing: the names that are not known
  // (neither seen nor configured) refuse the whole change.
  std::vector<std::string> unknown(const std::map<std::string, bool>& changes) const;
  // Applies a change unknown() accepted; returns how many families it set.
  size_t apply(const std::map<std::string, bool>& changes);

  const FamilyChoices& families() const { return families_; }
  bool new_enabled() const { return new_enabled_; }
  const std::string& new_metrics() const { return new_metrics_; }
  size_t disabled() const { return disabled_; }
  uint64_t unrecorded() const { return unrecorded_; }
  // edgemon_metric_families{state} and the families left unrecorded.
  void write_metrics(metrics::MetricSink& sink) const;
  // Changes whenever families() does: what the saver watches.
  uint64_t version() const { return version_; }

 private:
  void recount();

  FamilyChoices families_;
  config::StringMap file_switches_;  // enabled_metrics merged under metrics
  std::string new_metrics_ = "auto";
  bool new_enabled_ = true;
  size_t disabled_ = 0;
  uint64_t unrecorded_ = 0;
  uint64_t version_ = 0;
};

}  // namespace edgemon::bus
