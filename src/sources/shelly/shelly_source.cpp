// The `shelly` source: one Shelly smart plug per instance, polled over its
// local HTTP API through the loop's HttpClient. Gen1 plugs answer
// `GET /status` (HTTP Basic when a password is set); Gen2, Gen3 and Gen4
// answer `GET /rpc/<Component>.GetStatus?id=N` (HTTP Digest, SHA-256, when
// a password is set). The generation is asked once from `/shelly`, which is
// never protected, unless the operator sets it.
//
// An unreachable plug publishes edge_power_source_up 0 and nothing else
// before failing the collection: its power is unknown, not 0 W.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/log.hpp"
#include "http/digest_auth.hpp"
#include "http/url.hpp"
#include "metrics/power_families.hpp"
#include "sources/shelly/energy_counter.hpp"
#include "sources/shelly/shelly_parse.hpp"
#include "sources/source.hpp"

namespace edgemon::sources {
namespace {

using namespace std::chrono_literals;
namespace power = metrics::power;

constexpr std::string_view kKind = "shelly";
// The plug's last count is written to the state store at most this often
// (and at stop, and at once when a reboot of the plug moved the offset):
// a write every poll would be one SQLite transaction every few seconds on
// an SD card, for a total that is exact again at the next poll.
constexpr uint64_t kPersistEveryMs = 60000;
// A Gen1 /status is about 1.5 KiB, a Gen2 component status 0.5 KiB.
constexpr size_t kMaxAnswerBytes = 16 * 1024;

std::string check_url(std::string_view text) {
  return config::check_http_url(text, "http://10.0.0.5");
}

std::string check_generation(std::string_view text) {
  if (text == "auto" || text == "1" || text == "2" || text == "3" || text == "4") return "";
  return "expected auto, 1, 2, 3 or 4 (got '" + std::string(text) + "')";
}

// "switch:0" -> {"Switch", 0}; nullopt for anything else.
struct Component {
  std::string method_prefix;  // the RPC namespace
  int id = 0;
};

std::optional<Component> parse_channel(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon + 1 >= text.size() || text.size() - colon > 3) {
    return std::nullopt;
  }
  std::string_view kind = text.substr(0, colon);
  int id = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + (c - '0');
  }
  if (kind == "switch") return Component{"Switch", id};
  if (kind == "pm1") return Component{"PM1", id};
  return std::nullopt;
}

std::string check_channel(std::string_view text) {
  if (parse_channel(text)) return "";
  return "expected switch:N or pm1:N, N from 0 to 99 (got '" + std::string(text) + "')";
}

struct ShellyOptions {
  std::string url;
  std::string generation = "auto";
  std::string username = "admin";
  std::string password;
  config::Duration timeout = 3s;
  std::vector<std::string> channels{"switch:0"};

  template <class V>
  void visit(V& v) {
    v.field("url", url,
            "The plug's address, e.g. http://10.0.0.5 (its local HTTP API, port 80 unless "
            "given). Required.",
            check_url);
    v.field("generation", generation,
            "The plug's API generation: 1 (Gen1 REST /status), 2, 3 or 4 (RPC), or auto to ask "
            "the plug's /shelly once.",
            check_generation);
    v.field("username", username,
            "User name for a plug with a password: Gen1's own (HTTP Basic); Gen2+ plugs "
            "always use admin (HTTP Digest), whatever is set here.",
            nullptr);
    v.field("password", password,
            "The plug's password; empty when authentication is off on the plug.", nullptr);
    v.field("timeout", timeout,
            "Longest wait for one answer of the plug, connection included; a plug that does "
            "not answer in time is down for that collection.",
            config::IntRange{100, 60000});
    v.field("channels", channels,
            "Gen2+ components to read, each switch:N (Switch.GetStatus) or pm1:N "
            "(PM1.GetStatus). Gen1 plugs report every relay and meter of /status and ignore "
            "this.",
            check_channel);
  }

  void validate(const std::string& path, config::Errors& errors) const {
    if (url.empty()) errors.push_back({"", 0, 0, path + ".url", "is required: the plug's address"});
    if (!password.empty() && username.empty()) {
      errors.push_back({"", 0, 0, path + ".username", "is empty, and a password is set"});
    }
    if (channels.empty()) {
      errors.push_back({"", 0, 0, path + ".channels", "lists no component to read"});
    }
  }
};

