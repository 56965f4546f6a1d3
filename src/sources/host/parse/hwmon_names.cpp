#include "sources/host/parse/hwmon_names.hpp"

#include <array>
#include <limits>

namespace edgemon::collect {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

bool split_sensor_file(std::string_view name, SensorFile* out) {
  size_t type_max = 0;
  while (type_max < name.size() && !is_digit(name[type_max]))
    ++type_max;
  // Backtracking order of the regex: the longest type first, then the
  // longest number, then the optional "_property" must end the name.
  for (size_t type_len = type_max; type_len >= 1; --type_len) {
    size_t digits_max = 0;
    while (type_len + digits_max < name.size() && is_digit(name[type_len + digits_max]))
      ++digits_max;
    for (size_t digits = digits_max + 1; digits-- > 0;) {
      std::string_view rest = name.substr(type_len + digits);
      std::string_view property;
      if (!rest.empty()) {
        if (rest.size() < 2 || rest.front() != '_') continue;
        property = rest.substr(1);
      }
      uint64_t number = 0;
      for (char c : name.substr(type_len, digits)) {
        auto d = static_cast<uint64_t>(c - '0');
        if (number > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - d) / 10)
          return false;  // Go's Atoi fails, and so does the whole match
        number = number * 10 + d;
      }
      out->type = name.substr(0, type_len);
      out->number = number;
      out->property = property;
      return true;
    }
  }
  return false;
}

bool is_hwmon_sensor_type(std::string_view type) {
  static constexpr std::array<std::string_view, 13> kTypes = {
      "vrm",  "beep_enable", "update_interval", "in",     "cpu",      "fan",      "pwm",
      "temp", "curr",        "power",           "energy", "humidity", "intrusion"};
  for (std::string_view t : kTypes)
    if (t == type) return true;
  return false;
}

std::string clean_hwmon_name(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || is_digit(c) || c == ':' || c == '_') {
      out += c;
      continue;
    }
    out += '_';
    // A multi-byte UTF-8 character is one rune to Go's regexp: skip its
    // continuation bytes.
    if ((static_cast<unsigned char>(c) & 0xc0) == 0xc0) {
      while (i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xc0) == 0x80)
        ++i;
    }
  }
  size_t start = out.find_first_not_of('_');
  if (start == std::string::npos) return "";
  size_t end = out.find_last_not_of('_');
  return out.substr(start, end - start + 1);
}

}  // namespace edgemon::collect
