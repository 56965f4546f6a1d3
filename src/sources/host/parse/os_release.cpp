#include "sources/host/parse/os_release.hpp"

#include "sources/host/parse/scan.hpp"

namespace edgemon::collect {

const std::array<std::string_view, kOsFieldCount> kOsLabelNames = {
    "build_id",    "id",      "id_like",    "image_id", "image_version",    "name",
    "pretty_name", "variant", "variant_id", "version",  "version_codename", "version_id",
};

namespace {

constexpr std::array<std::string_view, kOsFieldCount> kOsKeys = {
    "BUILD_ID",    "ID",      "ID_LIKE",    "IMAGE_ID", "IMAGE_VERSION",    "NAME",
    "PRETTY_NAME", "VARIANT", "VARIANT_ID", "VERSION",  "VERSION_CODENAME", "VERSION_ID",
};

bool is_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool valid_key(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key)
    if (!is_key_char(c)) return false;
  return true;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

bool unquote_shell_value(std::string_view raw, std::string* out) {
  out->clear();
  enum { kBare, kDouble, kSingle } state = kBare;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (state == kSingle) {
      if (c == '\'')
        state = kBare;
      else
        out->push_back(c);
    } else if (state == kDouble) {
      if (c == '"') {
        state = kBare;
      } else if (c == '\\' && i + 1 < raw.size() &&
                 std::string_view("$`\"\\").find(raw[i + 1]) != std::string_view::npos) {
        out->push_back(raw[++i]);
      } else {
        out->push_back(c);
      }
    } else if (c == '"') {
      state = kDouble;
    } else if (c == '\'') {
      state = kSingle;
    } else if (c == '\\') {
      if (i + 1 == raw.size()) return false;
      out->push_back(raw[++i]);
    } else if (c == ' ' || c == '\t') {
      return false;  // an unquoted blank would split the shell word
    } else {
      out->push_back(c);
    }
  }
  return state == kBare;
}

std::string parse_os_release(std::string_view text, OsRelease* out) {
  for (std::string& v : out->values)
    v.clear();
  std::string error;
  std::string value;
  std::string_view line;
  size_t line_no = 0;
  while (scan::next_line(&text, &line)) {
    ++line_no;
    line = scan::trim(line);
    if (line.empty() || line[0] == '#') continue;
    size_t eq = line.find('=');
    std::string_view key = line.substr(0, eq == std::string_view::npos ? 0 : eq);
    if (eq == std::string_view::npos || !valid_key(key) ||
        !unquote_shell_value(line.substr(eq + 1), &value)) {
      if (error.empty()) error = "line " + std::to_string(line_no) + ": expected KEY=value";
      continue;
    }
    for (size_t i = 0; i < kOsFieldCount; ++i) {
      if (kOsKeys[i] == key) out->values[i] = value;
    }
  }
  return error;
}

bool os_version_number(std::string_view version_id, double* out) {
  size_t end = 0;
  while (end < version_id.size() && is_digit(version_id[end]))
    ++end;
  if (end == 0) return false;
  if (end < version_id.size() && version_id[end] == '.') {
    ++end;
    while (end < version_id.size() && is_digit(version_id[end]))
      ++end;
  }
  std::string_view number = version_id.substr(0, end);
  if (number.back() == '.') number.remove_suffix(1);
  return scan::to_double(number, out);
}

}  // namespace edgemon::collect
