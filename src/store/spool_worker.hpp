#pragma once
// The spool on its own thread: the loop posts work and gets the result back
// as a callback on the loop thread, so no SQLite call (and no fsync) ever
// runs on the loop. Jobs run in posting order, which keeps each output's
// appends, deliveries and deletions in the order they were decided.
#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "core/worker_thread.hpp"
#include "store/spool.hpp"

namespace edgemon::store {

class SpoolWorker {
 public:
  explicit SpoolWorker(uv_loop_t* loop) : worker_(loop) {}
  // Finishes every queued job (so a batch handed over is written) and closes
  // the file; completions not yet delivered are dropped.
  ~SpoolWorker() = default;
  SpoolWorker(const SpoolWorker&) = delete;
  SpoolWorker& operator=(const SpoolWorker&) = delete;

  // Opens (or re-opens) the file on the spool thread.
  void open(SpoolOptions options, std::function<void(std::string error, OpenReport report)> done) {
    struct Result {
      std::string error;
      OpenReport report;
    };
    call<Result>(
        [this, options = std::move(options)](Spool*) {
          Result r;
          spool_.reset();
          spool_ = Spool::open(options, &r.report, &r.error);
          return r;
        },
        [done = std::move(done)](Result&& r) { done(std::move(r.error), std::move(r.report)); });
  }

  // Runs job(spool) on the spool thread -- spool is null when no file is
  // open -- then done(result) on the loop thread.
  template <typename R>
  void call(std::function<R(Spool*)> job, std::function<void(R&&)> done) {
    auto result = std::make_shared<R>();
    worker_.post([this, job = std::move(job), result] { *result = job(spool_.get()); },
                 [done = std::move(done), result] { done(std::move(*result)); });
  }

  size_t pending() const { return worker_.pending(); }

 private:
  // Declared before worker_ so that it is destroyed after the worker thread
  // has run its last job.
  std::unique_ptr<Spool> spool_;
  WorkerThread worker_;
};

}  // namespace edgemon::store
