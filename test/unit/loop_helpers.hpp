#pragma once
// A loop for a test, and running it until something holds.
#include <uv.h>

#include <sys/stat.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

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

// A temporary directory, removed with everything in it.
struct TempDir {
  std::string path;
  explicit TempDir(const char* prefix = "edgemon-test") {
    std::string tmpl = std::string("/tmp/") + prefix + "-XXXXXX";
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string file(const char* name) const { return path + "/" + name; }
  // An executable shell script of `body`.
  std::string script(const char* name, const std::string& body) const {
    std::string p = file(name);
    std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
    chmod(p.c_str(), 0755);
    return p;
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
