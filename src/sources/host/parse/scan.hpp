#pragma once
// Tokenising procfs text without allocating: everything here works on
// string_views into the caller's buffer and never reads past its end, so the
// parsers built on it stay safe on arbitrary (fuzzed) input.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/text.hpp"

namespace edgemon::collect::scan {

// Takes the next line (without its '\n') off the front of *text. Returns
// false when *text is exhausted.
bool next_line(std::string_view* text, std::string_view* line);

// Takes the next blank-separated (space or tab) field off the front of *line.
// Returns false when only blanks remain.
bool next_field(std::string_view* line, std::string_view* field);

// The whole of `text` must be the number; no sign, no blanks.
bool to_u64(std::string_view text, uint64_t* out);
bool to_i64(std::string_view text, int64_t* out);
bool to_double(std::string_view text, double* out);

using edgemon::trim;

// Calls parse(line) -> bool for every line that is not blank. Returns "" or
// "line N: <expected>" for the first line it rejected; later lines are still
// parsed, so one bad line does not hide the good ones.
template <typename ParseLine>
std::string parse_lines(std::string_view text, std::string_view expected, ParseLine parse) {
  std::string error;
  std::string_view line;
  size_t line_no = 0;
  while (next_line(&text, &line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    if (!parse(line) && error.empty()) {
      error = "line " + std::to_string(line_no) + ": " + std::string(expected);
    }
  }
  return error;
}

}  // namespace edgemon::collect::scan
