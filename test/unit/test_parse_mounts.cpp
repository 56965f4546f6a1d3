// The mount table: /proc/mounts and /proc/self/mountinfo, octal escapes.
#include "cmocka_all.hpp"
#include "core/read_file.hpp"
#include "sources/host/parse/mounts.hpp"

using namespace edgemon::collect;

namespace {

std::string fixture(const char* path) {
  std::string text;
  assert_string_equal(edgemon::read_file(std::string(EDGEMON_FIXTURES) + path, &text).c_str(), "");
  return text;
}

void mounts_fixture(void**) {
  std::vector<MountEntry> m;
  assert_string_equal(parse_mounts(fixture("/host/proc/mounts"), &m).c_str(), "");
  assert_int_equal(m.size(), 11);
  assert_string_equal(m[0].device.c_str(), "/dev/nvme0n1p1");
  assert_string_equal(m[0].mount_point.c_str(), "/");
  assert_string_equal(m[0].fstype.c_str(), "ext4");
  assert_false(m[0].read_only);
  assert_false(m[0].has_devno);
  assert_string_equal(m[6].mount_point.c_str(), "/media/sd card");  // "\040"
  assert_string_equal(m[6].fstype.c_str(), "vfat");
  assert_string_equal(m[8].mount_point.c_str(), "/var/lib/docker");
  assert_string_equal(m[8].device.c_str(), "/dev/nvme0n1p1");
  assert_true(m[10].read_only);  // squashfs "ro,nodev,relatime"
}

void mountinfo_fixture(void**) {
  std::vector<MountEntry> m;
  assert_string_equal(parse_mountinfo(fixture("/host/parse/mountinfo"), &m).c_str(), "");
  assert_int_equal(m.size(), 13);
  const MountEntry& root = m[3];
  assert_string_equal(root.mount_point.c_str(), "/");
  assert_string_equal(root.device.c_str(), "/dev/mmcblk0p2");
  assert_string_equal(root.fstype.c_str(), "ext4");
  assert_true(root.has_devno);
  assert_int_equal(root.major, 179);
  assert_int_equal(root.minor, 2);
  const MountEntry& usb = m[6];
  assert_string_equal(usb.mount_point.c_str(), "/media/usb stick");
  assert_true(usb.read_only);  // per-mount "ro"
  const MountEntry& bind = m[7];
  assert_string_equal(bind.mount_point.c_str(), "/var/lib/docker");
  assert_int_equal(bind.major, 179);
  assert_int_equal(bind.minor, 2);
  const MountEntry& nas = m[9];  // two optional fields before the separator
  assert_string_equal(nas.fstype.c_str(), "nfs4");
  assert_string_equal(nas.device.c_str(), "nas.local:/export");
  assert_true(m[11].read_only);  // superblock "ro"
  assert_string_equal(m[12].mount_point.c_str(), "/mnt/back\\slash\ttab");
}

void escapes(void**) {
  std::string out;
  decode_mount_escapes("a\\040b\\011c\\012d\\134e", &out);
  assert_string_equal(out.c_str(), "a b\tc\nd\\e");
  decode_mount_escapes("\\04", &out);  // truncated escape stays literal
  assert_string_equal(out.c_str(), "\\04");
  decode_mount_escapes("x\\", &out);
  assert_string_equal(out.c_str(), "x\\");
  decode_mount_escapes("\\089", &out);  // not octal
  assert_string_equal(out.c_str(), "\\089");
  assert_true(has_ro_option("ro"));
  assert_true(has_ro_option("nodev,ro,relatime"));
  assert_false(has_ro_option("rw,errors=remount-ro"));
  assert_false(has_ro_option(""));
}

void malformed_lines_are_reported_and_skipped(void**) {
  std::vector<MountEntry> m;
  assert_string_equal(parse_mounts("", &m).c_str(), "");
  assert_int_equal(m.size(), 0);
  std::string err = parse_mounts("/dev/sda1 /a\n/dev/sda2 /b ext4 rw 0 0\nx\n", &m);
  assert_contains(err, "line 1:");
  assert_int_equal(m.size(), 1);
  assert_string_equal(m[0].mount_point.c_str(), "/b");
  err = parse_mountinfo(
      "1 2 8:1 / /a rw - ext4 /dev/sda1 rw\n"
      "1 2 8:1 / /b rw ext4 /dev/sda1 rw\n"    // no separator
      "1 2 81 / /c rw - ext4 /dev/sda1 rw\n"   // no major:minor
      "1 2 8:x / /d rw - ext4 /dev/sda1 rw\n"  // bad minor
      "1 2 8:1 / /e rw -\n"                    // nothing after the separator
      "1 2 8:1 / /f rw - ext4 /dev/sda1\n",    // no super options: accepted
      &m);
  assert_contains(err, "line 2:");
  assert_int_equal(m.size(), 2);
  assert_string_equal(m[0].mount_point.c_str(), "/a");
  assert_string_equal(m[1].mount_point.c_str(), "/f");
}

void reuses_entries(void**) {
  std::vector<MountEntry> m;
  assert_string_equal(parse_mounts("a /x t rw 0 0\nb /y t rw 0 0\n", &m).c_str(), "");
  assert_int_equal(m.size(), 2);
  assert_string_equal(parse_mounts("c /z t ro 0 0\n", &m).c_str(), "");
  assert_int_equal(m.size(), 1);
  assert_string_equal(m[0].device.c_str(), "c");
  assert_true(m[0].read_only);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(mounts_fixture), cmocka_unit_test(mountinfo_fixture),
      cmocka_unit_test(escapes),        cmocka_unit_test(malformed_lines_are_reported_and_skipped),
      cmocka_unit_test(reuses_entries),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
