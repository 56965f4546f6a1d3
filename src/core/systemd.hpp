#pragma once
// The systemd service protocol: readiness, watchdog pings and stopping,
// sent to $NOTIFY_SOCKET (nothing happens when it is unset).
#include <cstdint>
#include <memory>
#include <string>

#include "core/timer.hpp"

namespace edgemon::systemd {

void notify_ready(const std::string& status);
void notify_reloading();
void notify_stopping();

// Pings WATCHDOG=1 at half the WatchdogSec interval when systemd asked for
// it (WATCHDOG_USEC); does nothing otherwise. The ping comes from a loop
// timer, so a wedged loop stops the pings and systemd restarts us.
class Watchdog {
 public:
  explicit Watchdog(uv_loop_t* loop);
  bool enabled() const { return interval_ms_ > 0; }
  uint64_t interval_ms() const { return interval_ms_; }

 private:
  Timer timer_;
  uint64_t interval_ms_ = 0;
};

}  // namespace edgemon::systemd
