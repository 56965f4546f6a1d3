#include "sources/host/parse/mounts.hpp"

#include "sources/host/parse/scan.hpp"

namespace edgemon::collect {
namespace {

bool is_octal(char c) {
  return c >= '0' && c <= '7';
}

bool to_u32(std::string_view text, uint32_t* out) {
  uint64_t v = 0;
  if (!scan::to_u64(text, &v) || v > UINT32_MAX) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

// Fields: id parent major:minor root mount_point options [optional...] - fstype
// source super_options
bool parse_mountinfo_line(std::string_view line, MountEntry* m) {
  std::string_view id, parent, devno, root, point, options, field;
  if (!scan::next_field(&line, &id) || !scan::next_field(&line, &parent) ||
      !scan::next_field(&line, &devno) || !scan::next_field(&line, &root) ||
      !scan::next_field(&line, &point) || !scan::next_field(&line, &options))
    return false;
  size_t colon = devno.find(':');
  if (colon == std::string_view::npos || !to_u32(devno.substr(0, colon), &m->major) ||
      !to_u32(devno.substr(colon + 1), &m->minor))
    return false;
  do {
    if (!scan::next_field(&line, &field)) return false;
  } while (field != "-");
  std::string_view fstype, source, super_options;
  if (!scan::next_field(&line, &fstype) || !scan::next_field(&line, &source)) return false;
  scan::next_field(&line, &super_options);  // absent on some old kernels
  decode_mount_escapes(point, &m->mount_point);
  decode_mount_escapes(fstype, &m->fstype);
  decode_mount_escapes(source, &m->device);
  m->read_only = has_ro_option(options) || has_ro_option(super_options);
  m->has_devno = true;
  return true;
}

// Fields: device mount_point fstype options dump pass
bool parse_mounts_line(std::string_view line, MountEntry* m) {
  std::string_view device, point, fstype, options;
  if (!scan::next_field(&line, &device) || !scan::next_field(&line, &point) ||
      !scan::next_field(&line, &fstype) || !scan::next_field(&line, &options))
    return false;
  decode_mount_escapes(device, &m->device);
  decode_mount_escapes(point, &m->mount_point);
  decode_mount_escapes(fstype, &m->fstype);
  m->read_only = has_ro_option(options);
  m->has_devno = false;
  m->major = m->minor = 0;
  return true;
}

template <class LineParser>
std::string parse_table(std::string_view text, std::vector<MountEntry>* out, LineParser parse) {
  // Entries are parsed in place to reuse their strings' storage.
  size_t used = 0;
  std::string error = scan::parse_lines(text, "malformed mount entry", [&](std::string_view line) {
    if (used == out->size()) out->emplace_back();
    if (!parse(line, &(*out)[used])) return false;
    ++used;
    return true;
  });
  out->resize(used);
  return error;
}

}  // namespace

void decode_mount_escapes(std::string_view text, std::string* out) {
  out->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && is_octal(text[i + 1]) && is_octal(text[i + 2]) &&
        is_octal(text[i + 3])) {
      int v = (text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0');
      out->push_back(static_cast<char>(v & 0xff));
      i += 3;
    } else {
      out->push_back(text[i]);
    }
  }
}

bool has_ro_option(std::string_view options) {
  while (!options.empty()) {
    size_t comma = options.find(',');
    std::string_view opt = options.substr(0, comma);
    if (opt == "ro") return true;
    if (comma == std::string_view::npos) break;
    options.remove_prefix(comma + 1);
  }
  return false;
}

std::string parse_mountinfo(std::string_view text, std::vector<MountEntry>* out) {
  return parse_table(text, out, parse_mountinfo_line);
}

std::string parse_mounts(std::string_view text, std::vector<MountEntry>* out) {
  return parse_table(text, out, parse_mounts_line);
}

}  // namespace edgemon::collect
