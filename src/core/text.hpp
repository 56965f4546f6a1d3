#pragma once
// Small text helpers shared by every parser of outside input.
#include <string_view>

namespace edgemon {

inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// `text` without leading and trailing spaces, tabs, CRs and LFs.
inline std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_space(text.back()))
    text.remove_suffix(1);
  return text;
}

}  // namespace edgemon
