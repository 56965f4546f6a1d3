#include "core/systemd.hpp"

#include <systemd/sd-daemon.h>

namespace edgemon::systemd {

void notify_ready(const std::string& status) {
  sd_notifyf(0, "READY=1\nSTATUS=%s\nMAINPID=%lu", status.c_str(),
             static_cast<unsigned long>(getpid()));
}

void notify_reloading() { sd_notify(0, "RELOADING=1"); }

void notify_stopping() { sd_notify(0, "STOPPING=1"); }

void notify_status(const std::string& status) { sd_notifyf(0, "STATUS=%s", status.c_str()); }

Watchdog::Watchdog(uv_loop_t* loop) : timer_(loop) {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    interval_ms_ = usec / 2000;
    if (interval_ms_ == 0) interval_ms_ = 1;
    timer_.unref();
    timer_.start(0, interval_ms_, [] { sd_notify(0, "WATCHDOG=1"); });
  }
}

}  // namespace edgemon::systemd
