#include "bus/latest_registry.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

namespace edgemon::bus {
namespace {

// Passes one source's samples on with its `source` label added, and the
// family header only for the first source of a family.
class SourceLabeller final : public metrics::MetricSink {
 public:
  SourceLabeller(metrics::MetricSink& to, std::string_view source) : to_(to), source_(source) {}
  void set_first(bool first) { first_ = first; }

  void begin(const metrics::FamilyDesc& family) override {
    if (first_) to_.begin(family);
  }
  void sample(metrics::Labels labels, double value) override {
    to_.sample(with_source(labels), value);
  }
  void histogram(metrics::Labels labels, std::span<const double> bounds,
                 std::span<const uint64_t> cumulative, double sum, uint64_t count) override {
    to_.histogram(with_source(labels), bounds, cumulative, sum, count);
  }
  using MetricSink::sample;

 private:
  metrics::Labels with_source(metrics::Labels labels) {
    if (source_.empty()) return labels;
    scratch_.assign(labels.begin(), labels.end());
    // A source that sets `source` itself keeps its own value.
    bool has = std::any_of(labels.begin(), labels.end(),
                           [](const metrics::Label& l) { return l.name == "source"; });
    if (!has) scratch_.push_back({"source", source_});
    return scratch_;
  }

  metrics::MetricSink& to_;
  std::string_view source_;
  bool first_ = true;
  std::vector<metrics::Label> scratch_;
};

}  // namespace

void LatestRegistry::on_publication(const Publication& publication) {
  auto key = std::make_pair(publication.kind, publication.source);
  auto it = latest_.find(key);
  if (it != latest_.end()) {
    if (it->second.families) bytes_ -= it->second.families->bytes();
    if (!publication.families) {
      latest_.erase(it);
      ++generation_;
      return;
    }
    it->second = {publication.families, publication.label_source};
  } else {
    if (!publication.families) return;
    latest_.emplace(std::move(key), Entry{publication.families, publication.label_source});
  }
  bytes_ += publication.families->bytes();
  ++generation_;
}

void LatestRegistry::write(metrics::MetricSink& sink) const {
  struct Ref {
    const std::string* name;
    const std::string* source;  // null: not labelled
    const metrics::Snapshot* snapshot;
    size_t family;
  };
  std::vector<Ref> refs;
  for (const auto& [key, entry] : latest_) {
    const std::string* source = entry.label_source ? &key.second : nullptr;
    for (size_t f = 0; f < entry.families->families(); ++f)
      refs.push_back({&entry.families->family_name(f), source, entry.families.get(), f});
  }
  // Stable: sources stay in name order within a family.
  std::stable_sort(refs.begin(), refs.end(),
                   [](const Ref& a, const Ref& b) { return *a.name < *b.name; });
  size_t head = 0;  // the first ref of the current family
  for (size_t i = 0; i < refs.size(); ++i) {
    bool first = i == 0 || *refs[i - 1].name != *refs[i].name;
    if (first) head = i;
    const Ref& r = refs[i];
    if (!first &&
        r.snapshot->family_type(r.family) != refs[head].snapshot->family_type(refs[head].family)) {
      ++type_conflicts_;
      continue;
    }
    SourceLabeller labeller(sink, r.source != nullptr ? *r.source : std::string_view());
    labeller.set_first(first);
    r.snapshot->replay_family(r.family, labeller);
  }
}

}  // namespace edgemon::bus
