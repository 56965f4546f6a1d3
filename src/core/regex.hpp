#pragma once
// POSIX extended regular expressions (regcomp) with RAII. Used for the
// include/exclude filters of collectors; node_exporter's defaults are written
// with [0-9] rather than \d so they mean the same thing here.
#include <regex.h>

#include <string>
#include <string_view>

namespace edgemon {

class Regex {
 public:
  Regex() = default;
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  Regex(Regex&& other) noexcept;
  Regex& operator=(Regex&& other) noexcept;

  // An empty pattern compiles to "matches nothing". Returns "" or the error.
  [[nodiscard]] std::string compile(const std::string& pattern);
  bool matches(const std::string& text) const;
  bool empty() const { return !compiled_; }

 private:
  regex_t re_{};
  bool compiled_ = false;
};

// StringCheck-compatible validator for configuration keys.
std::string check_regex(std::string_view pattern);

}  // namespace edgemon
