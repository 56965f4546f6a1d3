#include "core/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace edgemon {
namespace {

// Length of the sequence a lead byte starts and the allowed range of its
// second byte; the narrowed ranges are what exclude overlong forms,
// surrogates and code points above U+10FFFF (RFC 3629, section 4).
struct Lead {
  unsigned length;  // 0 = not a lead byte
  unsigned char lo;
  unsigned char hi;
};

Lead classify(unsigned char c) {
  if (c >= 0xC2 && c <= 0xDF) return {2, 0x80, 0xBF};
  if (c == 0xE0) return {3, 0xA0, 0xBF};
  if (c == 0xED) return {3, 0x80, 0x9F};
  if (c >= 0xE1 && c <= 0xEF) return {3, 0x80, 0xBF};
  if (c == 0xF0) return {4, 0x90, 0xBF};
  if (c >= 0xF1 && c <= 0xF3) return {4, 0x80, 0xBF};
  if (c == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

}  // namespace

bool valid_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    // Line protocol is nearly all ASCII: skip it a word at a time.
    if (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, sizeof word);
      if ((word & 0x8080808080808080ULL) == 0) {
        p += 8;
        continue;
      }
    }
    if (*p < 0x80) {
      ++p;
      continue;
    }
    const Lead lead = classify(*p);
    if (lead.length == 0 || static_cast<size_t>(end - p) < lead.length) return false;
    if (p[1] < lead.lo || p[1] > lead.hi) return false;
    for (unsigned i = 2; i < lead.length; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
    }
    p += lead.length;
  }
  return true;
}

std::string_view utf8_truncate(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t n = max_bytes;
  // Back up over continuation bytes to the lead byte of the cut character.
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80)
    --n;
  return text.substr(0, n);
}

std::string printable(std::string_view text, size_t max_bytes) {
  const bool utf8 = valid_utf8(text);
  const std::string_view shown = utf8 ? utf8_truncate(text, max_bytes) : text.substr(0, max_bytes);
  std::string out;
  out.reserve(shown.size() + 3);
  for (char ch : shown) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f || (!utf8 && c >= 0x80)) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  if (shown.size() < text.size()) out += "...";
  return out;
}

}  // namespace edgemon
