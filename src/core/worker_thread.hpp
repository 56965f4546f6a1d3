#pragma once
// One background thread that runs jobs in the order they were posted and hands
// each job's completion back to the loop thread. The spool's SQLite work runs
// here: a commit with synchronous=FULL on an SD card can take tens of
// milliseconds, which the loop must never wait for. A thread of its own (not
// libuv's pool) because the pool can be held by a statfs on a dead NFS mount.
#include <uv.h>

#include <functional>
#include <memory>

namespace edgemon {

class WorkerThread {
 public:
  enum class Priority {
    kNormal,
    // SCHED_IDLE: runs only on CPU nothing else wants. For work that may
    // fall behind (and drop, counted) when the machine is busy, so that it
    // takes no CPU from what must not fall behind.
    kBackground,
  };
  explicit WorkerThread(uv_loop_t* loop, Priority priority = Priority::kNormal);
  // Runs every job still queued (so that data handed over is written), then
  // joins; completions not yet delivered are dropped.
  ~WorkerThread();
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  // Queues `job` for the worker thread; `done` (may be null) then runs on the
  // loop thread. Jobs run one at a time, in posting order.
  void post(std::function<void()> job, std::function<void()> done);
  // Jobs posted and not yet completed on the loop thread.
  size_t pending() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgemon
