#include "bus/family_selection.hpp"

#include <algorithm>

namespace edgemon::bus {

std::string_view origin_name(Origin origin) {
  switch (origin) {
    case Origin::kConfig:
      return "config";
    case Origin::kApi:
      return "api";
    case Origin::kDiscovered:
      return "discovered";
  }
  return "discovered";
}

bool parse_origin(std::string_view text, Origin* origin) {
  for (Origin o : {Origin::kConfig, Origin::kApi, Origin::kDiscovered}) {
    if (text == origin_name(o)) {
      *origin = o;
      return true;
    }
  }
  return false;
}

void FamilySelection::restore(FamilyChoices saved) {
  families_ = std::move(saved);
  while (families_.size() > kMaxFamilies)
    families_.erase(std::prev(families_.end()));
  recount();
  ++version_;
}

std::vector<std::string> FamilySelection::configure(const config::StringMap& switches,
                                                    const std::vector<std::string>& enabled_list,
                                                    std::string_view new_metrics) {
  config::StringMap merged;
  for (const auto& name : enabled_list)
    merged[name] = "true";
  for (const auto& [name, value] : switches)
    merged[name] = value;

  new_metrics_ = std::string(new_metrics);
  // auto: a list that switches something on is an allow-list (the
  // exporter's form: what it does not name stays off); one that only
  // switches things off is a deny-list.
  bool allow_list = std::any_of(merged.begin(), merged.end(),
                                [](const auto& entry) { return entry.second == "true"; });
  new_enabled_ = new_metrics == "enabled" || (new_metrics == "auto" && !allow_list);

  std::vector<std::string> overridden;
  for (auto& [name, choice] : families_) {
    auto in_file = merged.find(name);
    std::string said = in_file == merged.end() ? "" : in_file->second;
    if (choice.origin == Origin::kApi) {
      // The file still says what it said when the API spoke: the API stands.
      if (said == choice.file_said) continue;
      if (said.empty()) {
        // The entry was taken out of the file: nothing there to win.
        choice.file_said.clear();
        continue;
      }
      overridden.push_back(name);
    }
    if (!said.empty()) {
      choice = {said == "true", Origin::kConfig, ""};
    } else if (choice.origin != Origin::kApi) {
      // Named neither in the file nor through the API: new_metrics as it
      // is now decides (a family taken out of the file included).
      choice = {new_enabled_, Origin::kDiscovered, ""};
    }
  }
  for (const auto& [name, value] : merged) {
    if (families_.count(name) == 0 && families_.size() < kMaxFamilies) {
      families_.emplace(name, FamilyChoice{value == "true", Origin::kConfig, ""});
    }
  }
  file_switches_ = std::move(merged);
  recount();
  ++version_;
  return overridden;
}

bool FamilySelection::enabled(std::string_view family) {
  auto found = families_.find(family);
  if (found != families_.end()) return found->second.enabled;
  if (families_.size() >= kMaxFamilies) {
    ++unrecorded_;
    return new_enabled_;
  }
  families_.emplace(std::string(family), FamilyChoice{new_enabled_, Origin::kDiscovered, ""});
  if (!new_enabled_) ++disabled_;
  ++version_;
  return new_enabled_;
}

bool FamilySelection::exposed(std::string_view family) const {
  auto found = families_.find(family);
  return found != families_.end() ? found->second.enabled : new_enabled_;
}

std::shared_ptr<const metrics::Snapshot> FamilySelection::filter(
    const metrics::Snapshot& snapshot) {
  std::vector<bool> keep(snapshot.families());
  bool all = true;
  for (size_t i = 0; i < snapshot.families(); ++i) {
    keep[i] = enabled(snapshot.family_name(i));
    all = all && keep[i];
  }
  if (all) return nullptr;
  metrics::SnapshotRecorder recorder;
  for (size_t i = 0; i < snapshot.families(); ++i) {
    if (keep[i]) snapshot.replay_family(i, recorder);
  }
  return recorder.take();
}

std::vector<std::string> FamilySelection::unknown(
    const std::map<std::string, bool>& changes) const {
  std::vector<std::string> names;
  for (const auto& [name, on] : changes) {
    if (families_.find(name) == families_.end()) names.push_back(name);
  }
  return names;
}

size_t FamilySelection::apply(const std::map<std::string, bool>& changes) {
  size_t updated = 0;
  for (const auto& [name, on] : changes) {
    auto found = families_.find(name);
    if (found == families_.end()) continue;
    FamilyChoice& choice = found->second;
    auto in_file = file_switches_.find(name);
    std::string said = in_file == file_switches_.end() ? "" : in_file->second;
    ++updated;
    choice = {on, Origin::kApi, said};
  }
  recount();
  ++version_;
  return updated;
}

void FamilySelection::write_metrics(metrics::MetricSink& sink) const {
  sink.begin({"edgemon_metric_families",
              "Metric families known to the selection (metrics:, POST /metrics/enable, "
              "discovered), by whether they are exposed.",
              metrics::Type::kGauge});
  sink.sample({{"state", "enabled"}}, static_cast<double>(families_.size() - disabled_));
  sink.sample({{"state", "disabled"}}, static_cast<double>(disabled_));
  sink.begin({"edgemon_metric_families_unrecorded_total",
              "Sightings of families beyond the record's limit of 10000, which follow "
              "new_metrics without being recorded.",
              metrics::Type::kCounter});
  sink.sample({}, static_cast<double>(unrecorded_));
}

void FamilySelection::recount() {
  disabled_ = static_cast<size_t>(std::count_if(families_.begin(), families_.end(),
                                                [](const auto& f) { return !f.second.enabled; }));
}

}  // namespace edgemon::bus
