// Access rules per route group: allowlist, rate limit, bearer tokens.
#include <arpa/inet.h>

#include <cstring>

#include "http/access.hpp"

// cmocka last: its fail() macro breaks later standard headers.
#include "cmocka_all.hpp"

using edgemon::IpAddress;
using namespace edgemon::http;
namespace config = edgemon::config;

namespace {

IpAddress ip(const char* text) {
  IpAddress a;
  if (!IpAddress::parse(text, &a)) fail_msg("bad address %s", text);
  return a;
}

config::AccessSection open_section() {
  config::AccessSection s;
  s.read = {{"0.0.0.0/0", "::/0"}, 0, 0, {}};
  s.write = {{"0.0.0.0/0", "::/0"}, 0, 0, {"s3cret-token"}};
  return s;
}

void allowlist_v4_v6_and_mapped(void**) {
  config::AccessSection s = open_section();
  s.read.allow = {"10.0.0.0/8", "fd00::/8"};
  AccessControl access;
  assert_string_equal(access.configure(s).c_str(), "");
  assert_int_equal(access.check(Group::kRead, ip("10.1.2.3"), nullptr, 0).status, 0);
  assert_int_equal(access.check(Group::kRead, ip("fd12::1"), nullptr, 0).status, 0);
  AccessDecision denied = access.check(Group::kRead, ip("192.0.2.1"), nullptr, 0);
  assert_int_equal(denied.status, 403);
  assert_string_equal(std::string(denied.reason).c_str(), "forbidden");
  assert_int_equal(access.check(Group::kRead, ip("fe80::1"), nullptr, 0).status, 403);
  // An IPv4 client seen through a dual-stack socket (::ffff:10.1.2.3).
  assert_int_equal(access.check(Group::kRead, ip("::ffff:10.1.2.3"), nullptr, 0).status, 0);
  assert_int_equal(access.check(Group::kRead, ip("::ffff:192.0.2.1"), nullptr, 0).status, 403);
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:10.9.9.9", &sa.sin6_addr);
  IpAddress mapped = IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&sa));
  assert_int_equal(access.check(Group::kRead, mapped, nullptr, 0).status, 0);
}

void empty_allowlist_allows_nobody(void**) {
  config::AccessSection s = open_section();
  s.read.allow = {};
  AccessControl access;
  assert_string_equal(access.configure(s).c_str(), "");
  assert_int_equal(access.check(Group::kRead, ip("127.0.0.1"), nullptr, 0).status, 403);
}

void defaults_open_reads_and_disable_writes(void**) {
  AccessControl access;
  assert_string_equal(access.configure(config::AccessSection{}).c_str(), "");
  assert_int_equal(access.check(Group::kRead, ip("192.0.2.1"), nullptr, 0).status, 0);
  std::string header = "Bearer anything";
  AccessDecision d = access.check(Group::kWrite, ip("127.0.0.1"), &header, 0);
  assert_int_equal(d.status, 403);
  assert_string_equal(d.message.c_str(), "write API disabled: set http.access.write.tokens");
  // Writes are limited to loopback by default.
  assert_int_equal(access.check(Group::kWrite, ip("192.0.2.1"), nullptr, 0).status, 403);
}

void bearer_tokens(void**) {
  AccessControl access;
  assert_string_equal(access.configure(open_section()).c_str(), "");
  IpAddress client = ip("127.0.0.1");
  std::string good = "Bearer s3cret-token";
  std::string lower_scheme = "bearer   s3cret-token";
  std::string wrong = "Bearer s3cret-tokem";
  std::string prefix = "Bearer s3cret";
  std::string basic = "Basic czNjcmV0LXRva2Vu";
  std::string empty = "Bearer ";
  assert_int_equal(access.check(Group::kWrite, client, &good, 0).status, 0);
  assert_int_equal(access.check(Group::kWrite, client, &lower_scheme, 0).status, 0);
  AccessDecision d = access.check(Group::kWrite, client, &wrong, 0);
  assert_int_equal(d.status, 401);
  assert_string_equal(std::string(d.reason).c_str(), "unauthorized");
  assert_string_equal(d.message.c_str(), "invalid bearer token");
  assert_int_equal(access.check(Group::kWrite, client, &prefix, 0).status, 401);
  d = access.check(Group::kWrite, client, nullptr, 0);
  assert_int_equal(d.status, 401);
  assert_string_equal(d.message.c_str(), "missing bearer token");
  d = access.check(Group::kWrite, client, &basic, 0);
  assert_int_equal(d.status, 401);
  assert_contains(d.message, "malformed");
  assert_int_equal(access.check(Group::kWrite, client, &empty, 0).status, 401);
  // The 401 response tells the client which scheme to use.
  Response r = d.response();
  assert_int_equal(r.status, 401);
  bool found = false;
  for (const auto& [name, value] : r.headers) {
    found = found || (name == "WWW-Authenticate" && value.rfind("Bearer", 0) == 0);
  }
  assert_true(found);
  // Reads need no token unless the read group lists some.
  assert_int_equal(access.check(Group::kRead, client, nullptr, 0).status, 0);
}

