#pragma once
// A libuv timer owned by value; the callback never outlives the Timer.
#include <cstdint>
#include <functional>

#include "core/uv_handle.hpp"

namespace edgemon {

class Timer {
 public:
  explicit Timer(uv_loop_t* loop);
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Fires after `timeout_ms`, then every `repeat_ms` if non-zero.
  void start(uint64_t timeout_ms, uint64_t repeat_ms, std::function<void()> callback);
  void stop();
  bool active() const;
  // Keeps the loop from waiting on this timer alone (for housekeeping timers).
  void unref();
  // Undoes unref(): the loop waits for this timer again.
  void ref();

 private:
  UvHandle<uv_timer_t> handle_;
  std::function<void()> callback_;
};

}  // namespace edgemon
