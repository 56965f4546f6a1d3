#include "core/regex.hpp"

#include <string_view>
#include <utility>

namespace edgemon {

Regex::~Regex() {
  if (compiled_) regfree(&re_);
}

Regex::Regex(Regex&& other) noexcept
    : re_(other.re_), compiled_(std::exchange(other.compiled_, false)) {}

Regex& Regex::operator=(Regex&& other) noexcept {
  if (this != &other) {
    if (compiled_) regfree(&re_);
    re_ = other.re_;
    compiled_ = std::exchange(other.compiled_, false);
  }
  return *this;
}

namespace {

constexpr size_t kMaxPatternBytes = 1024;

// glibc's regcomp copies the operand once per repetition and again for each
// stacked one, so "a++++++++" or "a{100}{100}" takes memory exponential in
// the pattern (a fuzzer found 1 GiB from a 40-byte filter). ERE leaves a
// repetition of a repetition undefined anyway, so it is refused here.
std::string check_repetitions(std::string_view pattern) {
  bool after_quantifier = false;
  bool in_bracket = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (in_bracket) {
      if (c == ']') in_bracket = false;
      continue;
    }
    bool quantifier = c == '*' || c == '+' || c == '?' || c == '{';
    if (quantifier && after_quantifier) {
      return "a repetition of a repetition (like \"a++\" or \"a{2}{3}\") at offset " +
             std::to_string(i) + " is not allowed";
    }
    after_quantifier = quantifier;
    if (c == '\\') {
      ++i;  // The escaped character is a literal.
    } else if (c == '[') {
      in_bracket = true;
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') ++i;  // "[]...]"
    } else if (c == '{') {
      size_t close = pattern.find('}', i);
      if (close == std::string_view::npos) break;  // regcomp reports it
      i = close;
    }
  }
  return "";
}

}  // namespace

std::string Regex::compile(const std::string& pattern) {
  if (compiled_) {
    regfree(&re_);
    compiled_ = false;
  }
  if (pattern.empty()) return "";
  if (pattern.size() > kMaxPatternBytes) {
    return "invalid regular expression: longer than " + std::to_string(kMaxPatternBytes) + " bytes";
  }
  if (std::string err = check_repetitions(pattern); !err.empty()) {
    return "invalid regular expression: " + err;
  }
  int rc = regcomp(&re_, pattern.c_str(), REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    char buf[256];
    regerror(rc, &re_, buf, sizeof buf);
    regfree(&re_);
    return std::string("invalid regular expression: ") + buf;
  }
  compiled_ = true;
  return "";
}

bool Regex::matches(const std::string& text) const {
  return compiled_ && regexec(&re_, text.c_str(), 0, nullptr, 0) == 0;
}

std::string check_regex(std::string_view pattern) {
  Regex re;
  return re.compile(std::string(pattern));
}

}  // namespace edgemon
