#pragma once
// /proc/diskstats (Documentation/admin-guide/iostats.rst): major, minor,
// name, then 11 counters, 15 with discards (4.18+), 17 with flushes (5.5+).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgemon::collect {

enum DiskField : size_t {
  kDiskReads,
  kDiskReadsMerged,
  kDiskSectorsRead,  // 512-byte units whatever the device's sector size
  kDiskReadMs,
  kDiskWrites,
  kDiskWritesMerged,
  kDiskSectorsWritten,
  kDiskWriteMs,
  kDiskIosInProgress,
  kDiskIoMs,
  kDiskWeightedIoMs,
  kDiskDiscards,
  kDiskDiscardsMerged,
  kDiskSectorsDiscarded,
  kDiskDiscardMs,
  kDiskFlushes,
  kDiskFlushMs,
  kDiskFieldCount
};

struct DiskStats {
  uint32_t major = 0;
  uint32_t minor = 0;
  std::string_view name;  // points into the parsed text
  std::array<uint64_t, kDiskFieldCount> values{};
  size_t count = 0;  // how many of `values` the kernel wrote: 11, 15 or 17
};

// Fills *out in file order (reusing its capacity). Lines with fewer than 11
// counters or a non-numeric field are skipped and reported: the return value
// is "" or the first malformed line. Columns beyond the 17 known are ignored.
std::string parse_diskstats(std::string_view text, std::vector<DiskStats>* out);

}  // namespace edgemon::collect
