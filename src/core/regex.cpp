#include "core/regex.hpp"

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

std::string Regex::compile(const std::string& pattern) {
  if (compiled_) {
    regfree(&re_);
    compiled_ = false;
  }
  if (pattern.empty()) return "";
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
