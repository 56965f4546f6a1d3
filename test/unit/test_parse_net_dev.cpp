// /proc/net/dev, including counters glued to the interface name's colon.
#include "cmocka_all.hpp"
#include "core/read_file.hpp"
#include "sources/host/parse/net_dev.hpp"

using namespace edgemon::collect;

namespace {

void parses_fixture(void**) {
  std::string text;
  assert_string_equal(edgemon::read_file(EDGEMON_FIXTURES "/host/proc/net/dev", &text).c_str(), "");
  std::vector<NetDevStats> devs;
  assert_string_equal(parse_net_dev(text, &devs).c_str(), "");
  assert_int_equal(devs.size(), 5);
  const char* names[] = {"lo", "eth0", "docker0", "veth3f2a1b0", "wlan0"};
  for (size_t i = 0; i < 5; ++i)
    assert_true(devs[i].name == names[i]);
  const NetDevStats& eth0 = devs[1];  // "eth0:1234567890": no blank after the colon
  assert_int_equal(eth0.values[kRxBytes], 1234567890);
  assert_int_equal(eth0.values[kRxPackets], 9876543);
  assert_int_equal(eth0.values[kRxDrop], 12);
  assert_int_equal(eth0.values[kRxMulticast], 4321);
  assert_int_equal(eth0.values[kTxBytes], 987654321);
  assert_int_equal(eth0.values[kTxPackets], 7654321);
  assert_int_equal(devs[4].values[kRxMulticast], 12);
  assert_int_equal(devs[4].values[kTxPackets], 2345);
}

void malformed_lines_are_reported_and_skipped(void**) {
  std::vector<NetDevStats> d;
  assert_string_equal(parse_net_dev("", &d).c_str(), "");
  assert_int_equal(d.size(), 0);
  std::string err = parse_net_dev(
      "Inter-|   Receive\n"
      " face |bytes\n"
      "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"        // 15 counters
      "  eth1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"     // fine
      "  eth2: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n"  // 17
      "  eth3 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"      // no colon
      "  : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"         // no name
      "  eth4: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x\n",
      &d);
  assert_contains(err, "line 3:");
  assert_int_equal(d.size(), 1);
  assert_true(d[0].name == "eth1");
  assert_int_equal(d[0].values[kTxCompressed], 16);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parses_fixture),
      cmocka_unit_test(malformed_lines_are_reported_and_skipped),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
