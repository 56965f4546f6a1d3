#include "sources/host/parse/powercap.hpp"

#include "sources/host/parse/go_text.hpp"

namespace edgemon::collect {
namespace {

bool is_metric_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

}  // namespace

RaplZoneName split_rapl_zone_name(std::string_view name, std::map<std::string, int64_t>* seen) {
  RaplZoneName out;
  size_t dash = name.find('-');
  bool two_parts = dash != std::string_view::npos && name.find('-', dash + 1) == std::string::npos;
  int64_t index = 0;
  // Go's Atoi: an optional sign, then decimal digits (leading zeros too).
  auto atoi = [](std::string_view text, int64_t* value) {
    bool negative = !text.empty() && text.front() == '-';
    if (!text.empty() && (text.front() == '+' || text.front() == '-')) text.remove_prefix(1);
    uint64_t magnitude = 0;
    if (!parse_go_uint(text, &magnitude) || magnitude > (uint64_t{1} << 63) - (negative ? 0 : 1))
      return false;
    *value = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
    return true;
  };
  if (two_parts && atoi(name.substr(dash + 1), &index)) {
    out.zone = std::string(name.substr(0, dash));
    out.index = index;
  } else {
    out.zone = std::string(name);
    auto it = seen->find(out.zone);
    out.index = it == seen->end() ? 0 : it->second;
  }
  // Go wraps on overflow; so does this, without undefined behaviour.
  (*seen)[out.zone] = static_cast<int64_t>(static_cast<uint64_t>(out.index) + 1);
  return out;
}

std::string sanitize_metric_name_part(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && text[j] == '_')
      ++j;
    if (j < text.size() && !is_metric_char(text[j])) {
      while (j < text.size() && !is_metric_char(text[j]))
        ++j;
      while (j < text.size() && text[j] == '_')
        ++j;
      out += '_';
      i = j;
      continue;
    }
    out.append(text.substr(i, j - i));
    if (j < text.size()) out += text[j++];
    i = j;
  }
  return out;
}

uint64_t rapl_energy_delta_uj(uint64_t previous, uint64_t current, uint64_t max_range) {
  if (current >= previous) return current - previous;
  if (previous > max_range) return 0;
  return (max_range - previous) + current;
}

}  // namespace edgemon::collect
