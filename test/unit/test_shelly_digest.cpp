// HTTP Digest (RFC 7616) as the shelly source answers a Gen2+ plug's 401:
// the RFC's own worked example (§3.9.1) for both algorithms, the recorded
// challenge of a Plus Plug S, and challenges the module must refuse.
#include <string>
#include <vector>

#include "cmocka_all.hpp"
#include "core/read_file.hpp"
#include "http/digest_auth.hpp"

using namespace edgemon::http;

namespace {

const std::vector<std::string> kRfcChallenge{
    R"(Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256,)"
    R"( nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",)"
    R"( opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")",
    R"(Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5,)"
    R"( nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",)"
    R"( opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")"};
constexpr const char* kRfcCnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

void rfc7616_example_sha256(void**) {
  std::string error;
  auto challenge = parse_digest_challenge(kRfcChallenge, &error);
  assert_true(challenge.has_value());
  assert_int_equal(static_cast<int>(challenge->algorithm),
                   static_cast<int>(DigestAlgorithm::kSha256));  // preferred over MD5
  DigestSession session("Mufasa", "Circle of Life");
  session.set_challenge(*challenge);
  auto header = session.authorization("GET", "/dir/index.html", kRfcCnonce, &error);
  assert_true(header.has_value());
  assert_string_equal(
      header->c_str(),
      R"(Authorization: Digest username="Mufasa", realm="http-auth@example.org", )"
      R"(nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", uri="/dir/index.html", )"
      R"(algorithm=SHA-256, qop=auth, nc=00000001, )"
      R"(cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", )"
      R"(response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", )"
      R"(opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")");
  // The same nonce again counts up.
  header = session.authorization("GET", "/dir/index.html", kRfcCnonce, &error);
  assert_contains(*header, "nc=00000002");
  assert_not_contains(*header, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

void rfc7616_example_md5(void**) {
  std::string error;
  auto challenge = parse_digest_challenge({kRfcChallenge[1]}, &error);
  assert_true(challenge.has_value());
  DigestSession session("Mufasa", "Circle of Life");
  session.set_challenge(*challenge);
  auto header = session.authorization("GET", "/dir/index.html", kRfcCnonce, &error);
  assert_contains(*header, R"(response="8ca523f5e9506fed4657c9700eebdbec")");
  assert_contains(*header, "algorithm=MD5");
}

void recorded_shelly_challenge(void**) {
  std::string text;
  assert_string_equal(
      edgemon::read_file(EDGEMON_FIXTURES "/shelly/gen2-401-challenge.http", &text).c_str(), "");
  size_t at = text.find("WWW-Authenticate: ");
  assert_true(at != std::string::npos);
  size_t start = at + 18;
  std::string value = text.substr(start, text.find('\n', start) - start);
  std::string error;
  auto challenge = parse_digest_challenge({value}, &error);
  assert_true(challenge.has_value());
  assert_string_equal(challenge->realm.c_str(), "shellyplusplugs-e86beae7e2f8");
  assert_string_equal(challenge->nonce.c_str(), "1736847690");
  assert_true(challenge->qop_auth);
  assert_false(challenge->has_opaque);
  assert_int_equal(static_cast<int>(challenge->algorithm),
                   static_cast<int>(DigestAlgorithm::kSha256));

  // The plug's formula (shelly.md §4), computed independently with
  // Python's hashlib for admin / "secret" / cnonce "0a1b2c3d".
  DigestSession session("admin", "secret");
  session.set_challenge(*challenge);
  auto header = session.authorization("GET", "/rpc/Switch.GetStatus?id=0", "0a1b2c3d", &error);
  assert_contains(*header, R"(uri="/rpc/Switch.GetStatus?id=0")");
  assert_contains(*header,
                  R"(response="5a47ed04c1aaf74a8526ca0cb2bb3be9523f9bba94e1118c358c10b5342e2a0b")");
}

void challenges_refused_with_a_reason(void**) {
  std::string error;
  assert_false(parse_digest_challenge({R"(Basic realm="x")"}, &error).has_value());
  assert_contains(error, "no Digest challenge");
  assert_false(parse_digest_challenge({}, &error).has_value());
  assert_false(
      parse_digest_challenge({R"(Digest realm="x", nonce="n", algorithm=SHA-512-256)"}, &error)
          .has_value());
  assert_contains(error, "unsupported digest algorithm SHA-512-256");
  assert_false(parse_digest_challenge({R"(Digest realm="x", qop="auth")"}, &error).has_value());
  assert_contains(error, "no nonce");
  assert_false(parse_digest_challenge({R"(Digest realm="x", nonce="n", qop="auth-int")"}, &error)
                   .has_value());
  assert_contains(error, "qop=auth-int");
  assert_false(
      parse_digest_challenge({R"(Digest realm="x", nonce="unterminated)"}, &error).has_value());
  // A Basic challenge before the Digest one in the same header value.
  auto c = parse_digest_challenge({R"(Basic realm="b", Digest realm="d", nonce="n")"}, &error);
  assert_true(c.has_value());
  assert_string_equal(c->realm.c_str(), "d");
  assert_false(c->qop_auth);  // RFC 2069 style: response without nc and cnonce
  DigestSession session("u", "p");
  session.set_challenge(*c);
  auto header = session.authorization("GET", "/", "c", &error);
  assert_not_contains(*header, "nc=");
}

void no_challenge_no_header(void**) {
  DigestSession session("admin", "x");
  std::string error;
  assert_false(session.authorization("GET", "/", "c", &error).has_value());
  assert_contains(error, "no digest challenge");
  assert_int_equal(random_cnonce().size(), 32);
  assert_string_not_equal(random_cnonce().c_str(), random_cnonce().c_str());
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rfc7616_example_sha256),
      cmocka_unit_test(rfc7616_example_md5),
      cmocka_unit_test(recorded_shelly_challenge),
      cmocka_unit_test(challenges_refused_with_a_reason),
      cmocka_unit_test(no_challenge_no_header),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
