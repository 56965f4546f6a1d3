// CIDR matching and listen-address parsing.
#include <arpa/inet.h>

#include "cmocka_all.hpp"
#include "core/net_address.hpp"

using edgemon::CidrBlock;
using edgemon::IpAddress;
using edgemon::ListenAddress;

namespace {

IpAddress ip(const char* text) {
  IpAddress a;
  assert_true(IpAddress::parse(text, &a));
  return a;
}

CidrBlock cidr(const char* text) {
  CidrBlock b;
  std::string err = CidrBlock::parse(text, &b);
  if (!err.empty()) fail_msg("%s", err.c_str());
  return b;
}

void ipv4_prefixes_match(void**) {
  CidrBlock b = cidr("10.1.0.0/16");
  assert_true(b.contains(ip("10.1.255.3")));
  assert_false(b.contains(ip("10.2.0.1")));
  assert_true(cidr("0.0.0.0/0").contains(ip("203.0.113.9")));
  assert_true(cidr("192.168.1.7").contains(ip("192.168.1.7")));
  assert_false(cidr("192.168.1.7").contains(ip("192.168.1.8")));
  CidrBlock odd = cidr("172.16.0.0/12");
  assert_true(odd.contains(ip("172.31.255.255")));
  assert_false(odd.contains(ip("172.32.0.0")));
}

void ipv6_prefixes_match_and_families_do_not_mix(void**) {
  CidrBlock b = cidr("fd00::/8");
  assert_true(b.contains(ip("fd12:3456::1")));
  assert_false(b.contains(ip("fe80::1")));
  assert_true(cidr("::1/128").contains(ip("::1")));
  assert_false(cidr("::/0").contains(ip("127.0.0.1")));
  assert_false(cidr("0.0.0.0/0").contains(ip("::1")));
}

void mapped_ipv4_peers_match_ipv4_blocks(void**) {
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:127.0.0.1", &sa.sin6_addr);
  IpAddress peer = IpAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&sa));
  assert_int_equal(peer.family, AF_INET);
  assert_true(cidr("127.0.0.0/8").contains(peer));
  assert_string_equal(peer.to_string().c_str(), "127.0.0.1");
}

void bad_blocks_are_rejected(void**) {
  CidrBlock b;
  assert_contains(CidrBlock::parse("10.0.0.0/33", &b), "longer than 32");
  assert_contains(CidrBlock::parse("10.0.0.1/8", &b), "host bits set");
  assert_contains(CidrBlock::parse("10.0.0/8", &b), "invalid address");
  assert_contains(CidrBlock::parse("10.0.0.0/x", &b), "invalid prefix");
  assert_contains(CidrBlock::parse("", &b), "invalid address");
}

void listen_addresses_parse(void**) {
  ListenAddress l;
  assert_string_equal(ListenAddress::parse("127.0.0.1:9110", &l).c_str(), "");
  assert_int_equal(l.port, 9110);
  assert_string_equal(ListenAddress::parse("[::1]:0", &l).c_str(), "");
  assert_string_equal(l.host.c_str(), "::1");
  assert_string_equal(l.to_string().c_str(), "[::1]:0");
  assert_string_equal(ListenAddress::parse("localhost:80", &l).c_str(), "");
  assert_string_equal(l.host.c_str(), "127.0.0.1");
  assert_contains(ListenAddress::parse("127.0.0.1", &l), "expected HOST:PORT");
  assert_contains(ListenAddress::parse("127.0.0.1:70000", &l), "port must be 0-65535");
  assert_contains(ListenAddress::parse("example.com:80", &l), "not an IP address");
  assert_contains(ListenAddress::parse("[::1:80", &l), "expected [IPv6]:PORT");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ipv4_prefixes_match),
      cmocka_unit_test(ipv6_prefixes_match_and_families_do_not_mix),
      cmocka_unit_test(mapped_ipv4_peers_match_ipv4_blocks),
      cmocka_unit_test(bad_blocks_are_rejected),
      cmocka_unit_test(listen_addresses_parse),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
