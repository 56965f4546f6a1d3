// The gzip body built from a cached prefix and a per-request suffix must be
// one valid gzip member that decompresses to prefix + suffix.
#include <zlib.h>

#include "api/gzip_body.hpp"
#include "cmocka_all.hpp"

using edgemon::api::GzipPrefix;

namespace {

std::string gunzip(const std::string& data) {
  z_stream zs{};
  assert_int_equal(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  // Z_STREAM_END also proves the CRC-32 and length in the trailer matched.
  assert_int_equal(rc, Z_STREAM_END);
  assert_int_equal(zs.avail_in, 0);
  inflateEnd(&zs);
  return out;
}

std::string big_text() {
  std::string text;
  for (int i = 0; i < 3000; ++i) {
    text += "node_cpu_seconds_total{cpu=\"" + std::to_string(i % 8) + "\",mode=\"idle\"} " +
            std::to_string(i * 37.5) + "\n";
  }
  return text;
}

void prefix_and_suffix_make_one_member(void**) {
  std::string prefix = big_text();
  GzipPrefix gz;
  assert_true(gz.compress(prefix));
  for (const std::string& suffix :
       {std::string("edgemon_http_requests_in_flight 1\n"), std::string(), big_text()}) {
    std::string body = *gz.bytes() + gz.finish(suffix);
    assert_true(body.size() < prefix.size() + suffix.size());
    std::string plain = gunzip(body);
    assert_true(plain == prefix + suffix);
  }
}

void empty_prefix_works(void**) {
  GzipPrefix gz;
  assert_true(gz.compress(""));
  assert_true(gunzip(*gz.bytes() + gz.finish("x 1\n")) == "x 1\n");
}

void finish_without_prefix_is_empty(void**) {
  GzipPrefix gz;
  assert_true(gz.finish("x").empty());
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(prefix_and_suffix_make_one_member),
      cmocka_unit_test(empty_prefix_works),
      cmocka_unit_test(finish_without_prefix_is_empty),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
