#include "metrics/snapshot.hpp"

namespace edgemon::metrics {

void Snapshot::replay(MetricSink& sink) const {
  std::vector<Label> scratch;
  for (const Family& f : families_)
    write_samples(f, sink, scratch);
}

void Snapshot::replay_family(size_t index, MetricSink& sink) const {
  std::vector<Label> scratch;
  write_samples(families_[index], sink, scratch);
}

void Snapshot::write_samples(const Family& family, MetricSink& sink,
                             std::vector<Label>& scratch) const {
  sink.begin({family.name, family.help, family.type});
  for (size_t i = family.first_sample; i < family.first_sample + family.sample_count; ++i) {
    const Sample& s = samples_[i];
    scratch.clear();
    for (size_t l = 0; l + 1 < s.labels.size(); l += 2)
      scratch.push_back({s.labels[l], s.labels[l + 1]});
    if (family.type == Type::kHistogram) {
      sink.histogram(scratch, s.bounds, s.cumulative, s.value, s.count);
    } else {
      sink.sample(Labels(scratch), s.value);
    }
  }
}

SnapshotRecorder::SnapshotRecorder() : building_(std::make_shared<Snapshot>()) {}

void SnapshotRecorder::begin(const FamilyDesc& family) {
  building_->families_.push_back({std::string(family.name), std::string(family.help), family.type,
                                  building_->samples_.size(), 0});
  building_->bytes_ += sizeof(Snapshot::Family) + family.name.size() + family.help.size();
}

Snapshot::Sample& SnapshotRecorder::add_sample(Labels labels) {
  Snapshot::Sample& s = building_->samples_.emplace_back();
  s.labels.reserve(labels.size() * 2);
  size_t bytes = sizeof(Snapshot::Sample);
  for (const Label& l : labels) {
    s.labels.emplace_back(l.name);
    s.labels.emplace_back(l.value);
    bytes += l.name.size() + l.value.size() + 2 * sizeof(std::string);
  }
  building_->bytes_ += bytes;
  // A sample before any begin() would belong to no family: give it one
  // rather than lose it silently (a source's bug shows up in /metrics).
  if (building_->families_.empty()) {
    building_->families_.push_back({"untitled", "", Type::kUntyped, 0, 0});
  }
  ++building_->families_.back().sample_count;
  return s;
}

void SnapshotRecorder::sample(Labels labels, double value) {
  add_sample(labels).value = value;
}

void SnapshotRecorder::histogram(Labels labels, std::span<const double> bounds,
                                 std::span<const uint64_t> cumulative, double sum, uint64_t count) {
  Snapshot::Sample& s = add_sample(labels);
  s.value = sum;
  s.bounds.assign(bounds.begin(), bounds.end());
  s.cumulative.assign(cumulative.begin(), cumulative.end());
  s.count = count;
  building_->bytes_ += (bounds.size() + cumulative.size()) * 8;
}

std::shared_ptr<const Snapshot> SnapshotRecorder::take() {
  std::shared_ptr<const Snapshot> done = std::move(building_);
  building_ = std::make_shared<Snapshot>();
  return done;
}

}  // namespace edgemon::metrics
