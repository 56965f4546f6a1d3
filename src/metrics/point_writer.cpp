#include "metrics/point_writer.hpp"

#include <algorithm>

#include "metrics/prometheus_text.hpp"

namespace edgemon::metrics {

void PointWriter::set_common_tags(std::span<const Tag> tags) {
  common_tags_.assign(tags.begin(), tags.end());
}

void PointWriter::start(std::string_view measurement, std::string_view strip_prefix,
                        int64_t time_ns) {
  measurement_.assign(measurement);
  strip_prefix_.assign(strip_prefix);
  time_ns_ = time_ns;
  index_.clear();
}

void PointWriter::begin(const FamilyDesc& family) {
  std::string_view name = family.name;
  if (!strip_prefix_.empty() && name.starts_with(strip_prefix_) &&
      name.size() > strip_prefix_.size())
    name.remove_prefix(strip_prefix_.size());
  field_.assign(name);
}

void PointWriter::sample(Labels labels, double value) {
  set_field(point_for(labels, nullptr), {}, value);
}

void PointWriter::histogram(Labels labels, std::span<const double> bounds,
                            std::span<const uint64_t> cumulative, double sum, uint64_t count) {
  std::string le;
  for (size_t i = 0; i < bounds.size() && i < cumulative.size(); ++i) {
    le.clear();
    append_prometheus_value(le, bounds[i]);
    Label bucket{"le", le};
    set_field(point_for(labels, &bucket), "_bucket", static_cast<double>(cumulative[i]));
  }
  Label inf{"le", "+Inf"};
  set_field(point_for(labels, &inf), "_bucket", static_cast<double>(count));
  Point& point = point_for(labels, nullptr);
  set_field(point, "_sum", sum);
  set_field(point, "_count", static_cast<double>(count));
}

// An empty label value is how Prometheus spells "no label" (and the line
// protocol "no tag"), so it neither splits series nor becomes a tag.
Point& PointWriter::point_for(Labels labels, const Label* extra) {
  sorted_.clear();
  for (const Label& l : labels)
    if (!l.value.empty()) sorted_.push_back(l);
  if (extra != nullptr) sorted_.push_back(*extra);
  std::sort(sorted_.begin(), sorted_.end(),
            [](const Label& a, const Label& b) { return a.name < b.name; });
  key_.clear();
  for (const Label& l : sorted_) {
    key_.append(l.name).push_back('\0');
    key_.append(l.value).push_back('\0');
  }
  auto [it, inserted] = index_.try_emplace(key_, out_->size());
  if (!inserted) return (*out_)[it->second];

  Point& point = out_->emplace_back();
  point.measurement = measurement_;
  point.time_ns = time_ns_;
  point.tags = common_tags_;
  bool yields = !yielding_tag_.empty() &&
                std::any_of(sorted_.begin(), sorted_.end(),
                            [&](const Label& l) { return l.name == yielding_tag_; });
  if (yields) std::erase_if(point.tags, [&](const Tag& t) { return t.key == yielding_tag_; });
  for (const Label& l : sorted_) {
    bool clashes = std::any_of(point.tags.begin(), point.tags.end(),
                               [&](const Tag& t) { return t.key == l.name; });
    point.tags.push_back(
        {(clashes ? "exported_" : "") + std::string(l.name), std::string(l.value)});
  }
  return point;
}

// A family that repeats a label set overwrites the field: the line protocol
// would keep the last value anyway, and one key per field keeps lines short.
void PointWriter::set_field(Point& point, std::string_view suffix, double value) {
  for (Field& f : point.fields) {
    if (f.key.size() == field_.size() + suffix.size() && f.key.starts_with(field_) &&
        f.key.ends_with(suffix)) {
      f.value = value;
      return;
    }
  }
  std::string key;
  key.reserve(field_.size() + suffix.size());
  key.append(field_).append(suffix);
  point.fields.push_back({std::move(key), value});
}

}  // namespace edgemon::metrics
