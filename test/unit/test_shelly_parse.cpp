// The Shelly answers as readings: every recorded fixture of the three
// generations, and the broken answers a plug (or something at its address)
// may give.
#include <string>

#include "cmocka_all.hpp"
#include "core/read_file.hpp"
#include "sources/shelly/shelly_parse.hpp"

using namespace edgemon::sources::shelly;

namespace {

std::string fixture(const char* name) {
  std::string text;
  std::string error = edgemon::read_file(std::string(EDGEMON_FIXTURES "/shelly/") + name, &text);
  if (!error.empty()) fail_msg("%s", error.c_str());
  return text;
}

void assert_near(double actual, double expected) {
  double diff = actual - expected;
  if (diff < -1e-6 || diff > 1e-6) fail_msg("%.9g is not %.9g", actual, expected);
}

void device_info_of_each_generation(void**) {
  DeviceInfo info;
  assert_string_equal(parse_device_info(fixture("gen1-shelly.json"), &info).c_str(), "");
  assert_int_equal(info.generation, 1);
  assert_false(info.auth);
  assert_string_equal(info.model.c_str(), "SHPLG-S");

  assert_string_equal(parse_device_info(fixture("gen2-shelly.json"), &info).c_str(), "");
  assert_int_equal(info.generation, 2);
  assert_true(info.auth);
  assert_string_equal(info.id.c_str(), "shellyplusplugs-e86beae7e2f8");
  assert_string_equal(info.model.c_str(), "SNPL-00112EU");

  assert_string_equal(parse_device_info(fixture("gen3-shelly.json"), &info).c_str(), "");
  assert_int_equal(info.generation, 3);
  assert_false(info.auth);
}

void device_info_refuses_what_is_not_a_shelly(void**) {
  DeviceInfo info;
  assert_contains(parse_device_info("{\"hello\": 1}", &info), "not a Shelly");
  assert_contains(parse_device_info("<html>", &info), "not JSON");
  assert_contains(parse_device_info("[1]", &info), "not a JSON object");
  assert_contains(parse_device_info("", &info), "empty");
  assert_contains(parse_device_info("{\"gen\": 2.5}", &info), "not a generation");
  assert_contains(parse_device_info("{\"gen\": -1}", &info), "not a generation");
}

void gen1_status_fixture(void**) {
  Reading r;
  assert_string_equal(parse_gen1_status(fixture("gen1-status.json"), &r).c_str(), "");
  assert_int_equal(r.channels.size(), 2);
  assert_string_equal(r.channels[0].rail.c_str(), "relay:0");
  assert_true(*r.channels[0].relay_on);
  assert_false(r.channels[0].watts.has_value());
  const ChannelReading& meter = r.channels[1];
  assert_string_equal(meter.rail.c_str(), "meter:0");
  assert_near(*meter.watts, 42.17);
  // 2 591 403 watt-minutes = 43 190.05 Wh, consistent with the Gen2 plug.
  assert_near(*meter.energy_joules, 2591403.0 * 60);
  assert_false(meter.volts.has_value());
  assert_near(*r.device_temperature_celsius, 38.21);
  assert_int_equal(r.invalid_meters, 0);
}

void gen1_meter_alone_is_not_a_status(void**) {
  // /meter/0 answers the meter object alone: not what the source reads.
  Reading r;
  assert_contains(parse_gen1_status(fixture("gen1-meter0.json"), &r), "not a Gen1 /status");
}

void gen1_invalid_meter_and_missing_sensor(void**) {
  Reading r;
  assert_string_equal(parse_gen1_status(R"({"meters": [{"power": 5, "is_valid": false, "total": 10},
                                       {"power": 7, "total": -3}],
                           "tmp": {"tC": 20, "is_valid": false}})",
                                        &r)
                          .c_str(),
                      "");
  assert_int_equal(r.invalid_meters, 1);
  assert_int_equal(r.channels.size(), 1);
  assert_string_equal(r.channels[0].rail.c_str(), "meter:1");
  assert_near(*r.channels[0].watts, 7);
  assert_false(r.channels[0].energy_joules.has_value());  // negative: dropped
  assert_false(r.device_temperature_celsius.has_value());
}

void gen1_too_many_channels_refused(void**) {
  std::string body = "{\"meters\": [";
  for (int i = 0; i < 40; ++i)
    body += std::string(i ? "," : "") + "{\"power\": 1}";
  body += "]}";
  Reading r;
  assert_contains(parse_gen1_status(body, &r), "more relays and meters");
}

void gen2_switch_fixture(void**) {
  ChannelReading c;
  assert_string_equal(
      parse_gen2_component(fixture("gen2-switch-getstatus.json"), "switch:0", &c).c_str(), "");
  assert_string_equal(c.rail.c_str(), "switch:0");
  assert_true(*c.relay_on);
  assert_near(*c.watts, 42.3);
  assert_near(*c.volts, 229.8);
  assert_near(*c.amperes, 0.231);
  assert_near(*c.energy_joules, 43190.063 * 3600);
  assert_near(*c.temperature_celsius, 41.2);
}

void gen2_post_frame_fixture(void**) {
  ChannelReading c;
  assert_string_equal(
      parse_gen2_component(fixture("gen2-rpc-post-response.json"), "switch:0", &c).c_str(), "");
  assert_near(*c.watts, 42.3);
  assert_near(*c.energy_joules, 43190.063 * 3600);
}

void gen2_pm1_without_relay(void**) {
  ChannelReading c;
  assert_string_equal(parse_gen2_component(R"({"id":0,"voltage":230.1,"current":0.1,
      "apower":null,"aenergy":{"total":1.5}})",
                                           "pm1:0", &c)
                          .c_str(),
                      "");
  assert_false(c.relay_on.has_value());
  assert_false(c.watts.has_value());  // null while the meter starts
  assert_near(*c.energy_joules, 5400);
}

void gen2_errors_are_told(void**) {
  ChannelReading c;
  std::string error = parse_gen2_component(
      R"({"code":-105,"message":"Argument 'id', value 5 not found!"})", "switch:5", &c);
  assert_contains(error, "error -105: Argument 'id', value 5 not found!");
  error = parse_gen2_component(
      R"({"id":1,"src":"x","error":{"code":401,"message":"unauthorized"}})", "switch:0", &c);
  assert_contains(error, "error 401: unauthorized");
  assert_contains(parse_gen2_component("{\"id\": 0}", "switch:0", &c), "not a switch or pm1");
  assert_contains(parse_gen2_component("{\"apower\": \"12\"}", "switch:0", &c),
                  "not a switch or pm1");
  assert_string_equal(gen2_error_message("not json").c_str(), "");
  // A hostile message is bounded and stays on one line.
  std::string long_message(5000, 'x');
  long_message[10] = '\n';
  std::string message =
      gen2_error_message("{\"code\":1,\"message\":\"" + std::string(long_message) + "\"}");
  assert_true(message.size() < 260);
  assert_not_contains(message, "\n");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(device_info_of_each_generation),
      cmocka_unit_test(device_info_refuses_what_is_not_a_shelly),
      cmocka_unit_test(gen1_status_fixture),
      cmocka_unit_test(gen1_meter_alone_is_not_a_status),
      cmocka_unit_test(gen1_invalid_meter_and_missing_sensor),
      cmocka_unit_test(gen1_too_many_channels_refused),
      cmocka_unit_test(gen2_switch_fixture),
      cmocka_unit_test(gen2_post_frame_fixture),
      cmocka_unit_test(gen2_pm1_without_relay),
      cmocka_unit_test(gen2_errors_are_told),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
