#pragma once
// A plug's energy counter made monotonic. The plug counts from 0 again
// after a reboot or a firmware update; a Prometheus counter must never go
// backwards. So a decrease is taken as a restart of the plug's counter:
// what it had counted until then is added to an offset, and the total is
// offset + the plug's count.
//
// The offset and the plug's last count are kept in the instance's durable
// state (as text, `to_state()`), so that the total also survives a restart
// of edgemon -- including one during which the plug rebooted.
#include <optional>
#include <string>
#include <string_view>

namespace edgemon::sources::shelly {

class EnergyCounter {
 public:
  // A decrease up to this is rounding, not a reboot: Gen2+ plugs print
  // watt-hours with 3 decimals (3.6 J), Gen1 whole watt-minutes (60 J, but
  // never seen to waver).
  static constexpr double kRoundingJoules = 3.6;

  // From a to_state() text; a damaged text starts from zero (returns false).
  bool restore(std::string_view state);
  std::string to_state() const;

  // Takes the plug's count (joules) and returns the monotonic total.
  double update(double plug_joules);

  double total() const { return offset_ + last_; }
  // Whether update() has moved the offset since the last call of this.
  bool take_offset_changed() {
    bool changed = offset_changed_;
    offset_changed_ = false;
    return changed;
  }

 private:
  double offset_ = 0;
  double last_ = 0;
  bool offset_changed_ = false;
};

}  // namespace edgemon::sources::shelly
