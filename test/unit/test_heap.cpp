// The heap's tuning and trimmer: what a worker thread frees goes back to the
// kernel at the next trim, whichever thread allocated it.
#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "cmocka_all.hpp"
#include "core/heap.hpp"
#include "loop_helpers.hpp"

namespace {

using edgemon::test::run_until;
using edgemon::test::TestLoop;

// Unused under AddressSanitizer, whose allocator replaces glibc's.
[[maybe_unused]] int64_t rss_anon_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("RssAnon:", 0) == 0) return std::atoll(line.c_str() + 8);
  }
  return -1;
}

// A request body inflated on libuv's pool, a batch encoded on the spool's
// thread: 6 MiB in blocks below the mmap threshold, touched, then freed.
[[maybe_unused]] void allocate_and_free_on_a_thread() {
  std::thread worker([] {
    std::vector<void*> blocks;
    for (int i = 0; i < 48; ++i) {
      void* p = std::malloc(128 * 1024);
      std::memset(p, 1, 128 * 1024);
      blocks.push_back(p);
    }
    for (void* p : blocks)
      std::free(p);
  });
  worker.join();
}

void what_a_thread_frees_goes_back_at_the_next_trim(void**) {
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer's allocator replaces glibc's: nothing here applies.
  skip();
#else
  int64_t before = rss_anon_kib();
  allocate_and_free_on_a_thread();
  print_message("RssAnon %lld KiB, after the thread %lld KiB\n", (long long)before,
                (long long)rss_anon_kib());
  TestLoop l;
  {
    edgemon::HeapTrimmer trimmer(&l.loop, 20);
    // With the trim threshold at 8 MiB, neither free() nor malloc_trim()
    // gave back the top of the thread's arena: this stayed at +6 MiB.
    bool back = run_until(
        &l.loop, [&] { return rss_anon_kib() < before + 1024; }, 3000);
    print_message("after trimming %lld KiB\n", (long long)rss_anon_kib());
    assert_true(back);
  }
#endif
}

}  // namespace

int main() {
  // As the daemon does, before any thread exists.
  edgemon::tune_heap();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(what_a_thread_frees_goes_back_at_the_next_trim),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
