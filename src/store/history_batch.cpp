#include "store/history_batch.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/json_text.hpp"

namespace edgemon::store {
namespace {

template <typename T>
void put(std::string& out, T value) {
  char raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));
  out.append(raw, sizeof(T));
}

void put_text(std::string& out, std::string_view text) {
  put(out, static_cast<uint32_t>(text.size()));
  out.append(text);
}

// The value as history keeps it, or false for a string.
bool numeric(const metrics::FieldValue& v, double* out) {
  if (const auto* d = std::get_if<double>(&v))
    *out = *d;
  else if (const auto* i = std::get_if<int64_t>(&v))
    *out = static_cast<double>(*i);
  else if (const auto* u = std::get_if<uint64_t>(&v))
    *out = static_cast<double>(*u);
  else if (const auto* b = std::get_if<bool>(&v))
    *out = *b ? 1.0 : 0.0;
  else
    return false;
  return true;
}

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

size_t PointBatch::values_in(const metrics::Point& point, int64_t* non_finite) {
  size_t n = 0;
  double v = 0;
  for (const auto& f : point.fields) {
    if (!numeric(f.value, &v)) continue;
    if (std::isfinite(v)) {
      ++n;
    } else {
      ++*non_finite;
    }
  }
  return n;
}

size_t PointBatch::append(const metrics::Point& point, std::string_view device,
                          int64_t* non_finite) {
  size_t start = data_.size();
  put_text(data_, device);
  put_text(data_, point.measurement);
  uint32_t tags = 0;
  for (const auto& t : point.tags)
    tags += t.key != "device_id" ? 1 : 0;
  put(data_, tags);
  for (const auto& t : point.tags) {
    if (t.key == "device_id") continue;
    put_text(data_, t.key);
    put_text(data_, t.value);
  }
  put(data_, floor_div(point.time_ns, 1000000));
  size_t count_at = data_.size();
  put(data_, uint32_t{0});
  uint32_t count = 0;
  for (const auto& f : point.fields) {
    double v = 0;
    if (!numeric(f.value, &v)) continue;
    if (!std::isfinite(v)) {
      ++*non_finite;
      continue;
    }
    put_text(data_, f.key);
    put(data_, v);
    ++count;
  }
  if (count == 0) {
    data_.resize(start);
    return 0;
  }
  std::memcpy(data_.data() + count_at, &count, sizeof count);
  values_ += count;
  return count;
}

size_t PointBatch::append(PointBatch&& other, size_t max_bytes) {
  std::string data = std::exchange(other.data_, std::string());
  size_t values = std::exchange(other.values_, 0);
  if (data_.size() + data.size() <= max_bytes) {
    if (data_.empty()) {
      data_ = std::move(data);
    } else {
      data_.append(data);
    }
    values_ += values;
    return values;
  }
  // Over the bound: the whole points that fit, found by reading them.
  PointBatchReader reader(data);
  DecodedPoint p;
  size_t fit_bytes = 0;
  size_t fit_values = 0;
  while (reader.next(&p)) {
    size_t end = data.size() - reader.remaining_bytes();
    if (data_.size() + end > max_bytes) break;
    fit_bytes = end;
    fit_values += p.values.size();
  }
  data_.append(data, 0, fit_bytes);
  values_ += fit_values;
  return fit_values;
}

template <typename T>
bool PointBatchReader::read_raw(T* out) {
  if (data_.size() < sizeof(T)) return false;
  std::memcpy(out, data_.data(), sizeof(T));
  data_.remove_prefix(sizeof(T));
  return true;
}

bool PointBatchReader::read_text(std::string_view* out) {
  uint32_t n = 0;
  if (!read_raw(&n) || data_.size() < n) return false;
  *out = data_.substr(0, n);
  data_.remove_prefix(n);
  return true;
}

bool PointBatchReader::next(DecodedPoint* out) {
  out->tags.clear();
  out->values.clear();
  uint32_t tags = 0;
  if (!read_text(&out->device) || !read_text(&out->measurement) || !read_raw(&tags)) return false;
  for (uint32_t i = 0; i < tags; ++i) {
    std::string_view k, v;
    if (!read_text(&k) || !read_text(&v)) return false;
    out->tags.emplace_back(k, v);
  }
  uint32_t values = 0;
  if (!read_raw(&out->t_ms) || !read_raw(&values)) return false;
  for (uint32_t i = 0; i < values; ++i) {
    std::string_view k;
    double v = 0;
    if (!read_text(&k) || !read_raw(&v)) return false;
    out->values.emplace_back(k, v);
  }
  return true;
}

std::string canonical_tags(std::vector<std::pair<std::string_view, std::string_view>> tags) {
  std::stable_sort(tags.begin(), tags.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out = "{";
  for (size_t i = 0; i < tags.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(out, tags[i].first);
    out += ':';
    append_json_string(out, tags[i].second);
  }
  out += '}';
  return out;
}

}  // namespace edgemon::store