class ShellySource final : public Source {
 public:
  explicit ShellySource(SourceContext& context)
      : context_(context),
        options_(context.instance.as<ShellyOptions>()),
        base_(without_trailing_slash(options_.url)),
        digest_("admin", options_.password) {
    http::Url parsed;
    if (http::parse_url(base_, &parsed).empty() && parsed.target != "/") {
      target_prefix_ = without_trailing_slash(parsed.target);
    }
    // Checked by the configuration (check_generation): "auto" or one digit.
    if (options_.generation.size() == 1) generation_ = options_.generation[0] - '0';
  }

  ~ShellySource() override { cancel(); }

  void collect(std::function<void(Status)> done) override {
    done_ = std::move(done);
    reading_ = shelly::Reading{};
    if (generation_ == 0) {
      detect();
    } else {
      read();
    }
  }

  void stop(std::function<void()> done) override {
    cancel();
    persist_counters();
    done();
  }

 private:
  using Answer = std::function<void(http::ClientResponse&&)>;

  static std::string without_trailing_slash(std::string text) {
    while (text.ends_with('/'))
      text.pop_back();
    return text;
  }

  void cancel() {
    if (request_id_ != 0) context_.http.cancel(request_id_);
    request_id_ = 0;
  }

  // ---------------------------------------------------------------- steps

  void detect() {
    get("/shelly", false, [this](http::ClientResponse&& r) {
      shelly::DeviceInfo info;
      std::string error = shelly::parse_device_info(r.body, &info);
      if (!error.empty()) return fail("GET " + base_ + "/shelly: " + error);
      if (info.auth && options_.password.empty()) {
        return fail("GET " + base_ +
                    "/shelly: the plug has authentication on and no password is configured");
      }
      generation_ = info.generation;
      read();
    });
  }

  void read() {
    if (generation_ == 1) {
      get("/status", true, [this](http::ClientResponse&& r) {
        std::string error = shelly::parse_gen1_status(r.body, &reading_);
        if (!error.empty()) return fail("GET " + base_ + "/status: " + error);
        finish();
      });
      return;
    }
    read_channel(0);
  }

  void read_channel(size_t index) {
    if (index >= options_.channels.size()) return finish();
    const std::string& rail = options_.channels[index];
    std::optional<Component> c = parse_channel(rail);
    if (!c) return fail("channels: '" + rail + "' is not switch:N or pm1:N");
    std::string target = "/rpc/" + c->method_prefix + ".GetStatus?id=" + std::to_string(c->id);
    get(target, true, [this, index, target](http::ClientResponse&& r) {
      shelly::ChannelReading channel;
      std::string error = shelly::parse_gen2_component(r.body, options_.channels[index], &channel);
      if (!error.empty()) return fail("GET " + base_ + target + ": " + error);
      reading_.channels.push_back(std::move(channel));
      read_channel(index + 1);
    });
  }

  // ------------------------------------------------------------- requests

  // GETs `target` and passes on a 200 answer; anything else fails the
  // collection with a reason an operator can act on. A Gen2+ 401 is
  // answered once with digest credentials from its challenge.
  void get(const std::string& target, bool authenticate, Answer on_ok) {
    send(target, authenticate, false, std::move(on_ok));
  }

