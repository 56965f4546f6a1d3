#include "metrics/snapshot.hpp"

namespace edgemon::metrics {

Snapshot::Text Snapshot::keep(std::string_view piece) {
  Text t{static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(piece.size())};
  arena_.append(piece);
  return t;
}

size_t Snapshot::bytes() const {
  return sizeof(*this) + families_.capacity() * sizeof(Family) +
         samples_.capacity() * sizeof(Sample) + labels_.capacity() * sizeof(Text) +
         bounds_.capacity() * sizeof(double) + cumulative_.capacity() * sizeof(uint64_t) +
         arena_.capacity();
}

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
  sink.begin({family.name, text(family.help), family.type});
  for (size_t i = family.first_sample; i < family.first_sample + family.sample_count; ++i) {
    const Sample& s = samples_[i];
    scratch.clear();
    for (uint32_t l = s.first_label; l + 1 < s.first_label + s.label_count; l += 2)
      scratch.push_back({text(labels_[l]), text(labels_[l + 1])});
    if (family.type == Type::kHistogram) {
      sink.histogram(scratch, std::span(bounds_).subspan(s.first_bucket, s.bucket_count),
                     std::span(cumulative_).subspan(s.first_cumulative, s.bucket_count + 1),
                     s.value, s.count);
    } else {
      sink.sample(Labels(scratch), s.value);
    }
  }
}

SnapshotRecorder::SnapshotRecorder() : building_(std::make_shared<Snapshot>()) {}

void SnapshotRecorder::begin(const FamilyDesc& family) {
  Snapshot& b = *building_;
  b.families_.push_back(
      {std::string(family.name), b.keep(family.help), family.type, b.samples_.size(), 0});
}

// A sample before any begin() would belong to no family: give it one rather
// than lose it silently (a source's bug then shows in /metrics).
Snapshot::Family& SnapshotRecorder::current_family() {
  if (building_->families_.empty()) begin({"untitled", "", Type::kUntyped});
  return building_->families_.back();
}

Snapshot::Sample& SnapshotRecorder::add_sample(Labels labels) {
  Snapshot& b = *building_;
  ++current_family().sample_count;
  auto first = static_cast<uint32_t>(b.labels_.size());
  for (const Label& l : labels) {
    b.labels_.push_back(b.keep(l.name));
    b.labels_.push_back(b.keep(l.value));
  }
  return b.samples_.emplace_back(
      Snapshot::Sample{first, static_cast<uint32_t>(labels.size() * 2), 0, 0, 0, 0, 0});
}

void SnapshotRecorder::sample(Labels labels, double value) {
  add_sample(labels).value = value;
}

void SnapshotRecorder::histogram(Labels labels, std::span<const double> bounds,
                                 std::span<const uint64_t> cumulative, double sum, uint64_t count) {
  Snapshot& b = *building_;
  Snapshot::Sample& s = add_sample(labels);
  s.value = sum;
  s.count = count;
  s.first_bucket = static_cast<uint32_t>(b.bounds_.size());
  s.first_cumulative = static_cast<uint32_t>(b.cumulative_.size());
  s.bucket_count = static_cast<uint32_t>(bounds.size());
  b.bounds_.insert(b.bounds_.end(), bounds.begin(), bounds.end());
  b.cumulative_.insert(b.cumulative_.end(), cumulative.begin(), cumulative.end());
}

std::shared_ptr<const Snapshot> SnapshotRecorder::take() {
  std::shared_ptr<const Snapshot> done = std::move(building_);
  building_ = std::make_shared<Snapshot>();
  return done;
}

}  // namespace edgemon::metrics
