#include "core/config_types.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include "core/text.hpp"

namespace edgemon::config {
namespace {

// Splits "15s" into 15 and "s"; accepts decimals ("1.5s").
bool split_number_unit(std::string_view text, double* number, std::string_view* unit) {
  text = trim(text);
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
    ++i;
  }
  if (i == 0) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + i, *number);
  if (ec != std::errc() || end != text.data() + i) return false;
  *unit = trim(text.substr(i));
  return true;
}

}  // namespace

std::string parse_duration(std::string_view text, Duration* out) {
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}, {"d", 86400e3}, {"", 1e3}};
  double number = 0;
  std::string_view unit;
  if (split_number_unit(text, &number, &unit)) {
    for (const auto& [name, scale] : kUnits) {
      if (unit == name) {
        double ms = number * scale;
        if (ms > static_cast<double>(std::numeric_limits<int64_t>::max() / 2)) break;
        *out = Duration(static_cast<int64_t>(std::llround(ms)));
        return "";
      }
    }
  }
  return "expected a duration such as 500ms, 15s, 5m, 1h or 1d";
}

std::string parse_byte_size(std::string_view text, ByteSize* out) {
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"", 1},     {"B", 1},           {"KB", 1e3},      {"KiB", 1024.0},
      {"MB", 1e6}, {"MiB", 1048576.0}, {"GB", 1e9},      {"GiB", 1073741824.0},
      {"k", 1e3},  {"K", 1024.0},      {"M", 1048576.0}, {"G", 1073741824.0}};
  double number = 0;
  std::string_view unit;
  if (split_number_unit(text, &number, &unit)) {
    for (const auto& [name, scale] : kUnits) {
      if (unit == name) {
        double bytes = number * scale;
        if (bytes >= 1.8e19) break;
        *out = ByteSize(static_cast<uint64_t>(std::llround(bytes)));
        return "";
      }
    }
  }
  return "expected a size such as 512, 64KiB, 10MiB or 1GiB";
}

std::string parse_int(std::string_view text, int64_t* out) {
  text = trim(text);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return "expected an integer";
  }
  return "";
}

std::string parse_double(std::string_view text, double* out) {
  text = trim(text);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() ||
      !std::isfinite(*out)) {
    return "expected a number";
  }
  return "";
}

std::string parse_bool(std::string_view text, bool* out) {
  text = trim(text);
  if (text == "true" || text == "yes" || text == "on") {
    *out = true;
    return "";
  }
  if (text == "false" || text == "no" || text == "off") {
    *out = false;
    return "";
  }
  return "expected true or false";
}

std::string format_duration(Duration d) {
  int64_t ms = d.count();
  static constexpr std::pair<int64_t, const char*> kUnits[] = {
      {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
  for (const auto& [scale, name] : kUnits) {
    if (ms != 0 && ms % scale == 0) return std::to_string(ms / scale) + name;
  }
  return std::to_string(ms) + "ms";
}

std::string format_byte_size(ByteSize b) {
  static constexpr std::pair<uint64_t, const char*> kUnits[] = {
      {1073741824ULL, "GiB"}, {1048576ULL, "MiB"}, {1024ULL, "KiB"}};
  for (const auto& [scale, name] : kUnits) {
    if (b.bytes != 0 && b.bytes % scale == 0) return std::to_string(b.bytes / scale) + name;
  }
  return std::to_string(b.bytes);
}

std::string format_double(double d) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, ec == std::errc() ? end : buf);
}

}  // namespace edgemon::config