void read_group_with_tokens_needs_one(void**) {
  config::AccessSection s = open_section();
  s.read.tokens = {"reader"};
  AccessControl access;
  assert_string_equal(access.configure(s).c_str(), "");
  std::string good = "Bearer reader";
  assert_int_equal(access.check(Group::kRead, ip("127.0.0.1"), nullptr, 0).status, 401);
  assert_int_equal(access.check(Group::kRead, ip("127.0.0.1"), &good, 0).status, 0);
}

void token_comparison_is_exact(void**) {
  assert_true(constant_time_equal("secret", "secret"));
  assert_false(constant_time_equal("secre", "secret"));
  assert_false(constant_time_equal("secrets", "secret"));
  assert_false(constant_time_equal("secretsecret", "secret"));  // wraps over the secret
  assert_false(constant_time_equal("", "secret"));
  assert_false(constant_time_equal("", ""));
  assert_false(token_matches("x", {}));
  assert_true(token_matches("b", {"a", "b", "c"}));
  AccessControl access;
  config::AccessSection s = open_section();
  s.write.tokens = {"one", "two"};
  assert_string_equal(access.configure(s).c_str(), "");
  std::string two = "Bearer two";
  std::string three = "Bearer three";
  assert_int_equal(access.check(Group::kWrite, ip("::1"), &two, 0).status, 0);
  assert_int_equal(access.check(Group::kWrite, ip("::1"), &three, 0).status, 401);
}

void rate_limit_before_token_check(void**) {
  config::AccessSection s = open_section();
  s.write.rate = 1;
  s.write.burst = 2;
  AccessControl access;
  assert_string_equal(access.configure(s).c_str(), "");
  IpAddress client = ip("127.0.0.1");
  std::string wrong = "Bearer nope";
  assert_int_equal(access.check(Group::kWrite, client, &wrong, 1000).status, 401);
  assert_int_equal(access.check(Group::kWrite, client, &wrong, 1000).status, 401);
  // Guessing tokens spends the same budget as using them.
  AccessDecision d = access.check(Group::kWrite, client, &wrong, 1000);
  assert_int_equal(d.status, 429);
  assert_int_equal(d.retry_after_s, 1);
  Response r = d.response();
  assert_int_equal(r.headers.size(), 1);
  assert_string_equal(r.headers[0].first.c_str(), "Retry-After");
  assert_string_equal(r.headers[0].second.c_str(), "1");
  // Other groups have their own buckets.
  assert_int_equal(access.check(Group::kRead, client, nullptr, 1000).status, 0);
  // And the allowlist comes first: a refused network is told 403, not 429.
  s.write.allow = {"10.0.0.0/8"};
  assert_string_equal(access.configure(s).c_str(), "");
  assert_int_equal(access.check(Group::kWrite, client, &wrong, 1000).status, 403);
}

void invalid_cidr_keeps_previous_rules(void**) {
  AccessControl access;
  config::AccessSection s = open_section();
  s.read.allow = {"10.0.0.0/8"};
  assert_string_equal(access.configure(s).c_str(), "");
  s.read.allow = {"10.0.0.1/8"};
  assert_string_not_equal(access.configure(s).c_str(), "");
  assert_int_equal(access.check(Group::kRead, ip("10.0.0.7"), nullptr, 0).status, 0);
  assert_int_equal(access.check(Group::kRead, ip("192.0.2.7"), nullptr, 0).status, 403);
}

}  // namespace

int main() {
  const CMUnitTest tests[] = {
      cmocka_unit_test(allowlist_v4_v6_and_mapped),
      cmocka_unit_test(empty_allowlist_allows_nobody),
      cmocka_unit_test(defaults_open_reads_and_disable_writes),
      cmocka_unit_test(bearer_tokens),
      cmocka_unit_test(read_group_with_tokens_needs_one),
      cmocka_unit_test(token_comparison_is_exact),
      cmocka_unit_test(rate_limit_before_token_check),
      cmocka_unit_test(invalid_cidr_keeps_previous_rules),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
