#pragma once
// A loop for a test, and running it until something holds.
#include <uv.h>

#include <cstdint>

#include "cmocka_all.hpp"
#include "core/timer.hpp"

namespace edgemon::test {

struct TestLoop {
  uv_loop_t loop;
  TestLoop() { assert_int_equal(uv_loop_init(&loop), 0); }
  ~TestLoop() {
    // Lets close callbacks (and the reaping of a child killed by a
    // destructor) run, then checks that no handle was left behind.
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
  }
};

// Runs the loop until `done` holds, for at most `timeout_ms`.
template <typename F>
bool run_until(uv_loop_t* loop, F done, int timeout_ms = 5000) {
  edgemon::Timer tick(loop);  // so that UV_RUN_ONCE returns to look at `done`
  tick.start(5, 5, [] {});
  uint64_t deadline = uv_hrtime() + uint64_t(timeout_ms) * 1000000;
  while (!done()) {
    if (uv_hrtime() > deadline) return false;
    uv_run(loop, UV_RUN_ONCE);
  }
  return true;
}

}  // namespace edgemon::test
