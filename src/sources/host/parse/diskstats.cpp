#include "sources/host/parse/diskstats.hpp"

#include "sources/host/parse/scan.hpp"

namespace edgemon::collect {
namespace {

bool to_u32(std::string_view text, uint32_t* out) {
  uint64_t v = 0;
  if (!scan::to_u64(text, &v) || v > UINT32_MAX) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

bool parse_line(std::string_view line, DiskStats* d) {
  std::string_view major, minor, field;
  if (!scan::next_field(&line, &major) || !scan::next_field(&line, &minor) ||
      !scan::next_field(&line, &d->name))
    return false;
  if (!to_u32(major, &d->major) || !to_u32(minor, &d->minor)) return false;
  d->count = 0;
  while (scan::next_field(&line, &field)) {
    uint64_t v = 0;
    if (!scan::to_u64(field, &v)) return false;
    if (d->count < kDiskFieldCount) d->values[d->count++] = v;
  }
  return d->count >= kDiskDiscards;
}

}  // namespace

std::string parse_diskstats(std::string_view text, std::vector<DiskStats>* out) {
  out->clear();
  return scan::parse_lines(text, "expected major, minor, name and at least 11 counters",
                           [out](std::string_view line) {
                             DiskStats d;
                             if (!parse_line(line, &d)) return false;
                             out->push_back(d);
                             return true;
                           });
}

}  // namespace edgemon::collect
