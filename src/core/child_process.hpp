#pragma once
// A long-running helper program (tegrastats, a log follower) whose output a
// source reads line by line, kept running: whenever it exits, for whatever
// reason, it is started again after a backoff. A missing or broken program
// is an error in the status, retried, never a crash.
//
// Children are spawned through the launcher (core/child_launcher.hpp) when
// one is set, so that they die with edgemon even when edgemon is SIGKILLed.
//
// Loop thread only. The callbacks may call stop(), but must not destroy the
// ChildProcess: do that from stop()'s done, or from outside a callback.
#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/backoff.hpp"
#include "core/timer.hpp"

namespace edgemon {

struct ChildOptions {
  // Names the child in errors and logs, e.g. "tegrastats"; argv[0] if empty.
  std::string name;
  // argv[0] is the program: a path, or a name looked up in PATH.
  std::vector<std::string> argv;
  // "KEY=VALUE" entries added to edgemon's environment (replacing a KEY
  // already there).
  std::vector<std::string> env;
  // Longer lines are cut to this many bytes and counted.
  size_t max_line_bytes = 64 * 1024;
  size_t max_stderr_line_bytes = 64 * 1024;
  std::chrono::milliseconds restart_initial{1000};
  std::chrono::milliseconds restart_max{60000};
  // A child that ran this long was healthy: its exit starts the backoff anew
  // instead of continuing it.
  std::chrono::milliseconds healthy_after{30000};
  // stop(): SIGTERM, then SIGKILL after this long.
  std::chrono::milliseconds stop_grace{2000};
};

enum class ChildEvent { kStarted, kExited, kSpawnFailed };

struct ChildStatus {
  bool running = false;
  int64_t pid = 0;  // 0 while not running
  uint64_t starts = 0;
  // Starts attempted again after an exit or a failed spawn.
  uint64_t restarts = 0;
  uint64_t exits = 0;
  uint64_t spawn_failures = 0;
  // Children that ignored SIGTERM for stop_grace.
  uint64_t killed_after_grace = 0;
  // Children killed by kill_hung() (alive, but no use to their owner).
  uint64_t killed_hung = 0;
  uint64_t lines = 0;
  uint64_t lines_truncated = 0;
  uint64_t stderr_lines = 0;
  uint64_t stderr_lines_truncated = 0;
  int64_t last_exit_status = 0;
  int last_term_signal = 0;
  // Why the child last stopped running or could not start, e.g.
  // "tegrastats: no such file or directory"; kept after a successful restart.
  std::string last_error;
  // The delay before the pending restart.
  int64_t restart_in_ms = 0;
};

struct ChildCallbacks {
  // Complete lines of stdout, without the newline; a partial last line is
  // delivered when the child closes its stdout.
  std::function<void(std::string_view line)> on_line;
  // Likewise for stderr; null sends the child's stderr to /dev/null.
  std::function<void(std::string_view line)> on_stderr_line;
  // After every start, exit and failed spawn.
  std::function<void(ChildEvent event, const ChildStatus& status)> on_state;
};

class ChildProcess {
 public:
  ChildProcess(uv_loop_t* loop, ChildOptions options, ChildCallbacks callbacks);
  // SIGKILLs a running child without waiting for it (it is reaped later by
  // the loop) and delivers nothing more.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Spawns the child; a failure is reported through on_state and retried.
  // Does nothing unless stopped (or never started).
  void start();
  // SIGTERM, SIGKILL after stop_grace; `done` runs on a later loop iteration
  // once the child is reaped and its pipes closed. An unterminated last line
  // is dropped. start() may be called again afterwards.
  void stop(std::function<void()> done);
  // A child that runs but has stopped doing its work (tegrastats silent for
  // minutes) is SIGKILLed; its exit is reported with `why` and restarted
  // with backoff like any other. Does nothing unless running.
  void kill_hung(std::string why);

  const ChildStatus& status() const { return status_; }
  const ChildOptions& options() const { return options_; }

  // One spawned child and its pipes; defined in the .cpp.
  struct Run;

 private:
  enum class State { kIdle, kRunning, kWaiting, kStopping };

  void spawn();
  [[nodiscard]] std::string spawn_run(const std::vector<std::string>& env,
                                      std::unique_ptr<Run>* out);
  void spawn_failed(std::string error);
  void schedule_restart();
  void on_exit(int64_t exit_status, int term_signal);
  std::string hung_reason_;  // set by kill_hung() until the exit arrives
  void on_read(uv_stream_t* stream, ssize_t nread);
  void on_stdout_line(std::string_view line, bool cut);
  void on_stderr_line(std::string_view line, bool cut);
  void finish_stop();
  void notify(ChildEvent event);

  uv_loop_t* loop_;
  ChildOptions options_;
  ChildCallbacks callbacks_;
  State state_ = State::kIdle;
  ChildStatus status_;
  Backoff backoff_;
  Timer restart_timer_;
  // SIGKILL after the grace; then the deferred call of stop()'s done.
  Timer stop_timer_;
  std::vector<std::function<void()>> stop_done_;
  std::unique_ptr<Run> run_;
  // One buffer for both pipes: libuv reads one stream at a time.
  std::unique_ptr<char[]> read_buffer_;
};

}  // namespace edgemon
