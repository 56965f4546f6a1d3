#pragma once
// What one source saw at one instant, as metric families, recorded once and
// then shared read-only by every consumer of the bus: the /metrics registry
// replays it into the text format, the outputs and the history into points.
// Recording copies the label strings (a source's buffers are gone by the
// time a consumer runs) into one arena, so a snapshot of a few hundred
// series costs a handful of allocations; replaying allocates only a
// scratch label array.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "metrics/metric_sink.hpp"

namespace edgemon::metrics {

class Snapshot {
 public:
  // Writes every family in the order recorded.
  void replay(MetricSink& sink) const;
  // Writes one family (an index below families()).
  void replay_family(size_t index, MetricSink& sink) const;

  size_t families() const { return families_.size(); }
  const std::string& family_name(size_t index) const { return families_[index].name; }
  Type family_type(size_t index) const { return families_[index].type; }
  size_t samples() const { return samples_.size(); }
  // Bytes held, for the registry's accounting.
  size_t bytes() const;

 private:
  friend class SnapshotRecorder;
  struct Text {  // a piece of arena_
    uint32_t offset;
    uint32_t size;
  };
  struct Family {
    std::string name;
    Text help;
    Type type;
    size_t first_sample;
    size_t sample_count;
  };
  struct Sample {
    uint32_t first_label;  // in labels_: name, value, name, value, ...
    uint32_t label_count;
    double value;  // a histogram's sum
    // Histograms only: bucket_count bounds in bounds_ from first_bucket, one
    // more cumulative count in cumulative_ from first_cumulative.
    uint32_t first_bucket;
    uint32_t first_cumulative;
    uint32_t bucket_count;
    uint64_t count;
  };
  Text keep(std::string_view text);
  std::string_view text(Text t) const { return std::string_view(arena_).substr(t.offset, t.size); }
  void write_samples(const Family& family, MetricSink& sink, std::vector<Label>& scratch) const;

  std::vector<Family> families_;
  std::vector<Sample> samples_;
  std::vector<Text> labels_;
  std::vector<double> bounds_;
  std::vector<uint64_t> cumulative_;
  std::string arena_;
};

// A MetricSink that records; take() hands over the finished snapshot and
// starts a new one.
class SnapshotRecorder final : public MetricSink {
 public:
  SnapshotRecorder();
  void begin(const FamilyDesc& family) override;
  void sample(Labels labels, double value) override;
  void histogram(Labels labels, std::span<const double> bounds,
                 std::span<const uint64_t> cumulative, double sum, uint64_t count) override;
  using MetricSink::sample;

  [[nodiscard]] std::shared_ptr<const Snapshot> take();

 private:
  Snapshot::Sample& add_sample(Labels labels);
  Snapshot::Family& current_family();

  std::shared_ptr<Snapshot> building_;
};

}  // namespace edgemon::metrics
