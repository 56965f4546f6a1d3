// Alertmanager's webhook payload: both fixtures (one written from the
// format's documentation, one captured from a real Alertmanager 0.25), the
// fingerprint Alertmanager computes, RFC 3339 times, and the exact message
// for each way a payload can be wrong.
#include <fstream>
#include <sstream>

#include "cmocka_all.hpp"
#include "ingest/alert_webhook.hpp"

using namespace edgemon::ingest;

namespace {

std::string corpus_file(const char* name) {
  std::ifstream in(std::string(EDGEMON_SOURCE_DIR) + "/test/fuzz/corpus/fuzz_alert_webhook/" +
                   name);
  if (!in) fail_msg("cannot read fixture %s", name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int64_t ms(const char* text) {
  int64_t out = 0;
  if (!parse_rfc3339_ms(text, &out)) fail_msg("not a time: %s", text);
  return out;
}

std::string error_of(const std::string& body, const WebhookLimits& limits = {}) {
  WebhookMessage m;
  std::string e = parse_alert_webhook(body, &m, limits);
  if (e.empty()) fail_msg("accepted: %s", body.substr(0, 200).c_str());
  assert_true(m.alerts.empty());
  return e;
}

// A valid notification with one alert whose members are `alert` (JSON text
// without braces).
std::string one_alert(const std::string& alert) {
  return R"({"version":"4","status":"firing","receiver":"r","groupKey":"{}","alerts":[{)" + alert +
         "}]}";
}

const std::string kAlert = R"("status":"firing","labels":{"alertname":"A","severity":"page"},)"
                           R"("startsAt":"2026-11-22T06:54:11.243314465Z")";

void documented_fixture(void**) {
  WebhookMessage m;
  assert_string_equal(parse_alert_webhook(corpus_file("webhook-firing.json"), &m).c_str(), "");
  assert_string_equal(m.receiver.c_str(), "edge-ops");
  assert_string_equal(m.status.c_str(), "firing");
  assert_string_equal(m.group_key.c_str(), "{}:{alertname=\"ContainerRestartLoop\"}");
  assert_int_equal(m.truncated_alerts, 0);
  assert_int_equal(m.alerts.size(), 2);
  const WebhookAlert& a = m.alerts[0];
  assert_string_equal(a.status.c_str(), "firing");
  assert_int_equal(a.labels.size(), 5);
  // Sorted by name, whatever the order in the body.
  assert_string_equal(a.labels[0].first.c_str(), "alertname");
  assert_string_equal(a.labels[4].first.c_str(), "severity");
  assert_string_equal(std::string(a.label("container")).c_str(), "edge-infer");
  assert_string_equal(std::string(a.annotation("summary")).c_str(),
                      "edge-infer restarted 3 times in 10m");
  assert_true(a.starts_at_ms.has_value());
  assert_int_equal(*a.starts_at_ms, 1736858480113);  // 2025-01-14T12:41:20.113Z
  assert_false(a.ends_at_ms.has_value());            // the zero time
  assert_string_equal(a.fingerprint.c_str(), "5c2f4b1a9e8d7c60");
  assert_false(a.fingerprint_computed);
  assert_string_equal(a.generator_url.c_str(),
                      "http://jetson-orin-07:9105/alerts#ContainerRestartLoop");
  const WebhookAlert& b = m.alerts[1];
  assert_string_equal(b.status.c_str(), "resolved");
  assert_int_equal(*b.ends_at_ms, ms("2025-01-14T12:30:00.000Z"));
  assert_string_equal(b.fingerprint.c_str(), "0d9e3a7b2c4f5e11");
}

void captured_fixture_and_alertmanagers_fingerprint(void**) {
  std::string body = corpus_file("webhook-captured-am-0.25.json");
  WebhookMessage m;
  assert_string_equal(parse_alert_webhook(body, &m).c_str(), "");
  assert_int_equal(m.alerts.size(), 1);
  assert_string_equal(m.alerts[0].fingerprint.c_str(), "de47a76543bbdd31");
  // Nanoseconds truncated to the millisecond.
  assert_int_equal(*m.alerts[0].starts_at_ms, ms("2026-11-22T06:54:11.243Z"));
  // What Alertmanager computed for these labels, computed here.
  assert_string_equal(alert_fingerprint(m.alerts[0].labels).c_str(), "de47a76543bbdd31");
  // Without the member, the same fingerprint is computed and flagged.
  std::string without = body;
  std::string member = R"(,"fingerprint":"de47a76543bbdd31")";
  without.erase(without.find(member), member.size());
  assert_string_equal(parse_alert_webhook(without, &m).c_str(), "");
  assert_string_equal(m.alerts[0].fingerprint.c_str(), "de47a76543bbdd31");
  assert_true(m.alerts[0].fingerprint_computed);
}

void resolved_notification(void**) {
  WebhookMessage m;
  assert_string_equal(parse_alert_webhook(corpus_file("webhook-resolved-am-0.25.json"), &m).c_str(),
                      "");
  assert_string_equal(m.status.c_str(), "resolved");
  assert_string_equal(m.alerts[0].status.c_str(), "resolved");
  assert_int_equal(*m.alerts[0].ends_at_ms, ms("2026-11-22T06:54:17Z"));
}

void rfc3339_times(void**) {
  assert_int_equal(ms("1970-01-01T00:00:00Z"), 0);
  assert_int_equal(ms("2026-01-01T02:00:00+02:00"), ms("2026-01-01T00:00:00Z"));
  assert_int_equal(ms("2025-12-31T18:30:00.5-05:30"), ms("2026-01-01T00:00:00.500Z"));
  assert_int_equal(ms("2024-02-29t23:59:59.999999999z"), ms("2024-03-01T00:00:00Z") - 1);
  int64_t out = 0;
  for (const char* bad : {"2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z",
                          "2026-01-01T00:00:60Z", "2026-01-01 00:00:00Z", "2026-01-01T00:00:00",
                          "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00+2:00",
                          "0000-01-01T00:00:00+00:01", "yesterday", ""}) {
    if (parse_rfc3339_ms(bad, &out)) fail_msg("accepted %s", bad);
  }
  assert_string_equal(format_rfc3339_ms(ms("2025-01-14T12:41:20.113Z")).c_str(),
                      "2025-01-14T12:41:20.113Z");
  assert_string_equal(format_rfc3339_ms(-1).c_str(), "1969-12-31T23:59:59.999Z");
}

void zero_and_missing_times(void**) {
  WebhookMessage m;
  std::string body = one_alert(R"("status":"resolved","labels":{"a":"b"},)"
                               R"("startsAt":"0001-01-01T00:00:00Z")");
  assert_string_equal(parse_alert_webhook(body, &m).c_str(), "");
  assert_false(m.alerts[0].starts_at_ms.has_value());
  assert_false(m.alerts[0].ends_at_ms.has_value());
}

void malformed_bodies(void**) {
  assert_string_equal(error_of("  ").c_str(), "body: empty; expected Alertmanager's webhook JSON");
  assert_string_equal(error_of("{\"version\":").c_str(), "body: invalid JSON at offset 10");
  assert_string_equal(error_of("[]").c_str(), "body: expected a JSON object, got an array");
  assert_string_equal(error_of(one_alert(kAlert) + " x").c_str(),
                      "body: unexpected data after the JSON object at offset 184");
  assert_string_equal(error_of(std::string("{\"a\":\"\0\"}", 9)).c_str(),
                      "body: NUL byte at offset 6");
  assert_string_equal(error_of(corpus_file("nul-escape.json")).c_str(),
                      "body: \\u0000 at offset 78 (NUL is not allowed in strings)");
}

void refused_versions_and_headers(void**) {
  assert_string_equal(error_of(corpus_file("bad-version.json")).c_str(),
                      "version: unsupported webhook version \"3\" (this receiver speaks "
                      "Alertmanager's version \"4\")");
  assert_string_equal(error_of(R"({"status":"firing","alerts":[]})").c_str(),
                      "version: is required");
  assert_string_equal(error_of(R"({"version":4,"status":"firing","alerts":[]})").c_str(),
                      "version: expected a string, got a number");
  assert_string_equal(error_of(R"({"version":"4","status":"pending","alerts":[]})").c_str(),
                      "status: expected \"firing\" or \"resolved\", got \"pending\"");
  assert_string_equal(error_of(R"({"version":"4","status":"firing"})").c_str(),
                      "alerts: is required");
  assert_string_equal(error_of(R"({"version":"4","status":"firing","alerts":{}})").c_str(),
                      "alerts: expected an array, got an object");
  assert_string_equal(
      error_of(R"({"version":"4","status":"firing","alerts":[],"truncatedAlerts":-1})").c_str(),
      "truncatedAlerts: expected a non-negative integer");
  assert_string_equal(
      error_of(R"({"version":"4","status":"firing","alerts":[],"receiver":7})").c_str(),
      "receiver: expected a string, got a number");
}

void bad_alerts_name_their_path(void**) {
  std::string later = R"({"version":"4","status":"firing","alerts":[{)" + kAlert + "},{" + kAlert +
                      R"(},{"status":"firing","labels":{"a":"b"},"startsAt":"yesterday"}]})";
  assert_string_equal(error_of(later).c_str(),
                      "alerts[2].startsAt: expected an RFC 3339 time, got \"yesterday\"");
  assert_string_equal(error_of(one_alert(R"("status":"firing","labels":{"a":"b"})")).c_str(),
                      "alerts[0].startsAt: is required");
  assert_string_equal(error_of(one_alert(kAlert + R"(,"endsAt":"2026-02-30T00:00:00Z")")).c_str(),
                      "alerts[0].endsAt: expected an RFC 3339 time, got \"2026-02-30T00:00:00Z\"");
  assert_string_equal(error_of(R"({"version":"4","status":"firing","alerts":[3]})").c_str(),
                      "alerts[0]: expected an object, got a number");
  assert_string_equal(
      error_of(one_alert(R"("status":"firing","startsAt":"2026-01-01T00:00:00Z")")).c_str(),
      "alerts[0].labels: is required");
  assert_string_equal(
      error_of(one_alert(R"("status":"firing","labels":{},"startsAt":"2026-01-01T00:00:00Z")"))
          .c_str(),
      "alerts[0].labels: expected at least one label");
  assert_string_equal(
      error_of(one_alert(R"("status":"firing","labels":{"severity":3},"startsAt":"x")")).c_str(),
      "alerts[0].labels.severity: expected a string, got a number");
  assert_string_equal(
      error_of(one_alert(R"("status":"firing","labels":{"a b\"":[]},"startsAt":"x")")).c_str(),
      "alerts[0].labels[\"a b\\\"\"]: expected a string, got an array");
  assert_string_equal(
      error_of(one_alert(R"("status":"firing","labels":{"a":"1","a":"2"},"startsAt":"x")")).c_str(),
      "alerts[0].labels.a: appears twice");
  assert_string_equal(
      error_of(one_alert(kAlert + ",\"annotations\":{\"summary\":\"\xc3\x28\"}")).c_str(),
      "alerts[0].annotations.summary: not valid UTF-8");
  assert_string_equal(error_of(one_alert(R"("status":"ok")")).c_str(),
                      "alerts[0].status: expected \"firing\" or \"resolved\", got \"ok\"");
  assert_string_equal(error_of(one_alert(kAlert + R"(,"fingerprint":"a b")")).c_str(),
                      "alerts[0].fingerprint: expected a non-empty string without spaces or "
                      "controls");
}

void limits_are_enforced(void**) {
  std::string many = R"({"version":"4","status":"firing","alerts":[)";
  for (int i = 0; i < 1001; ++i)
    many += (i ? ",{" : "{") + kAlert + "}";
  many += "]}";
  assert_string_equal(error_of(many).c_str(), "alerts: 1001 alerts, at most 1000 per notification");
  std::string labels;
  for (int i = 0; i < 129; ++i)
    labels += (i ? "," : "") + std::string("\"l") + std::to_string(i) + "\":\"v\"";
  assert_string_equal(
      error_of(one_alert(R"("status":"firing","labels":{)" + labels + R"(},"startsAt":"x")"))
          .c_str(),
      "alerts[0].labels: more than 128 entries");
  std::string big(65537, 'x');
  assert_string_equal(
      error_of(one_alert(kAlert + R"(,"annotations":{"description":")" + big + "\"}")).c_str(),
      "alerts[0].annotations.description: 65537 bytes, at most 65536 allowed");
  // Exactly at the limits is fine.
  WebhookMessage m;
  big.pop_back();
  assert_string_equal(
      parse_alert_webhook(one_alert(kAlert + R"(,"annotations":{"d":")" + big + "\"}"), &m).c_str(),
      "");
  WebhookLimits two;
  two.max_alerts = 2;
  std::string three = R"({"version":"4","status":"firing","alerts":[{)" + kAlert + "},{" + kAlert +
                      "},{" + kAlert + "}]}";
  assert_string_equal(error_of(three, two).c_str(), "alerts: 3 alerts, at most 2 per notification");
}

void unknown_members_are_ignored_and_empty_alerts_accepted(void**) {
  WebhookMessage m;
  assert_string_equal(parse_alert_webhook(R"({"version":"4","status":"resolved","alerts":[],)"
                                          R"("externalURL":5,"future":{"x":[1]}})",
                                          &m)
                          .c_str(),
                      "");
  assert_int_equal(m.alerts.size(), 0);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(documented_fixture),
      cmocka_unit_test(captured_fixture_and_alertmanagers_fingerprint),
      cmocka_unit_test(resolved_notification),
      cmocka_unit_test(rfc3339_times),
      cmocka_unit_test(zero_and_missing_times),
      cmocka_unit_test(malformed_bodies),
      cmocka_unit_test(refused_versions_and_headers),
      cmocka_unit_test(bad_alerts_name_their_path),
      cmocka_unit_test(limits_are_enforced),
      cmocka_unit_test(unknown_members_are_ignored_and_empty_alerts_accepted),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