  void send(const std::string& target, bool authenticate, bool retried, Answer on_ok) {
    http::ClientRequest request;
    request.url = base_ + target;
    request.timeout = options_.timeout;
    request.connect_timeout = std::min<std::chrono::milliseconds>(options_.timeout, 5s);
    request.max_response_bytes = kMaxAnswerBytes;
    bool gen1 = generation_ == 1;
    if (authenticate && !options_.password.empty()) {
      if (gen1) {
        request.username = options_.username;
        request.password = options_.password;
      } else if (digest_.has_challenge()) {
        std::string error;
        auto header =
            digest_.authorization("GET", target_prefix_ + target, http::random_cnonce(), &error);
        if (!header) return fail("digest authentication: " + error);
        request.headers.push_back(std::move(*header));
      }
    }
    request_id_ = context_.http.send(
        std::move(request), [this, target, authenticate, retried,
                             on_ok = std::move(on_ok)](http::ClientResponse&& r) mutable {
          request_id_ = 0;
          if (!r.error.empty()) return fail("GET " + base_ + target + ": " + r.error);
          if (r.status == 401) {
            return unauthorized(target, authenticate, retried, r, std::move(on_ok));
          }
          if (r.status == 200 && r.truncated) {
            return fail("GET " + base_ + target + ": the answer is larger than " +
                        std::to_string(kMaxAnswerBytes / 1024) + " KiB, not a plug's");
          }
          if (r.status != 200) {
            std::string message = shelly::gen2_error_message(r.body);
            return fail("GET " + base_ + target + ": HTTP " + std::to_string(r.status) +
                        (message.empty() ? "" : " (" + message + ")"));
          }
          on_ok(std::move(r));
        });
  }

  void unauthorized(const std::string& target, bool authenticate, bool retried,
                    const http::ClientResponse& r, Answer on_ok) {
    if (options_.password.empty()) {
      return fail("GET " + base_ + target +
                  ": the plug asks for a password (HTTP 401) and none is "
                  "configured");
    }
    if (generation_ == 1 || !authenticate) {
      return fail("GET " + base_ + target + ": the plug refused username '" + options_.username +
                  "' and the configured password (HTTP 401 to Basic authentication): wrong "
                  "password?");
    }
    std::vector<std::string> values;
    for (const auto& [name, value] : r.headers) {
      if (name == "www-authenticate") values.push_back(value);
    }
    std::string error;
    std::optional<http::DigestChallenge> challenge = http::parse_digest_challenge(values, &error);
    if (!challenge) return fail("GET " + base_ + target + ": HTTP 401, " + error);
    // The first 401 carries the challenge to answer, or says that a reused
    // nonce expired (the plug rebooted, or an hour passed): one more try
    // with it. The answer to a fresh challenge refused means a wrong
    // password.
    if (retried) {
      digest_.forget_challenge();
      return fail("GET " + base_ + target +
                  ": the plug refused user admin and the configured "
                  "password (HTTP 401 to digest authentication): wrong password?");
    }
    digest_.set_challenge(std::move(*challenge));
    send(target, authenticate, true, std::move(on_ok));
  }

  // ------------------------------------------------------------- results

  void fail(std::string why) {
    // Auto-detected plugs are asked /shelly again next time: the address
    // may now be another plug.
    if (options_.generation == "auto") generation_ = 0;
    metrics::SnapshotRecorder out;
    out.begin(power::kSourceUp);
    out.sample({{"source", kKind}, {"device", context_.instance.name}}, 0);
    context_.publish(out.take());
    auto done = std::move(done_);
    done_ = nullptr;
    if (done) done(Status::failed(std::move(why)));
  }

  void finish() {
    uint64_t now = uv_now(context_.loop);
    bool persist = now - last_persist_ms_ >= kPersistEveryMs;
    for (shelly::ChannelReading& c : reading_.channels) {
      if (!c.energy_joules) continue;
      shelly::EnergyCounter& counter = counter_for(c.rail);
      c.energy_joules = counter.update(*c.energy_joules);
      if (counter.take_offset_changed()) {
        ++counter_restarts_;
        persist = true;
      }
    }
    invalid_meter_readings_ += static_cast<uint64_t>(reading_.invalid_meters);
    if (persist) persist_counters();
    context_.publish(snapshot());
    auto done = std::move(done_);
    done_ = nullptr;
    if (done) done(Status::fine());
  }

  shelly::EnergyCounter& counter_for(const std::string& rail) {
    auto it = counters_.find(rail);
    if (it != counters_.end()) return it->second;
    shelly::EnergyCounter& counter = counters_[rail];
    if (auto saved = context_.state.get("energy/" + rail); saved && !counter.restore(*saved)) {
      log::warn("shelly_state_damaged", {{"source", context_.instance.name}, {"rail", rail}});
    }
    return counter;
  }

