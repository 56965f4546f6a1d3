#include "sources/host/parse/go_text.hpp"

#include <charconv>
#include <cmath>
#include <limits>

namespace edgemon::collect {
namespace {

bool equal_folded(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

// Digits of `base`, '_' only between two digits (or after a base prefix),
// as Go's underscoreOK requires. Returns false on overflow of uint64.
bool parse_digits(std::string_view text, unsigned base, bool after_prefix, uint64_t* out) {
  if (text.empty()) return false;
  uint64_t value = 0;
  bool any = false;
  bool prev_digit_or_prefix = after_prefix;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '_') {
      bool next_digit =
          i + 1 < text.size() && static_cast<unsigned>(digit_value(text[i + 1])) < base;
      if (!prev_digit_or_prefix || !next_digit) return false;
      prev_digit_or_prefix = false;
      continue;
    }
    auto d = static_cast<unsigned>(digit_value(c));
    if (d >= base) return false;
    if (value > (std::numeric_limits<uint64_t>::max() - d) / base) return false;
    value = value * base + d;
    any = true;
    prev_digit_or_prefix = true;
  }
  *out = value;
  return any;
}

}  // namespace

bool parse_go_float(std::string_view text, double* out) {
  if (text.empty()) return false;
  std::string_view body = text;
  bool negative = false;
  if (body.front() == '+' || body.front() == '-') {
    negative = body.front() == '-';
    body.remove_prefix(1);
  }
  if (equal_folded(body, "inf") || equal_folded(body, "infinity")) {
    *out = negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
    return true;
  }
  if (equal_folded(body, "nan")) {
    if (body.size() != text.size()) return false;  // Go accepts no sign on NaN
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  // Only digits, one '.', and an exponent: from_chars would also take
  // "nan(...)" and hex forms Go spells differently.
  if (body.empty() || body.front() == '+' || body.front() == '-') return false;
  for (char c : body) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
      return false;
  }
  double value = 0;
  auto [end, ec] =
      std::from_chars(body.data(), body.data() + body.size(), value, std::chars_format::general);
  if (ec != std::errc() || end != body.data() + body.size()) return false;
  *out = negative ? -value : value;
  return true;
}

bool parse_go_int(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  bool negative = false;
  if (text.front() == '+' || text.front() == '-') {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  unsigned base = 10;
  bool prefix = false;
  if (text.size() >= 2 && text[0] == '0') {
    char p = text[1];
    if (p == 'x' || p == 'X') base = 16, prefix = true;
    if (p == 'o' || p == 'O') base = 8, prefix = true;
    if (p == 'b' || p == 'B') base = 2, prefix = true;
    if (prefix) {
      text.remove_prefix(2);
    } else {
      base = 8;  // a leading 0: octal; the 0 itself is a digit
    }
  }
  uint64_t magnitude = 0;
  if (!parse_digits(text, base, prefix, &magnitude)) return false;
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (magnitude > kMax + 1) return false;
    *out = magnitude == kMax + 1 ? std::numeric_limits<int64_t>::min()
                                 : -static_cast<int64_t>(magnitude);
  } else {
    if (magnitude > kMax) return false;
    *out = static_cast<int64_t>(magnitude);
  }
  return true;
}

bool parse_go_uint(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string to_valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_invalid_run = false;
  size_t i = 0;
  while (i < text.size()) {
    auto b = static_cast<unsigned char>(text[i]);
    size_t len = 0;
    uint32_t min = 0;
    if (b < 0x80) {
      len = 1;
    } else if ((b & 0xe0) == 0xc0) {
      len = 2, min = 0x80;
    } else if ((b & 0xf0) == 0xe0) {
      len = 3, min = 0x800;
    } else if ((b & 0xf8) == 0xf0) {
      len = 4, min = 0x10000;
    }
    bool ok = len > 0 && i + len <= text.size();
    uint32_t cp = len == 1 ? b : b & (0x7f >> len);
    for (size_t k = 1; ok && k < len; ++k) {
      auto c = static_cast<unsigned char>(text[i + k]);
      if ((c & 0xc0) != 0x80) ok = false;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (ok && len > 1 && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) ok = false;
    if (!ok) {
      if (!in_invalid_run) out += "\xef\xbf\xbd";
      in_invalid_run = true;
      ++i;
      continue;
    }
    in_invalid_run = false;
    out.append(text.substr(i, len));
    i += len;
  }
  return out;
}

std::string_view trim_go_space(std::string_view text) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (!text.empty() && space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && space(text.back()))
    text.remove_suffix(1);
  return text;
}

}  // namespace edgemon::collect
