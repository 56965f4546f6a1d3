#include "core/worker_thread.hpp"

#include <sched.h>

#include <cassert>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "core/uv_handle.hpp"

namespace edgemon {

struct WorkerThread::Impl {
  struct Job {
    std::function<void()> work;
    std::function<void()> done;
  };

  uv_loop_t* loop = nullptr;
  UvHandle<uv_async_t> async;
  std::thread thread;

  std::mutex mutex;
  std::condition_variable wake;
  std::deque<Job> queue;                        // guarded by mutex
  std::deque<std::function<void()>> completed;  // guarded by mutex; null done kept for counting
  bool stopping = false;                        // guarded by mutex

  // Loop thread only.
  size_t pending = 0;
  // Set while completions run, so that a completion which destroys the
  // WorkerThread stops the delivery loop instead of touching freed memory.
  bool* destroyed = nullptr;

  void run_worker();
  void deliver();
  void set_referenced(bool referenced);
};

void WorkerThread::Impl::run_worker() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex);
      wake.wait(lock, [this] { return stopping || !queue.empty(); });
      // Stopping still drains the queue: a job may carry data to be written.
      if (queue.empty()) return;
      job = std::move(queue.front());
      queue.pop_front();
    }
    if (job.work) job.work();
    {
      std::lock_guard lock(mutex);
      completed.push_back(std::move(job.done));
    }
    // uv_async_send coalesces; deliver() drains everything that is there.
    uv_async_send(async.get());
  }
}

void WorkerThread::Impl::deliver() {
  std::deque<std::function<void()>> ready;
  {
    std::lock_guard lock(mutex);
    ready.swap(completed);
  }
  bool gone = false;
  destroyed = &gone;
  while (!ready.empty()) {
    std::function<void()> done = std::move(ready.front());
    ready.pop_front();
    --pending;
    if (pending == 0) set_referenced(false);
    if (done) done();
    if (gone) return;
  }
  destroyed = nullptr;
}

// Referenced only while something is in flight: an idle worker must not keep
// uv_run from returning, a busy one must (its completion is still to come).
void WorkerThread::Impl::set_referenced(bool referenced) {
  if (referenced) {
    uv_ref(async.base());
  } else {
    uv_unref(async.base());
  }
}

WorkerThread::WorkerThread(uv_loop_t* loop, Priority priority) : impl_(std::make_unique<Impl>()) {
  impl_->loop = loop;
  int rc = uv_async_init(loop, impl_->async.get(), [](uv_async_t* handle) {
    if (handle->data != nullptr) static_cast<Impl*>(handle->data)->deliver();
  });
  assert(rc == 0);
  (void)rc;
  impl_->async.mark_initialized();
  impl_->async.get()->data = impl_.get();
  impl_->set_referenced(false);
  impl_->thread = std::thread([impl = impl_.get(), priority] {
    // Linux schedules each thread on its own; moving to SCHED_IDLE needs
    // no privilege. Failing leaves the thread at the normal priority.
    if (priority == Priority::kBackground) {
      sched_param none{};
      sched_setscheduler(0, SCHED_IDLE, &none);
    }
    impl->run_worker();
  });
}

WorkerThread::~WorkerThread() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_one();
  impl_->thread.join();
  if (impl_->destroyed != nullptr) *impl_->destroyed = true;
  // The worker is gone, so nothing can uv_async_send any more; the handle's
  // memory is freed by its close callback on a later loop iteration.
  impl_->async.close();
}

void WorkerThread::post(std::function<void()> job, std::function<void()> done) {
  if (impl_->pending++ == 0) impl_->set_referenced(true);
  {
    std::lock_guard lock(impl_->mutex);
    impl_->queue.push_back({std::move(job), std::move(done)});
  }
  impl_->wake.notify_one();
}

size_t WorkerThread::pending() const {
  return impl_->pending;
}

}  // namespace edgemon
