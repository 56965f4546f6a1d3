// Per-client token buckets with an injected clock.
#include "http/rate_limiter.hpp"

// cmocka last: its fail() macro breaks later standard headers.
#include "cmocka_all.hpp"

using edgemon::IpAddress;
using edgemon::http::RateLimiter;

namespace {

IpAddress ip(const char* text) {
  IpAddress a;
  if (!IpAddress::parse(text, &a)) fail_msg("bad address %s", text);
  return a;
}

void burst_then_refill(void**) {
  RateLimiter limiter(2, 3);  // 2/s, 3 at once
  IpAddress client = ip("192.0.2.1");
  uint64_t now = 1000;
  for (int i = 0; i < 3; ++i)
    assert_int_equal(limiter.acquire(client, now), 0);
  // Empty: one token takes 500 ms at 2/s.
  assert_int_equal(limiter.acquire(client, now), 500);
  assert_int_equal(limiter.acquire(client, now + 499), 1);
  assert_int_equal(limiter.acquire(client, now + 500), 0);
  assert_true(limiter.acquire(client, now + 500) > 0);
  // A long pause refills only up to the burst.
  now += 60000;
  for (int i = 0; i < 3; ++i)
    assert_int_equal(limiter.acquire(client, now), 0);
  assert_true(limiter.acquire(client, now) > 0);
}

void steady_rate_is_allowed(void**) {
  RateLimiter limiter(5, 1);
  IpAddress client = ip("192.0.2.1");
  for (uint64_t t = 0; t < 10000; t += 200)
    assert_int_equal(limiter.acquire(client, t), 0);
  // Faster than the rate is not.
  assert_true(limiter.acquire(client, 9900) > 0);
}

void clients_are_isolated(void**) {
  RateLimiter limiter(1, 2);
  IpAddress a = ip("192.0.2.1");
  IpAddress b = ip("192.0.2.2");
  assert_int_equal(limiter.acquire(a, 0), 0);
  assert_int_equal(limiter.acquire(a, 0), 0);
  assert_true(limiter.acquire(a, 0) > 0);
  assert_int_equal(limiter.acquire(b, 0), 0);
  assert_int_equal(limiter.acquire(b, 0), 0);
  assert_true(limiter.acquire(b, 0) > 0);
  assert_int_equal(limiter.tracked_clients(), 2);
}

void ipv6_clients_share_their_64(void**) {
  RateLimiter limiter(1, 1);
  assert_int_equal(limiter.acquire(ip("2001:db8:1:2::1"), 0), 0);
  assert_true(limiter.acquire(ip("2001:db8:1:2::ffff"), 0) > 0);
  assert_int_equal(limiter.acquire(ip("2001:db8:1:3::1"), 0), 0);
}

void zero_rate_is_unlimited(void**) {
  RateLimiter limiter(0, 0);
  for (int i = 0; i < 10000; ++i)
    assert_int_equal(limiter.acquire(ip("192.0.2.9"), 0), 0);
  assert_int_equal(limiter.tracked_clients(), 0);
}

void table_is_bounded(void**) {
  RateLimiter limiter(1, 5, 64);
  IpAddress client;
  client.family = AF_INET;
  client.bytes = {10, 0, 0, 0};
  // All at the same instant: every bucket is partly used, so room is made by
  // dropping the least recently seen.
  for (uint32_t i = 0; i < 10000; ++i) {
    client.bytes[2] = static_cast<uint8_t>(i >> 8);
    client.bytes[3] = static_cast<uint8_t>(i);
    assert_int_equal(limiter.acquire(client, 0), 0);
    assert_true(limiter.tracked_clients() <= 64);
  }
  assert_int_equal(limiter.tracked_clients(), 64);
}

void limited_client_survives_eviction_of_idle_ones(void**) {
  RateLimiter limiter(1, 1, 4);
  IpAddress hot = ip("192.0.2.1");
  assert_int_equal(limiter.acquire(hot, 0), 0);
  assert_int_equal(limiter.acquire(ip("192.0.2.2"), 0), 0);
  assert_int_equal(limiter.acquire(ip("192.0.2.3"), 0), 0);
  assert_int_equal(limiter.acquire(ip("192.0.2.4"), 0), 0);
  // The table is full of partly used buckets; the least recently seen goes.
  assert_int_equal(limiter.acquire(hot, 500), 500);
  assert_int_equal(limiter.acquire(ip("192.0.2.5"), 500), 0);
  assert_int_equal(limiter.tracked_clients(), 4);
  // The hot client was seen last, so it was kept and is still limited.
  assert_true(limiter.acquire(hot, 600) > 0);
  // Later, buckets that refilled completely are dropped before anyone else.
  assert_int_equal(limiter.acquire(ip("192.0.2.6"), 5000), 0);
  assert_int_equal(limiter.tracked_clients(), 1);
}

void reconfigure_keeps_state(void**) {
  RateLimiter limiter(1, 2);
  IpAddress client = ip("192.0.2.1");
  assert_int_equal(limiter.acquire(client, 0), 0);
  assert_int_equal(limiter.acquire(client, 0), 0);
  limiter.configure(1, 10);
  assert_true(limiter.acquire(client, 0) > 0);
  limiter.configure(0, 0);
  assert_int_equal(limiter.acquire(client, 0), 0);
}

}  // namespace

int main() {
  const CMUnitTest tests[] = {
      cmocka_unit_test(burst_then_refill),
      cmocka_unit_test(steady_rate_is_allowed),
      cmocka_unit_test(clients_are_isolated),
      cmocka_unit_test(ipv6_clients_share_their_64),
      cmocka_unit_test(zero_rate_is_unlimited),
      cmocka_unit_test(table_is_bounded),
      cmocka_unit_test(limited_client_survives_eviction_of_idle_ones),
      cmocka_unit_test(reconfigure_keeps_state),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
