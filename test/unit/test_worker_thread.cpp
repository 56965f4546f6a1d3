// WorkerThread: jobs in posting order on another thread, completions in the
// same order on the loop thread, queued jobs run by the destructor, and a
// completion that destroys its own WorkerThread.
#include <sched.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "cmocka_all.hpp"
#include "core/worker_thread.hpp"

using edgemon::WorkerThread;

namespace {

struct Loop {
  uv_loop_t loop;
  Loop() { assert_int_equal(uv_loop_init(&loop), 0); }
  ~Loop() {
    // Lets close callbacks run, then checks that no handle was left behind.
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
  }
};

void jobs_and_completions_keep_their_order(void**) {
  Loop l;
  WorkerThread worker(&l.loop);
  const auto loop_thread = std::this_thread::get_id();
  std::vector<int> ran;               // written by the worker only
  std::vector<int> done;              // written by the loop thread only
  bool job_on_loop_thread = false;    // worker only
  bool done_off_loop_thread = false;  // loop thread only
  for (int i = 0; i < 100; ++i) {
    worker.post(
        [&, i] {
          job_on_loop_thread = job_on_loop_thread || std::this_thread::get_id() == loop_thread;
          ran.push_back(i);
        },
        [&, i] {
          done_off_loop_thread = done_off_loop_thread || std::this_thread::get_id() != loop_thread;
          done.push_back(i);
        });
  }
  assert_int_equal(worker.pending(), 100);
  // The worker keeps the loop alive only while something is in flight.
  uv_run(&l.loop, UV_RUN_DEFAULT);
  assert_int_equal(worker.pending(), 0);
  assert_false(job_on_loop_thread);
  assert_false(done_off_loop_thread);
  assert_int_equal(ran.size(), 100);
  assert_int_equal(done.size(), 100);
  for (int i = 0; i < 100; ++i) {
    assert_int_equal(ran[i], i);
    assert_int_equal(done[i], i);
  }
}

void ten_thousand_jobs_some_without_completion(void**) {
  Loop l;
  WorkerThread worker(&l.loop);
  constexpr int kJobs = 10000;
  int64_t sum = 0;  // worker only, read after every completion arrived
  int completions = 0;
  int last = -1;
  bool ordered = true;
  for (int i = 0; i < kJobs; ++i) {
    std::function<void()> done;
    if (i % 3 != 0) {
      done = [&, i] {
        ordered = ordered && i > last;
        last = i;
        ++completions;
      };
    }
    worker.post([&sum, i] { sum += i; }, done);
  }
  uv_run(&l.loop, UV_RUN_DEFAULT);
  assert_int_equal(worker.pending(), 0);
  assert_true(ordered);
  assert_int_equal(completions, kJobs - (kJobs + 2) / 3);
  assert_int_equal(sum, int64_t{kJobs} * (kJobs - 1) / 2);
  // An idle worker does not keep the loop running.
  assert_int_equal(uv_run(&l.loop, UV_RUN_NOWAIT), 0);
}

void destructor_runs_queued_jobs_and_drops_completions(void**) {
  Loop l;
  std::atomic<int> ran{0};
  int done = 0;
  {
    WorkerThread worker(&l.loop);
    for (int i = 0; i < 500; ++i) {
      worker.post([&] { ran.fetch_add(1); }, [&] { ++done; });
    }
  }
  assert_int_equal(ran.load(), 500);
  uv_run(&l.loop, UV_RUN_DEFAULT);
  assert_int_equal(done, 0);
}

void a_completion_may_destroy_the_worker(void**) {
  Loop l;
  auto worker = std::make_unique<WorkerThread>(&l.loop);
  int done = 0;
  for (int i = 0; i < 3; ++i) {
    worker->post([] {},
                 [&, i] {
                   ++done;
                   if (i == 0) worker.reset();
                 });
  }
  uv_run(&l.loop, UV_RUN_DEFAULT);
  assert_null(worker.get());
  assert_true(done >= 1);
}

void posting_from_a_completion_works(void**) {
  Loop l;
  WorkerThread worker(&l.loop);
  int chain = 0;
  std::function<void()> next = [&] {
    if (++chain < 50) worker.post([] {}, next);
  };
  worker.post([] {}, next);
  uv_run(&l.loop, UV_RUN_DEFAULT);
  assert_int_equal(chain, 50);
  assert_int_equal(worker.pending(), 0);
}

// The history's writer must not take CPU from ingest: its jobs run at
// SCHED_IDLE, the loop and an ordinary worker stay where they were.
void background_worker_runs_at_idle_priority(void**) {
  Loop l;
  WorkerThread background(&l.loop, WorkerThread::Priority::kBackground);
  WorkerThread normal(&l.loop);
  int background_policy = -1;
  int normal_policy = -1;
  background.post([&] { background_policy = sched_getscheduler(0); }, nullptr);
  normal.post([&] { normal_policy = sched_getscheduler(0); }, nullptr);
  uv_run(&l.loop, UV_RUN_DEFAULT);
  assert_int_equal(background_policy, SCHED_IDLE);
  assert_int_equal(normal_policy, SCHED_OTHER);
  assert_int_equal(sched_getscheduler(0), SCHED_OTHER);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(jobs_and_completions_keep_their_order),
      cmocka_unit_test(ten_thousand_jobs_some_without_completion),
      cmocka_unit_test(destructor_runs_queued_jobs_and_drops_completions),
      cmocka_unit_test(a_completion_may_destroy_the_worker),
      cmocka_unit_test(posting_from_a_completion_works),
      cmocka_unit_test(background_worker_runs_at_idle_priority),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
