#pragma once
// A Shelly plug's JSON answers as readings: `GET /shelly` (which generation,
// whether it wants a password), Gen1's `GET /status`, and the result of a
// Gen2+ component's `<Component>.GetStatus` (switch, pm1). Pure functions of
// the body: the plug is outside input, so anything but the documented shape
// is an error string, never a crash.
//
// Units are converted here: energy counters become joules (Gen1 counts
// watt-minutes, Gen2+ watt-hours).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgemon::sources::shelly {

struct DeviceInfo {
  int generation = 1;  // `gen`, absent on Gen1
  bool auth = false;   // Gen1 `auth`, Gen2+ `auth_en`
  std::string id;      // Gen2+: the digest realm; Gen1: empty
  std::string model;   // Gen1 `type`, Gen2+ `model`
};

// One relay, meter or metering switch, named as the plug names it: Gen2+
// "switch:0" or "pm1:0", Gen1 "relay:0" and "meter:0". Absent fields are
// what the model does not measure.
struct ChannelReading {
  std::string rail;
  std::optional<double> watts;
  std::optional<double> volts;
  std::optional<double> amperes;
  // The plug's own counter, in joules; it restarts at 0 when the plug
  // reboots (EnergyCounter makes it monotonic).
  std::optional<double> energy_joules;
  std::optional<bool> relay_on;
  std::optional<double> temperature_celsius;
};

struct Reading {
  std::vector<ChannelReading> channels;
  // Gen1: the device's internal sensor (Gen2+ reports it per switch).
  std::optional<double> device_temperature_celsius;
  // Gen1 meters that said is_valid: false (their values are skipped).
  int invalid_meters = 0;
};

// Most channels read from one answer: a plug has 1 to 4; more is a broken
// or hostile peer, and must not cost memory.
inline constexpr size_t kMaxChannels = 16;

// Each returns "" and fills *out, or why the body is not what was expected.
std::string parse_device_info(std::string_view body, DeviceInfo* out);
std::string parse_gen1_status(std::string_view body, Reading* out);
// `rail` is the component key asked for ("switch:0"): the result object of
// GET /rpc/Switch.GetStatus?id=0, or a POST /rpc frame {"result": {...}}.
std::string parse_gen2_component(std::string_view body, std::string_view rail, ChannelReading* out);

// The message of a Gen2+ RPC error body ({"code": -105, "message": ...}, or
// a frame's "error"), bounded; "" when the body is not one.
std::string gen2_error_message(std::string_view body);

}  // namespace edgemon::sources::shelly
