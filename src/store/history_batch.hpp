#pragma once
// Points on their way from the loop to the history's write thread: the
// numeric fields of each point copied into one flat buffer, so that add()
// costs a few appends on the loop and the queue's memory is exactly its
// byte count. Strings are length-prefixed; nothing is parsed twice.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/point.hpp"

namespace edgemon::store {

class PointBatch {
 public:
  // Appends the numeric fields of `point` (floats, integers, bools as 0/1;
  // strings and non-finite numbers left out) under `device`, without its
  // device_id tag. Returns the values appended; *non_finite counts those
  // left out for being NaN or infinite.
  size_t append(const metrics::Point& point, std::string_view device, int64_t* non_finite);
  // The values append() would take of `point`; *non_finite counts those it
  // would leave out for being NaN or infinite.
  static size_t values_in(const metrics::Point& point, int64_t* non_finite);

  size_t bytes() const { return data_.size(); }
  size_t values() const { return values_; }
  bool empty() const { return data_.empty(); }
  // Undoes the appends made since bytes() and values() were these.
  void rollback(size_t bytes, size_t values) {
    data_.resize(bytes);
    values_ = values;
  }
  // Moves the points of `other` over, as many whole ones as fit in
  // `max_bytes` (all of them when they all fit: no copy if this one is
  // empty). Returns the values moved; `other` is left empty.
  size_t append(PointBatch&& other, size_t max_bytes);
  // Hands the buffer over and starts a new one.
  std::string take() {
    values_ = 0;
    return std::exchange(data_, std::string());
  }

 private:
  std::string data_;
  size_t values_ = 0;
};

struct DecodedPoint {
  std::string_view device;
  std::string_view measurement;
  std::vector<std::pair<std::string_view, std::string_view>> tags;
  int64_t t_ms = 0;
  std::vector<std::pair<std::string_view, double>> values;
};

class PointBatchReader {
 public:
  explicit PointBatchReader(std::string_view data) : data_(data) {}
  // The next point; false at the end (or on a truncated buffer, which
  // cannot happen with what PointBatch wrote).
  bool next(DecodedPoint* out);
  size_t remaining_bytes() const { return data_.size(); }

 private:
  bool read_text(std::string_view* out);
  template <typename T>
  bool read_raw(T* out);
  std::string_view data_;
};

// The canonical text of a tag set: a JSON object with keys sorted, so one
// set of tags always gives the same series.
std::string canonical_tags(std::vector<std::pair<std::string_view, std::string_view>> tags);

}  // namespace edgemon::store
