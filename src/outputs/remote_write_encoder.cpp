#include "outputs/remote_write_encoder.hpp"

#include <algorithm>
#include <cassert>
#include <string_view>
#include <utility>
#include <vector>

#include "core/utf8.hpp"
#include "outputs/protobuf_c_library.hpp"
#include "remote_write.pb-c.h"

namespace edgemon::outputs {

using Label = std::pair<std::string, std::string>;

namespace {

bool name_char(char c, bool first, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
         (!first && c >= '0' && c <= '9');
}

bool valid_name(std::string_view name, bool colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0, colon)) return false;
  }
  return true;
}

// Where one accepted series' labels and samples sit in the flat arrays.
struct Span {
  size_t label_begin, label_end;
  size_t sample_begin, sample_end;
};

}  // namespace

bool valid_metric_name(std::string_view name) {
  return valid_name(name, true);
}
bool valid_label_name(std::string_view name) {
  return valid_name(name, false);
}

// protobuf-c packs from structs that point at each other, so every message
// of a request lives in one of these flat arrays: a batch costs a handful of
// allocations the first time and none after.
struct RemoteWriteEncoder::Scratch {
  std::vector<const Label*> kept;  // labels of accepted series, sorted per series
  std::vector<Span> spans;
  std::vector<Prometheus__Label> labels;
  std::vector<Prometheus__Label*> label_ptrs;
  std::vector<Prometheus__Sample> samples;
  std::vector<Prometheus__Sample*> sample_ptrs;
  std::vector<Prometheus__TimeSeries> series;
  std::vector<Prometheus__TimeSeries*> series_ptrs;

  // Sorts and checks one series' labels, appending them to `kept`; on a
  // rejection counts the reason and leaves `kept` as it was.
  bool accept(const RwSeries& s, RwEncodeResult* result);
  // Copies one series' samples into `samples`, time-ordered, one per timestamp.
  void add_samples(const RwSeries& s, RwEncodeResult* result);
  void link();
};

RemoteWriteEncoder::RemoteWriteEncoder() : scratch_(std::make_unique<Scratch>()) {}
RemoteWriteEncoder::~RemoteWriteEncoder() = default;

bool RemoteWriteEncoder::Scratch::accept(const RwSeries& s, RwEncodeResult* result) {
  const size_t begin = kept.size();
  uint64_t empty = 0;
  for (const Label& label : s.labels) {
    if (label.second.empty()) {
      ++empty;
    } else {
      kept.push_back(&label);
    }
  }
  const auto first = kept.begin() + static_cast<ptrdiff_t>(begin);
  std::sort(first, kept.end(), [](const Label* a, const Label* b) { return a->first < b->first; });
  const auto reject = [&](uint64_t* reason) {
    ++*reason;
    kept.resize(begin);
    return false;
  };
  bool named = false;
  for (auto it = first; it != kept.end(); ++it) {
    const Label& label = **it;
    if (!valid_label_name(label.first)) return reject(&result->rejected.bad_label_name);
    if (it != first && (*(it - 1))->first == label.first) {
      return reject(&result->rejected.duplicate_label);
    }
    // protobuf-c strings end at the first NUL, so one would cut the value.
    if (!valid_utf8(label.second) || label.second.find('\0') != std::string::npos) {
      return reject(&result->rejected.bad_label_value);
    }
    if (label.first == "__name__") {
      if (!valid_metric_name(label.second)) return reject(&result->rejected.bad_metric_name);
      named = true;
    }
  }
  if (!named) return reject(&result->rejected.no_name);
  if (s.samples.empty()) return reject(&result->rejected.no_samples);
  result->empty_labels += empty;
  return true;
}

void RemoteWriteEncoder::Scratch::add_samples(const RwSeries& s, RwEncodeResult* result) {
  const size_t begin = samples.size();
  for (const auto& [time_ms, value] : s.samples) {
    Prometheus__Sample sample = PROMETHEUS__SAMPLE__INIT;
    sample.timestamp = time_ms;
    sample.value = value;
    samples.push_back(sample);
  }
  const auto first = samples.begin() + static_cast<ptrdiff_t>(begin);
  // Stable, so that of several samples with one timestamp the last one given
  // is the one kept: it is the newest value.
  std::stable_sort(first, samples.end(),
                   [](const Prometheus__Sample& a, const Prometheus__Sample& b) {
                     return a.timestamp < b.timestamp;
                   });
  size_t out = begin;
  for (size_t i = begin; i < samples.size(); ++i) {
    if (i + 1 < samples.size() && samples[i + 1].timestamp == samples[i].timestamp) {
      ++result->duplicate_samples;
      continue;
    }
    samples[out++] = samples[i];
  }
  samples.resize(out);
}

// Points the messages at each other once no array will grow any more.
void RemoteWriteEncoder::Scratch::link() {
  labels.clear();
  for (const Label* label : kept) {
    Prometheus__Label l = PROMETHEUS__LABEL__INIT;
    // protobuf-c's strings are not const but packing only reads them.
    l.name = const_cast<char*>(label->first.c_str());
    l.value = const_cast<char*>(label->second.c_str());
    labels.push_back(l);
  }
  label_ptrs.clear();
  for (Prometheus__Label& l : labels)
    label_ptrs.push_back(&l);
  sample_ptrs.clear();
  for (Prometheus__Sample& s : samples)
    sample_ptrs.push_back(&s);
  series.clear();
  series_ptrs.clear();
  for (const Span& span : spans) {
    Prometheus__TimeSeries ts = PROMETHEUS__TIME_SERIES__INIT;
    ts.n_labels = span.label_end - span.label_begin;
    ts.labels = label_ptrs.data() + span.label_begin;
    ts.n_samples = span.sample_end - span.sample_begin;
    ts.samples = sample_ptrs.data() + span.sample_begin;
    series.push_back(ts);
  }
  for (Prometheus__TimeSeries& ts : series)
    series_ptrs.push_back(&ts);
}

RwEncodeResult RemoteWriteEncoder::encode(std::span<const RwSeries> input, std::string* out) {
  Scratch& s = *scratch_;
  s.kept.clear();
  s.spans.clear();
  s.samples.clear();
  RwEncodeResult result;
  for (const RwSeries& series : input) {
    const size_t label_begin = s.kept.size();
    if (!s.accept(series, &result)) continue;
    const size_t sample_begin = s.samples.size();
    s.add_samples(series, &result);
    s.spans.push_back({label_begin, s.kept.size(), sample_begin, s.samples.size()});
  }
  if (s.spans.empty()) return result;
  s.link();
  result.series = s.series.size();
  result.samples = s.samples.size();

  const ProtobufCLibrary* protobuf = protobuf_c_library();
  // A remote_write output that could not load it never encodes (see
  // remote_write_encoder.hpp): reaching here without it is a bug.
  assert(protobuf != nullptr);
  Prometheus__WriteRequest request = PROMETHEUS__WRITE_REQUEST__INIT;
  request.n_timeseries = s.series_ptrs.size();
  request.timeseries = s.series_ptrs.data();
  const size_t start = out->size();
  const size_t size = protobuf->get_packed_size(&request.base);
  out->resize(start + size);
  const size_t packed =
      protobuf->pack(&request.base, reinterpret_cast<uint8_t*>(out->data() + start));
  assert(packed == size);
  (void)packed;
  return result;
}

}  // namespace edgemon::outputs
