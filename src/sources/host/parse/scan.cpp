#include "sources/host/parse/scan.hpp"

#include <charconv>
#include <cmath>

namespace edgemon::collect::scan {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

}  // namespace

bool next_line(std::string_view* text, std::string_view* line) {
  if (text->empty()) return false;
  size_t nl = text->find('\n');
  if (nl == std::string_view::npos) {
    *line = *text;
    *text = {};
  } else {
    *line = text->substr(0, nl);
    text->remove_prefix(nl + 1);
  }
  return true;
}

bool next_field(std::string_view* line, std::string_view* field) {
  size_t start = 0;
  while (start < line->size() && is_blank((*line)[start]))
    ++start;
  if (start == line->size()) {
    *line = {};
    return false;
  }
  size_t end = start;
  while (end < line->size() && !is_blank((*line)[end]))
    ++end;
  *field = line->substr(start, end - start);
  line->remove_prefix(end);
  return true;
}

bool to_u64(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool to_i64(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool to_double(std::string_view text, double* out) {
  if (text.empty()) return false;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), *out, std::chars_format::fixed);
  // The kernel never writes inf/nan; accepting them would let a broken file
  // put them into a gauge unnoticed.
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(*out);
}

}  // namespace edgemon::collect::scan
