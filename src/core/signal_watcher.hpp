#pragma once
// A libuv signal handler owned by value. libuv turns the signal into a loop
// event, so the callback runs on the loop thread like everything else.
#include <functional>

#include "core/uv_handle.hpp"

namespace edgemon {

class SignalWatcher {
 public:
  SignalWatcher(uv_loop_t* loop, int signum, std::function<void()> callback);
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;
  // Signal handlers never keep the loop alive on their own.
  void unref();

 private:
  UvHandle<uv_signal_t> handle_;
  std::function<void()> callback_;
};

}  // namespace edgemon
