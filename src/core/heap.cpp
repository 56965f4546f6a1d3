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
  // threshold above any request-sized block (the largest, a 32 MiB decoded
  // body, is still mapped), the heap's top kept up to as much, and free
  // pages handed back by HeapTrimmer instead.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
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
