#pragma once
// The mount table, from /proc/self/mountinfo or (older kernels, the
// reference fixtures) /proc/mounts. Paths in both are octal-escaped:
// "\040" space, "\011" tab, "\012" newline, "\134" backslash.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgemon::collect {

struct MountEntry {
  std::string device;  // mount source, e.g. /dev/nvme0n1p1 or tmpfs
  std::string mount_point;
  std::string fstype;
  bool read_only = false;  // "ro" among the mount or superblock options
  bool has_devno = false;  // only mountinfo gives major:minor
  uint32_t major = 0;
  uint32_t minor = 0;
};

// Both fill *out in file order, reusing its elements (and their strings'
// capacity) so a collector re-reading the table allocates nothing in the
// steady state. Malformed lines are left out; the return value is "" or the
// first of them.
std::string parse_mountinfo(std::string_view text, std::vector<MountEntry>* out);
std::string parse_mounts(std::string_view text, std::vector<MountEntry>* out);

// Decodes the kernel's octal escapes ("\ooo"); any other backslash stays.
void decode_mount_escapes(std::string_view text, std::string* out);

// True if the comma-separated `options` contain exactly "ro".
bool has_ro_option(std::string_view options);

}  // namespace edgemon::collect