  void persist_counters() {
    last_persist_ms_ = uv_now(context_.loop);
    for (const auto& [rail, counter] : counters_) {
      std::string error = context_.state.put("energy/" + rail, counter.to_state());
      if (!error.empty()) {
        log::warn("shelly_state_refused",
                  {{"source", context_.instance.name}, {"rail", rail}, {"error", error}});
      }
    }
  }

  std::shared_ptr<const metrics::Snapshot> snapshot() const {
    metrics::SnapshotRecorder out;
    const std::string& device = context_.instance.name;
    out.begin(power::kSourceUp);
    out.sample({{"source", kKind}, {"device", device}}, 1);
    auto family = [&](const metrics::FamilyDesc& desc,
                      std::optional<double> shelly::ChannelReading::*field) {
      bool begun = false;
      for (const shelly::ChannelReading& c : reading_.channels) {
        if (!(c.*field)) continue;
        if (!begun) out.begin(desc);
        begun = true;
        out.sample({{"source", kKind}, {"device", device}, {"rail", c.rail}}, *(c.*field));
      }
    };
    family(power::kWatts, &shelly::ChannelReading::watts);
    family(power::kVolts, &shelly::ChannelReading::volts);
    family(power::kAmperes, &shelly::ChannelReading::amperes);
    family(power::kJoules, &shelly::ChannelReading::energy_joules);

    bool begun = false;
    for (const shelly::ChannelReading& c : reading_.channels) {
      if (!c.relay_on) continue;
      if (!begun) out.begin(kRelayOn);
      begun = true;
      out.sample({{"source", kKind}, {"device", device}, {"rail", c.rail}}, *c.relay_on ? 1 : 0);
    }
    begun = false;
    auto temperature = [&](std::string_view sensor, double celsius) {
      if (!begun) out.begin(kTemperature);
      begun = true;
      out.sample({{"source", kKind}, {"device", device}, {"sensor", sensor}}, celsius);
    };
    if (reading_.device_temperature_celsius) {
      temperature("device", *reading_.device_temperature_celsius);
    }
    for (const shelly::ChannelReading& c : reading_.channels) {
      if (c.temperature_celsius) temperature(c.rail, *c.temperature_celsius);
    }
    // Unlabelled: /metrics adds the instance as `source`, as for every
    // edgemon_* family of a source.
    out.begin({"edgemon_shelly_energy_resets_total",
               "Times the plug's energy counter went back (a reboot of the plug); "
               "edge_energy_joules_total went on from where it was.",
               metrics::Type::kCounter});
    out.sample(static_cast<double>(counter_restarts_));
    out.begin({"edgemon_shelly_invalid_readings_total",
               "Gen1 meter readings left out because the plug marked them invalid.",
               metrics::Type::kCounter});
    out.sample(static_cast<double>(invalid_meter_readings_));
    return out.take();
  }

  static constexpr metrics::FamilyDesc kRelayOn{
      "edge_power_relay_on",
      "1 when a smart plug's relay is closed (the load is powered), 0 when it is open.",
      metrics::Type::kGauge};
  static constexpr metrics::FamilyDesc kTemperature{
      "edge_power_meter_temperature_celsius",
      "Internal temperature of a power meter (a smart plug), in degrees Celsius; `sensor` is "
      "the component that reports it, or `device`.",
      metrics::Type::kGauge};

  SourceContext& context_;
  const ShellyOptions& options_;
  std::string base_;           // the url without a trailing slash
  std::string target_prefix_;  // its path, when the plug is behind a proxy path
  int generation_ = 0;         // 0: not known yet (auto)
  http::DigestSession digest_;
  std::map<std::string, shelly::EnergyCounter> counters_;  // by rail
  uint64_t last_persist_ms_ = 0;
  uint64_t counter_restarts_ = 0;
  uint64_t invalid_meter_readings_ = 0;
  shelly::Reading reading_;
  std::function<void(Status)> done_;
  uint64_t request_id_ = 0;
};

const SourceRegistration kShelly{
    {"sources", "shelly",
     "Shelly smart plugs (Gen1, Gen2, Gen3, Gen4), each instance one plug read over its local "
     "HTTP API: power, voltage, current, energy, relay state.",
     config::make_options<ShellyOptions>, 10s},
    [](SourceContext& context) { return std::make_unique<ShellySource>(context); }};

}  // namespace
}  // namespace edgemon::sources
