#include "sources/shelly/energy_counter.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace edgemon::sources::shelly {

bool EnergyCounter::restore(std::string_view state) {
  std::string text(state);
  char* end = nullptr;
  double offset = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != ' ') return false;
  const char* second = end + 1;
  double last = std::strtod(second, &end);
  if (end == second || *end != '\0') return false;
  if (!std::isfinite(offset) || !std::isfinite(last) || offset < 0 || last < 0) return false;
  offset_ = offset;
  last_ = last;
  return true;
}

std::string EnergyCounter::to_state() const {
  // %.17g: the double back exactly, so a restart changes nothing.
  char text[64];
  std::snprintf(text, sizeof text, "%.17g %.17g", offset_, last_);
  return text;
}

double EnergyCounter::update(double plug_joules) {
  if (plug_joules < last_ && last_ - plug_joules <= kRoundingJoules) {
    // Not a reboot: the last printed digit of a counter read in a
    // different rounding. Taking it as one would add the whole count again.
    return total();
  }
  if (plug_joules < last_) {
    offset_ += last_;
    offset_changed_ = true;
  }
  last_ = plug_joules;
  return total();
}

}  // namespace edgemon::sources::shelly
