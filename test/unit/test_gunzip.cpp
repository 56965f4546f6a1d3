// gunzip of ingest bodies: round trips with gzip_compress, the decoded-size
// cap (a zip bomb stops at the cap), corrupt and truncated data,
// concatenated members.
#include <sys/resource.h>

#include <cstdint>
#include <random>

#include "cmocka_all.hpp"
#include "core/gzip.hpp"

using namespace edgemon;

namespace {

std::string compress(std::string_view data, int level = 6) {
  std::string out;
  assert_true(gzip_compress(data, level, &out));
  return out;
}

// Incompressible bytes, so inflate has to produce output in many steps.
std::string noise(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s)
    c = static_cast<char>(rng());
  return s;
}

void round_trip(void**) {
  const std::string inputs[] = {
      "",
      "m v=1 1\n",
      std::string(5'000'000, 'x'),  // 5 MB from a few KB: many output steps
      noise(300'000, 1),
  };
  for (const std::string& in : inputs) {
    std::string out = "previous contents are replaced";
    assert_string_equal(gunzip(compress(in), 1u << 30, &out).c_str(), "");
    assert_int_equal(out.size(), in.size());
    assert_true(out == in);
  }
}

void exactly_at_the_cap_is_fine(void**) {
  const std::string in(100'000, 'a');
  std::string out;
  assert_string_equal(gunzip(compress(in), in.size(), &out).c_str(), "");
  assert_true(out == in);
  // An empty body with a zero cap is fine too.
  assert_string_equal(gunzip(compress(""), 0, &out).c_str(), "");
  assert_int_equal(out.size(), 0);
}

// Peak resident memory of this process so far, in bytes.
uint64_t peak_rss() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;
}

void cap_stops_a_zip_bomb(void**) {
  // 256 members of 16 MiB of zeros: 4 GiB from about 4 MB.
  const std::string member = compress(std::string(16u << 20, '\0'), 9);
  std::string bomb;
  for (int i = 0; i < 256; ++i)
    bomb += member;
  assert_true(bomb.size() < 8'000'000);
  const uint64_t peak_before = peak_rss();
  std::string out;
  assert_string_equal(gunzip(bomb, 1'000'000, &out).c_str(),
                      "decoded body is larger than 1000000 bytes");
  assert_int_equal(out.size(), 0);
  // Had it inflated past the cap, the peak would have grown by gigabytes.
  assert_true(peak_rss() - peak_before < 64u << 20);
  // One byte over is over.
  assert_string_equal(gunzip(compress("12345"), 4, &out).c_str(),
                      "decoded body is larger than 4 bytes");
  assert_string_equal(gunzip(compress("1"), 0, &out).c_str(),
                      "decoded body is larger than 0 bytes");
}

void not_gzip(void**) {
  std::string out;
  assert_string_equal(gunzip("", 1000, &out).c_str(), "not gzip data");
  assert_string_equal(gunzip("\x1f", 1000, &out).c_str(), "not gzip data");
  assert_string_equal(gunzip("m v=1 1\n", 1000, &out).c_str(), "not gzip data");
  // zlib's own wrapper is not gzip either.
  assert_string_equal(gunzip("\x78\x9c\x03\x00\x00\x00\x00\x01", 1000, &out).c_str(),
                      "not gzip data");
}

void corrupt_and_truncated(void**) {
  const std::string good = compress(noise(10'000, 2));
  std::string out;
  // Truncated anywhere after the magic: the data ended inside the member.
  for (size_t n : {size_t{2}, size_t{10}, good.size() / 2, good.size() - 1}) {
    assert_string_equal(gunzip(std::string_view(good).substr(0, n), 1u << 20, &out).c_str(),
                        "corrupt gzip data: unexpected end of data");
    assert_int_equal(out.size(), 0);
  }
  std::string bad_crc = good;
  bad_crc[bad_crc.size() - 5] ^= 1;  // the CRC-32 in the trailer
  assert_string_equal(gunzip(bad_crc, 1u << 20, &out).c_str(),
                      "corrupt gzip data: incorrect data check");
  std::string bad_method = good;
  bad_method[2] = 7;  // compression method other than deflate
  assert_contains(gunzip(bad_method, 1u << 20, &out), "corrupt gzip data: ");
  std::string bad_block = good;
  bad_block[10] = static_cast<char>(0xff);  // first deflate block header: invalid type
  assert_contains(gunzip(bad_block, 1u << 20, &out), "corrupt gzip data: ");
}

void concatenated_members(void**) {
  const std::string body = compress("m v=1 1\n") + compress("") + compress("m v=2 2\n", 1) +
                           compress(std::string(200'000, 'y'));
  std::string out;
  assert_string_equal(gunzip(body, 1u << 20, &out).c_str(), "");
  assert_true(out == "m v=1 1\nm v=2 2\n" + std::string(200'000, 'y'));
  // The cap counts all members together.
  assert_string_equal(gunzip(body, 200'000, &out).c_str(),
                      "decoded body is larger than 200000 bytes");
  // Bytes after the last member that do not start another one.
  assert_string_equal(gunzip(compress("a") + "junk", 1000, &out).c_str(),
                      "corrupt gzip data: trailing bytes after the last gzip member");
  assert_string_equal(gunzip(compress("a") + "\x1f", 1000, &out).c_str(),
                      "corrupt gzip data: trailing bytes after the last gzip member");
  // A second member cut short.
  const std::string second = compress("bbbb");
  assert_string_equal(gunzip(compress("a") + second.substr(0, 12), 1000, &out).c_str(),
                      "corrupt gzip data: unexpected end of data");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(round_trip),
      cmocka_unit_test(exactly_at_the_cap_is_fine),
      cmocka_unit_test(cap_stops_a_zip_bomb),
      cmocka_unit_test(not_gzip),
      cmocka_unit_test(corrupt_and_truncated),
      cmocka_unit_test(concatenated_members),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
