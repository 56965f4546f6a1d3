#include "core/heap.hpp"

#include <malloc.h>

namespace edgemon {

void tune_heap() {
  // By default glibc serves blocks above 128 KiB with mmap until one is
  // freed, then raises that threshold to the freed block's size and keeps
  // what it frees in the heap for good: a hub's RSS would stay at its
  // busiest minute's. A block served with mmap is zeroed page by page on
  // first touch and unmapped on free, which at a few hundred requests a
  // second cost a hub a quarter of its CPU in page faults. So: a fixed
  // threshold above the blocks of ordinary requests (agents send a few
  // hundred KiB), while the bodies of the largest requests are still mapped
  // and go back to the system when freed.
  //
  // Two arenas: every thread (parser, history writer and reader, spool,
  // libuv's pool) keeping its own heap of freed blocks made a hub's peak
  // RSS the sum of theirs; one arena for all cost a hub 20 % more CPU a
  // point in lock contention (bench/hub_bench.py). The second arena's free
  // top goes back to the kernel only in free(), when it exceeds the trim
  // threshold: malloc_trim() (HeapTrimmer) gives back the main heap's top
  // and free pages inside both, never that. At 8 MiB, a gzip body inflated
  // on the pool left 6 MiB of it resident for good; at 1 MiB it is back
  // as soon as it is freed, for a CPU cost within the bench's noise (1.81
  // and 1.90 us a point).
  mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
  mallopt(M_ARENA_MAX, 2);
}

HeapTrimmer::HeapTrimmer(uv_loop_t* loop, uint64_t interval_ms) : loop_(loop), timer_(loop) {
  timer_.start(interval_ms, interval_ms, [this] { trim(); });
  timer_.unref();
}

void HeapTrimmer::trim() {
  if (*running_) return;
  struct Work {
    uv_work_t req{};
    std::shared_ptr<bool> running;
  };
  auto* work = new Work;
  work->req.data = work;
  work->running = running_;
  *running_ = true;
  int rc = uv_queue_work(
      loop_, &work->req, [](uv_work_t*) { malloc_trim(0); },
      [](uv_work_t* req, int) {
        auto* w = static_cast<Work*>(req->data);
        *w->running = false;
        delete w;
      });
  if (rc != 0) {
    *running_ = false;
    delete work;
  }
}

}  // namespace edgemon
