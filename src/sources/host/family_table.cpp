#include "sources/host/family_table.hpp"

#include <algorithm>

namespace edgemon::collect {

void FamilyTable::add(std::string_view family, std::string_view help, metrics::Type type,
                      LabelPairs labels, double value) {
  samples_.push_back(
      {std::string(family), std::string(help), type, std::move(labels), value, samples_.size()});
}

void FamilyTable::finish() {
  std::sort(samples_.begin(), samples_.end(), [](const Sample& a, const Sample& b) {
    if (a.family != b.family) return a.family < b.family;
    if (a.labels != b.labels) return a.labels < b.labels;
    return a.order < b.order;
  });
  // Keep the first of each duplicate series.
  auto same_series = [](const Sample& a, const Sample& b) {
    return a.family == b.family && a.labels == b.labels;
  };
  samples_.erase(std::unique(samples_.begin(), samples_.end(), same_series), samples_.end());
}

void FamilyTable::write(metrics::MetricSink& sink) const {
  std::vector<metrics::Label> labels;
  for (size_t i = 0; i < samples_.size(); ++i) {
    const Sample& s = samples_[i];
    if (i == 0 || samples_[i - 1].family != s.family) {
      // The help and type of the family's earliest-added sample.
      const Sample* first = &s;
      for (size_t k = i; k < samples_.size() && samples_[k].family == s.family; ++k)
        if (samples_[k].order < first->order) first = &samples_[k];
      sink.begin({s.family, first->help, first->type});
    }
    labels.clear();
    for (const auto& [name, value] : s.labels)
      labels.push_back({name, value});
    sink.sample(metrics::Labels(labels.data(), labels.size()), s.value);
  }
}

}  // namespace edgemon::collect
