// Everything a Shelly plug (or whatever answers at its address) sends the
// shelly source: its JSON answers and its 401 challenge. The first byte
// picks the parser, the rest is the answer; the seed corpus has the
// recorded fixtures. Bad input must give an error string, never a crash,
// and the readings must stay bounded and finite.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/digest_auth.hpp"
#include "sources/shelly/shelly_parse.hpp"

using namespace edgemon::sources::shelly;

namespace {

void check_finite(const std::optional<double>& v) {
  if (v && !std::isfinite(*v)) std::abort();
}

void check(const ChannelReading& c) {
  check_finite(c.watts);
  check_finite(c.volts);
  check_finite(c.amperes);
  check_finite(c.temperature_celsius);
  check_finite(c.energy_joules);
  if (c.energy_joules && *c.energy_joules < 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: {
      DeviceInfo info;
      (void)parse_device_info(body, &info);
      break;
    }
    case 1: {
      Reading r;
      if (parse_gen1_status(body, &r).empty()) {
        if (r.channels.size() > kMaxChannels) std::abort();
        for (const ChannelReading& c : r.channels)
          check(c);
        check_finite(r.device_temperature_celsius);
      }
      break;
    }
    case 2: {
      ChannelReading c;
      if (parse_gen2_component(body, "switch:0", &c).empty()) check(c);
      break;
    }
    case 3:
      if (gen2_error_message(body).size() > 300) std::abort();
      break;
    default: {
      // One header value per line, as a response may carry several.
      std::vector<std::string> values;
      size_t start = 0;
      while (start <= body.size()) {
        size_t nl = body.find('\n', start);
        values.emplace_back(body.substr(start, nl == body.npos ? body.npos : nl - start));
        if (nl == body.npos) break;
        start = nl + 1;
      }
      std::string error;
      auto challenge = edgemon::http::parse_digest_challenge(values, &error);
      if (!challenge && error.empty()) std::abort();
      if (challenge && challenge->nonce.empty()) std::abort();
      break;
    }
  }
  return 0;
}
