#pragma once
// Scalar types that configuration keys are made of, and their text forms.
// The same parsers serve YAML values, environment variables and CLI flags,
// so "15s" means the same thing wherever an operator writes it.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace edgemon::config {

using Duration = std::chrono::milliseconds;

struct ByteSize {
  uint64_t bytes = 0;
  constexpr ByteSize() = default;
  constexpr explicit ByteSize(uint64_t b) : bytes(b) {}
  friend bool operator==(ByteSize, ByteSize) = default;
};

// Allowed range of an integer key; for durations in milliseconds, for sizes
// in bytes.
struct IntRange {
  int64_t min;
  int64_t max;
};

struct DoubleRange {
  double min;
  double max;
};

// A key holding name → value pairs, such as the tags added to every point.
using StringMap = std::map<std::string, std::string>;

// Returns "" when `value` is acceptable, else what is wrong with it.
using StringCheck = std::string (*)(std::string_view value);

// Each returns "" on success or a message naming the expected form.
std::string parse_duration(std::string_view text, Duration* out);
std::string parse_byte_size(std::string_view text, ByteSize* out);
std::string parse_int(std::string_view text, int64_t* out);
std::string parse_double(std::string_view text, double* out);
std::string parse_bool(std::string_view text, bool* out);

// Canonical text forms, used by the documented defaults and /status.
std::string format_duration(Duration d);
std::string format_byte_size(ByteSize b);
std::string format_double(double d);

}  // namespace edgemon::config
