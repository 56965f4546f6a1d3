// Every procfs/sysfs parser on arbitrary bytes. The first byte picks the
// parser, the rest is the file; the seed corpus has one file per fixture.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sources/host/parse/cpu_usage.hpp"
#include "sources/host/parse/diskstats.hpp"
#include "sources/host/parse/file_nr.hpp"
#include "sources/host/parse/loadavg.hpp"
#include "sources/host/parse/meminfo.hpp"
#include "sources/host/parse/mounts.hpp"
#include "sources/host/parse/net_dev.hpp"
#include "sources/host/parse/os_release.hpp"
#include "sources/host/parse/proc_pid.hpp"
#include "sources/host/parse/proc_stat.hpp"
#include "sources/host/parse/uptime.hpp"

using namespace edgemon::collect;

namespace {

volatile size_t sink;

// Reads every byte of a parsed view so a dangling one shows under ASan.
void touch(std::string_view s) {
  for (char c : s)
    sink = sink + static_cast<unsigned char>(c);
}

void fuzz_proc_stat(std::string_view text) {
  ProcStat a;
  parse_proc_stat(text, &a);
  // Also as the second sample of a pair, for the usage arithmetic.
  ProcStat b;
  parse_proc_stat(text.substr(text.size() / 2), &b);
  if (a.total && b.total) {
    double r = cpu_usage_ratio(*a.total, *b.total);
    if (!(r >= 0 && r <= 1)) __builtin_trap();
  }
  for (size_t i = 0; i < a.cpus.size() && i < b.cpus.size(); ++i) {
    double r = cpu_usage_ratio(a.cpus[i].ticks, b.cpus[i].ticks);
    if (!(r >= 0 && r <= 1)) __builtin_trap();
  }
}

void fuzz_meminfo(std::string_view text) {
  std::vector<MeminfoField> fields;
  parse_meminfo(text, &fields);
  std::string name;
  for (const MeminfoField& f : fields) {
    touch(f.key);
    append_meminfo_metric_key(f.key, &name);
  }
  find_meminfo(fields, "MemTotal");
}

void fuzz_diskstats(std::string_view text) {
  std::vector<DiskStats> disks;
  parse_diskstats(text, &disks);
  for (const DiskStats& d : disks) {
    touch(d.name);
    if (d.count > kDiskFieldCount) __builtin_trap();
  }
}

void fuzz_net_dev(std::string_view text) {
  std::vector<NetDevStats> devs;
  parse_net_dev(text, &devs);
  for (const NetDevStats& d : devs)
    touch(d.name);
}

void fuzz_mounts(std::string_view text, bool mountinfo) {
  std::vector<MountEntry> mounts;
  if (mountinfo) {
    parse_mountinfo(text, &mounts);
  } else {
    parse_mounts(text, &mounts);
  }
  // And again into the same vector, as the collector reuses it.
  if (mountinfo) {
    parse_mountinfo(text.substr(text.size() / 3), &mounts);
  } else {
    parse_mounts(text.substr(text.size() / 3), &mounts);
  }
}

void fuzz_small_files(std::string_view text) {
  Loadavg l;
  parse_loadavg(text, &l);
  Uptime u;
  parse_uptime(text, &u);
  FileNr f;
  parse_file_nr(text, &f);
}

void fuzz_os_release(std::string_view text) {
  OsRelease os;
  parse_os_release(text, &os);
  double v = 0;
  os_version_number(os.values[kOsVersionId], &v);
  os_version_number(text, &v);
  std::string out;
  unquote_shell_value(text, &out);
}

void fuzz_proc_pid(std::string_view text) {
  uint64_t v = 0;
  parse_status_bytes(text, "VmRSS", &v);
  parse_pid_stat_starttime(text, &v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // Copied so that reading one byte past the end is caught by ASan.
  std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string_view text = input;
  switch (data[0] % 10) {
    case 0:
      fuzz_proc_stat(text);
      break;
    case 1:
      fuzz_meminfo(text);
      break;
    case 2:
      fuzz_diskstats(text);
      break;
    case 3:
      fuzz_net_dev(text);
      break;
    case 4:
      fuzz_mounts(text, false);
      break;
    case 5:
      fuzz_mounts(text, true);
      break;
    case 6:
      fuzz_small_files(text);
      break;
    case 7:
      fuzz_os_release(text);
      break;
    case 8:
      fuzz_proc_pid(text);
      break;
    case 9:
      fuzz_small_files(text);
      fuzz_proc_pid(text);
      break;
  }
  return 0;
}
