#pragma once
// One measurement at one instant: the unit that flows from collectors and
// ingest to the push outputs (InfluxDB line protocol and friends).
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace edgemon::metrics {

// The field types of the InfluxDB data model. uint64_t exists because v2
// stores it natively; outputs for v1 map it (see LineProtocolEncoder).
using FieldValue = std::variant<double, int64_t, uint64_t, bool, std::string>;

struct Tag {
  std::string key;
  std::string value;
};

struct Field {
  std::string key;
  FieldValue value;
};

struct Point {
  std::string measurement;
  std::vector<Tag> tags;  // any order; encoders sort
  std::vector<Field> fields;
  int64_t time_ns = 0;  // Unix epoch, nanoseconds
};

// The size of what names a point's series: the measurement and every tag as
// ",key=value" (unescaped). What a client can make the history's series
// index and the device registry hold per point.
inline size_t series_key_bytes(const Point& point) {
  size_t bytes = point.measurement.size();
  for (const Tag& t : point.tags)
    bytes += 2 + t.key.size() + t.value.size();
  return bytes;
}

}  // namespace edgemon::metrics
