#pragma once
// glibc's allocator, tuned for what the daemon does: request bodies,
// parsed points and encoded batches of a few hundred KiB come and go many
// times a second on a hub, while a board's memory is small.
#include <uv.h>

#include <cstdint>
#include <memory>

#include "core/timer.hpp"

namespace edgemon {

// Call once at start, before any thread exists.
void tune_heap();

// Hands the heap's free pages back to the kernel every `interval_ms`. It
// runs on the thread pool: after a burst malloc_trim() walks every arena
// and takes milliseconds, which the loop must not spend.
class HeapTrimmer {
 public:
  HeapTrimmer(uv_loop_t* loop, uint64_t interval_ms);
  HeapTrimmer(const HeapTrimmer&) = delete;
  HeapTrimmer& operator=(const HeapTrimmer&) = delete;

 private:
  void trim();

  uv_loop_t* loop_;
  Timer timer_;
  // Held by the work request: one running at exit finds it false.
  std::shared_ptr<bool> running_ = std::make_shared<bool>(false);
};

}  // namespace edgemon
