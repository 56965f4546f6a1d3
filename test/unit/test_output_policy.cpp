// What an InfluxDB output does with each answer, how long it waits before a
// retry, the write request it builds for v1 and v2, and gzip bodies.
#include <zlib.h>

#include "core/backoff.hpp"
#include "core/gzip.hpp"
#include "outputs/influx_request.hpp"
#include "outputs/write_outcome.hpp"
// After the C++ headers: cmocka's macros clash with names in <ios>.
#include "cmocka_all.hpp"

using namespace edgemon;
using namespace edgemon::outputs;
using std::chrono::milliseconds;

namespace {

http::ClientResponse answer(int status, std::string body = "",
                            std::vector<std::pair<std::string, std::string>> headers = {}) {
  http::ClientResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

bool has_header(const http::ClientRequest& r, std::string_view line) {
  for (const auto& h : r.headers)
    if (h == line) return true;
  return false;
}

void statuses_map_to_the_reference_table(void**) {
  assert_int_equal(classify(answer(204)), WriteOutcome::kDelivered);
  assert_int_equal(classify(answer(200)), WriteOutcome::kDelivered);
  assert_int_equal(classify(answer(400)), WriteOutcome::kRejected);
  assert_int_equal(classify(answer(422)), WriteOutcome::kRejected);
  for (int s : {401, 403, 404, 405, 301})
    assert_int_equal(classify(answer(s)), WriteOutcome::kRefused);
  assert_int_equal(classify(answer(413)), WriteOutcome::kTooLarge);
  for (int s : {408, 429, 500, 502, 503, 504})
    assert_int_equal(classify(answer(s)), WriteOutcome::kRetry);
  http::ClientResponse refused;
  refused.error = "Couldn't connect to server";
  assert_int_equal(classify(refused), WriteOutcome::kRetry);
}

void failures_name_the_server_message(void**) {
  assert_string_equal(
      describe_failure(answer(400, "{\"error\":\"partial write: field type conflict\"}\n")).c_str(),
      "HTTP 400: partial write: field type conflict");
  assert_string_equal(
      describe_failure(answer(422, "{\"code\":\"unprocessable entity\",\"message\":\"bad\"}"))
          .c_str(),
      "HTTP 422: bad");
  assert_string_equal(describe_failure(answer(502, "bad gateway\r\n")).c_str(),
                      "HTTP 502: bad gateway");
  assert_string_equal(describe_failure(answer(503)).c_str(), "HTTP 503");
  std::string huge(5000, 'x');
  assert_true(describe_failure(answer(500, huge)).size() < 400);
  http::ClientResponse timeout;
  timeout.error = "Operation timed out";
  assert_string_equal(describe_failure(timeout).c_str(), "Operation timed out");
}

void backoff_doubles_with_jitter_and_stays_within_bounds(void**) {
  Backoff b(milliseconds(100), milliseconds(1000));
  int64_t ceilings[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (int64_t ceiling : ceilings) {
    int64_t d = b.next().count();
    assert_in_range(d, ceiling / 2, ceiling);
  }
  b.reset();
  assert_in_range(b.next().count(), 50, 100);
  // Not the same delay for everyone: over many draws the values differ.
  Backoff c(milliseconds(1000), milliseconds(1000));
  int64_t first = c.next().count();
  bool varied = false;
  for (int i = 0; i < 50 && !varied; ++i)
    varied = c.next().count() != first;
  assert_true(varied);
}

config::InfluxOutputConfig output(int version) {
  config::InfluxOutputConfig c;
  c.name = "main";
  c.url = "http://127.0.0.1:8086/";
  c.version = version;
  c.database = "edge db";
  c.org = "my org";
  c.bucket = "b/rp";
  return c;
}

void v1_request_uses_v1_precision_names_and_basic_auth(void**) {
  auto c = output(1);
  c.retention_policy = "autogen";
  c.username = "u";
  c.password = "p:w";
  auto r = influx_write_request(c, "us");
  assert_string_equal(r.url.c_str(),
                      "http://127.0.0.1:8086/write?db=edge%20db&rp=autogen&precision=u");
  assert_string_equal(r.username.c_str(), "u");
  assert_string_equal(r.password.c_str(), "p:w");
  assert_true(has_header(r, "Content-Type: text/plain; charset=utf-8"));
  assert_string_equal(influx_write_request(output(1), "ns").url.c_str(),
                      "http://127.0.0.1:8086/write?db=edge%20db&precision=n");
}

void v2_request_uses_org_bucket_and_token(void**) {
  auto c = output(2);
  c.token = "s3cr3t";
  auto r = influx_write_request(c, "ms");
  assert_string_equal(r.url.c_str(),
                      "http://127.0.0.1:8086/api/v2/write?org=my%20org&bucket=b%2Frp&precision=ms");
  assert_true(has_header(r, "Authorization: Token s3cr3t"));
  assert_true(r.username.empty());
}

void credentials_are_kept_out_of_displayed_urls(void**) {
  assert_string_equal(redact_url("https://user:pw@influx:8086/x").c_str(), "https://influx:8086/x");
  assert_string_equal(redact_url("http://influx:8086").c_str(), "http://influx:8086");
  assert_string_equal(redact_url("http://influx:8086/a@b").c_str(), "http://influx:8086/a@b");
}

void gzip_round_trips(void**) {
  std::string text;
  for (int i = 0; i < 1000; ++i)
    text += "cpu,host=a usage=" + std::to_string(i) + " 1700000000000\n";
  std::string packed = "prefix";
  assert_true(gzip_compress(text, 1, &packed));
  assert_true(packed.size() < text.size() / 4);
  z_stream z{};
  assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
  std::string back(text.size() + 16, '\0');
  z.next_in = reinterpret_cast<Bytef*>(packed.data() + 6);
  z.avail_in = static_cast<uInt>(packed.size() - 6);
  z.next_out = reinterpret_cast<Bytef*>(back.data());
  z.avail_out = static_cast<uInt>(back.size());
  assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
  back.resize(z.total_out);
  inflateEnd(&z);
  assert_true(back == text);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(statuses_map_to_the_reference_table),
      cmocka_unit_test(failures_name_the_server_message),
      cmocka_unit_test(backoff_doubles_with_jitter_and_stays_within_bounds),
      cmocka_unit_test(v1_request_uses_v1_precision_names_and_basic_auth),
      cmocka_unit_test(v2_request_uses_org_bucket_and_token),
      cmocka_unit_test(credentials_are_kept_out_of_displayed_urls),
      cmocka_unit_test(gzip_round_trips),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
