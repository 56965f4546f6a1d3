// The text rules of the sysfs power collectors (hwmon, rapl,
// powersupplyclass) on arbitrary bytes: sysfs attribute names and values
// come from kernel drivers, some of them out of tree. Every function is run
// on the whole input, and the invariants that the collectors rely on are
// checked.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "sources/host/parse/go_text.hpp"
#include "sources/host/parse/hwmon_names.hpp"
#include "sources/host/parse/powercap.hpp"

using namespace edgemon::collect;

namespace {

bool is_label_value_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' || c == '_';
}

void check_sensor_file(std::string_view text) {
  SensorFile f;
  if (!split_sensor_file(text, &f)) return;
  // The parts are views into the input and rebuild it.
  if (f.type.empty() || f.type.data() != text.data()) __builtin_trap();
  for (char c : f.type)
    if (c >= '0' && c <= '9') __builtin_trap();
  if (!f.property.empty() && f.property.data() + f.property.size() != text.data() + text.size())
    __builtin_trap();
  is_hwmon_sensor_type(f.type);
}

void check_clean(std::string_view text) {
  std::string cleaned = clean_hwmon_name(text);
  if (cleaned.size() > text.size()) __builtin_trap();
  if (!cleaned.empty() && (cleaned.front() == '_' || cleaned.back() == '_')) __builtin_trap();
  for (char c : cleaned)
    if (!is_label_value_char(c)) __builtin_trap();
}

void check_numbers(std::string_view text) {
  double d = 0;
  parse_go_float(text, &d);
  int64_t i = 0;
  parse_go_int(text, &i);
  uint64_t u = 0;
  if (parse_go_uint(text, &u)) {
    // A plain decimal is a Go int too when it fits.
    int64_t j = 0;
    if (u <= INT64_MAX && (text.size() == 1 || text.front() != '0') && !parse_go_int(text, &j))
      __builtin_trap();
    if (u <= INT64_MAX && (text.size() == 1 || text.front() != '0') && j != static_cast<int64_t>(u))
      __builtin_trap();
  }
}

void check_utf8(std::string_view text) {
  std::string valid = to_valid_utf8(text);
  // Already valid text is unchanged, and the result is a fixed point.
  if (to_valid_utf8(valid) != valid) __builtin_trap();
  trim_go_space(text);
}

void check_powercap(std::string_view text) {
  std::map<std::string, int64_t> seen;
  // Lines as zone names, in order, as a powercap directory would give them.
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    RaplZoneName z = split_rapl_zone_name(text.substr(start, nl - start), &seen);
    std::string part = sanitize_metric_name_part(z.zone);
    for (char c : part)
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'))
        __builtin_trap();
    start = nl + 1;
  }
  // Three counters from the first 24 bytes: a delta never exceeds the range
  // when both readings lie within it.
  if (text.size() >= 24) {
    uint64_t v[3];
    for (int k = 0; k < 3; ++k) {
      v[k] = 0;
      for (int b = 0; b < 8; ++b)
        v[k] = (v[k] << 8) | static_cast<unsigned char>(text[k * 8 + b]);
    }
    uint64_t delta = rapl_energy_delta_uj(v[0], v[1], v[2]);
    if (v[0] <= v[2] && v[1] <= v[2] && delta > v[2]) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Copied so that reading one byte past the end is caught by ASan.
  std::string input(reinterpret_cast<const char*>(data), size);
  std::string_view text = input;
  check_sensor_file(text);
  check_clean(text);
  check_numbers(text);
  check_utf8(text);
  check_powercap(text);
  return 0;
}
