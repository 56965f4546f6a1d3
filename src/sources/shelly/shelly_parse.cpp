#include "sources/shelly/shelly_parse.hpp"

#include <cjson/cJSON.h>

#include <cmath>
#include <memory>

namespace edgemon::sources::shelly {
namespace {

using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

constexpr double kJoulesPerWattMinute = 60;
constexpr double kJoulesPerWattHour = 3600;
constexpr size_t kMaxMessage = 200;

JsonPtr parse_object(std::string_view body, std::string* error) {
  const char* end = nullptr;
  JsonPtr root(cJSON_ParseWithLengthOpts(body.data(), body.size(), &end, false), cJSON_Delete);
  if (root == nullptr) {
    *error = body.empty() ? "empty answer" : "the answer is not JSON";
  } else if (!cJSON_IsObject(root.get())) {
    *error = "the answer is not a JSON object";
    root.reset();
  }
  return root;
}

// A finite number, or nothing (absent, null, a string...): a field the model
// does not measure, or one a firmware reports as null while it starts.
std::optional<double> number(const cJSON* object, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(object, key);
  if (!cJSON_IsNumber(item) || !std::isfinite(item->valuedouble)) return std::nullopt;
  return item->valuedouble;
}

std::optional<bool> boolean(const cJSON* object, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(object, key);
  if (!cJSON_IsBool(item)) return std::nullopt;
  return cJSON_IsTrue(item) != 0;
}

// Energy counters are never negative; a negative one is a broken answer
// whose value is dropped rather than fed to the monotonic counter.
std::optional<double> energy(std::optional<double> value, double joules_per_unit) {
  if (!value || *value < 0) return std::nullopt;
  return *value * joules_per_unit;
}

std::string bounded(std::string text) {
  if (text.size() > kMaxMessage) {
    text.resize(kMaxMessage);
    text += "...";
  }
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return text;
}

}  // namespace

std::string parse_device_info(std::string_view body, DeviceInfo* out) {
  std::string error;
  JsonPtr root = parse_object(body, &error);
  if (root == nullptr) return error;
  *out = DeviceInfo{};
  std::optional<double> gen = number(root.get(), "gen");
  if (gen) {
    if (*gen < 1 || *gen > 100 || *gen != std::floor(*gen)) return "`gen` is not a generation";
    out->generation = static_cast<int>(*gen);
  }
  bool auth = false;
  if (out->generation >= 2) {
    auth = boolean(root.get(), "auth_en").value_or(false);
    const cJSON* id = cJSON_GetObjectItemCaseSensitive(root.get(), "id");
    if (cJSON_IsString(id)) out->id = bounded(id->valuestring);
    const cJSON* model = cJSON_GetObjectItemCaseSensitive(root.get(), "model");
    if (cJSON_IsString(model)) out->model = bounded(model->valuestring);
  } else {
    const cJSON* type = cJSON_GetObjectItemCaseSensitive(root.get(), "type");
    if (!cJSON_IsString(type)) return "no `gen` nor `type`: not a Shelly /shelly answer";
    out->model = bounded(type->valuestring);
    auth = boolean(root.get(), "auth").value_or(false);
  }
  out->auth = auth;
  return "";
}

std::string parse_gen1_status(std::string_view body, Reading* out) {
  std::string error;
  JsonPtr root = parse_object(body, &error);
  if (root == nullptr) return error;
  *out = Reading{};
  const cJSON* relays = cJSON_GetObjectItemCaseSensitive(root.get(), "relays");
  const cJSON* meters = cJSON_GetObjectItemCaseSensitive(root.get(), "meters");
  if (!cJSON_IsArray(relays) && !cJSON_IsArray(meters)) {
    return "no `relays` nor `meters`: not a Gen1 /status answer";
  }
  int index = 0;
  const cJSON* item = nullptr;
  cJSON_ArrayForEach(item, relays) {
    if (out->channels.size() >= kMaxChannels) return "more relays and meters than a plug has";
    ChannelReading relay;
    relay.rail = "relay:" + std::to_string(index++);
    relay.relay_on = boolean(item, "ison");
    if (relay.relay_on) out->channels.push_back(std::move(relay));
  }
  index = 0;
  cJSON_ArrayForEach(item, meters) {
    if (out->channels.size() >= kMaxChannels) return "more relays and meters than a plug has";
    ChannelReading meter;
    meter.rail = "meter:" + std::to_string(index++);
    if (boolean(item, "is_valid") == false) {
      ++out->invalid_meters;
      continue;
    }
    meter.watts = number(item, "power");
    meter.energy_joules = energy(number(item, "total"), kJoulesPerWattMinute);
    if (meter.watts || meter.energy_joules) out->channels.push_back(std::move(meter));
  }
  const cJSON* tmp = cJSON_GetObjectItemCaseSensitive(root.get(), "tmp");
  if (cJSON_IsObject(tmp)) {
    if (boolean(tmp, "is_valid") != false) out->device_temperature_celsius = number(tmp, "tC");
  } else {
    out->device_temperature_celsius = number(root.get(), "temperature");
  }
  return "";
}

std::string parse_gen2_component(std::string_view body, std::string_view rail,
                                 ChannelReading* out) {
  std::string error;
  JsonPtr root = parse_object(body, &error);
  if (root == nullptr) return error;
  const cJSON* status = root.get();
  if (const cJSON* result = cJSON_GetObjectItemCaseSensitive(status, "result");
      cJSON_IsObject(result)) {
    status = result;
  }
  std::string message = gen2_error_message(body);
  if (!message.empty()) return message;
  *out = ChannelReading{};
  out->rail = std::string(rail);
  out->relay_on = boolean(status, "output");
  out->watts = number(status, "apower");
  out->volts = number(status, "voltage");
  out->amperes = number(status, "current");
  if (const cJSON* aenergy = cJSON_GetObjectItemCaseSensitive(status, "aenergy");
      cJSON_IsObject(aenergy)) {
    out->energy_joules = energy(number(aenergy, "total"), kJoulesPerWattHour);
  }
  if (const cJSON* temperature = cJSON_GetObjectItemCaseSensitive(status, "temperature");
      cJSON_IsObject(temperature)) {
    out->temperature_celsius = number(temperature, "tC");
  }
  if (!out->relay_on && !out->watts && !out->energy_joules) {
    return "no `output`, `apower` nor `aenergy`: not a switch or pm1 status";
  }
  return "";
}

std::string gen2_error_message(std::string_view body) {
  std::string ignored;
  JsonPtr root = parse_object(body, &ignored);
  if (root == nullptr) return "";
  const cJSON* error = root.get();
  if (const cJSON* frame_error = cJSON_GetObjectItemCaseSensitive(error, "error");
      cJSON_IsObject(frame_error)) {
    error = frame_error;
  }
  const cJSON* code = cJSON_GetObjectItemCaseSensitive(error, "code");
  const cJSON* message = cJSON_GetObjectItemCaseSensitive(error, "message");
  if (!cJSON_IsNumber(code) || !cJSON_IsString(message)) return "";
  return bounded("error " + std::to_string(code->valueint) + ": " + message->valuestring);
}

}  // namespace edgemon::sources::shelly
