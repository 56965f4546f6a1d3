// /proc/diskstats with 14, 18 and 20 (and more) columns.
#include "cmocka_all.hpp"
#include "core/read_file.hpp"
#include "sources/host/parse/diskstats.hpp"

using namespace edgemon::collect;

namespace {

// The names in *disks point into *text.
void parse_fixture(const char* path, std::string* text, std::vector<DiskStats>* disks) {
  assert_string_equal(edgemon::read_file(std::string(EDGEMON_FIXTURES) + path, text).c_str(), "");
  assert_string_equal(parse_diskstats(*text, disks).c_str(), "");
}

void parses_reference_fixture(void**) {
  std::string text;
  std::vector<DiskStats> disks;
  parse_fixture("/host/proc/diskstats", &text, &disks);
  assert_int_equal(disks.size(), 6);
  const DiskStats& nvme = disks[3];
  assert_true(nvme.name == "nvme0n1");
  assert_int_equal(nvme.major, 259);
  assert_int_equal(nvme.minor, 0);
  assert_int_equal(nvme.count, 17);
  assert_int_equal(nvme.values[kDiskSectorsRead] * 512, 63209875968ULL);
  assert_int_equal(nvme.values[kDiskSectorsWritten] * 512, 50567901184ULL);
  assert_int_equal(nvme.values[kDiskIosInProgress], 2);
  assert_int_equal(nvme.values[kDiskDiscards], 1234);
  assert_int_equal(nvme.values[kDiskFlushMs], 3456);
  const DiskStats& mmc = disks[1];
  assert_true(mmc.name == "mmcblk0");
  assert_int_equal(mmc.values[kDiskSectorsRead] * 512, 10928987136ULL);
  assert_int_equal(mmc.values[kDiskSectorsWritten] * 512, 5056790016ULL);
}

void column_counts_of_kernel_versions(void**) {
  std::string text;
  std::vector<DiskStats> disks;
  parse_fixture("/host/parse/diskstats_columns", &text, &disks);
  assert_int_equal(disks.size(), 4);
  assert_true(disks[0].name == "sda");
  assert_int_equal(disks[0].count, 11);  // before 4.18
  assert_int_equal(disks[0].values[kDiskWeightedIoMs], 7000);
  assert_int_equal(disks[1].count, 15);  // 4.18 .. 5.4: discards
  assert_int_equal(disks[1].values[kDiskSectorsDiscarded], 800);
  assert_int_equal(disks[2].count, 17);  // 5.5+: flushes
  assert_int_equal(disks[2].values[kDiskFlushes], 12345);
  assert_int_equal(disks[3].count, 17);  // columns from a future kernel are ignored
  assert_int_equal(disks[3].values[kDiskFlushMs], 0);
}

void malformed_lines_are_reported_and_skipped(void**) {
  std::vector<DiskStats> d;
  assert_string_equal(parse_diskstats("", &d).c_str(), "");
  assert_int_equal(d.size(), 0);
  std::string err = parse_diskstats(
      "8 0 sda 1 2 3 4 5 6 7 8 9 10\n"        // 10 counters: too few
      "8 16 sdb 1 2 3 4 5 6 7 8 9 10 11\n"    // fine
      "8 32 sdc 1 2 3 4 5 6 7 8 9 10 x\n"     // not a number
      "x 48 sdd 1 2 3 4 5 6 7 8 9 10 11\n"    // bad major
      "8\n"                                   // truncated
      "8 64 sde 1 2 3 4 5 6 7 8 9 10 -11\n",  // negative
      &d);
  assert_contains(err, "line 1:");
  assert_int_equal(d.size(), 1);
  assert_true(d[0].name == "sdb");
  assert_int_equal(d[0].values[kDiskWeightedIoMs], 11);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parses_reference_fixture),
      cmocka_unit_test(column_counts_of_kernel_versions),
      cmocka_unit_test(malformed_lines_are_reported_and_skipped),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
