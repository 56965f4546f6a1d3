// ChildProcess with real /bin/sh scripts: lines in order (a partial last one
// too), long lines cut, a crashing child restarted with backoff, a missing
// binary retried with a clear error, stop() by SIGTERM and by SIGKILL after
// the grace, and a child that dies with its parent through the launcher even
// when the parent is SIGKILLed.
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cmocka_all.hpp"
#include "core/child_launcher.hpp"
#include "core/child_process.hpp"
#include "core/timer.hpp"
#include "loop_helpers.hpp"

using edgemon::ChildEvent;
using edgemon::ChildOptions;
using edgemon::ChildProcess;
using edgemon::ChildStatus;
using namespace std::chrono_literals;

namespace {

struct Loop : edgemon::test::TestLoop {};

struct Dir : edgemon::test::TempDir {
  Dir() : TempDir("edgemon-child") {}
};

using edgemon::test::run_until;

// Everything a test looks at, filled by the callbacks.
struct Seen {
  std::vector<std::string> lines;
  std::vector<std::string> stderr_lines;
  std::vector<ChildEvent> events;
  std::vector<int64_t> restart_delays;  // restart_in_ms at each exit or failure
  std::vector<uint64_t> start_times;    // uv_hrtime at each start
  edgemon::ChildCallbacks callbacks(bool want_stderr = false) {
    edgemon::ChildCallbacks c;
    c.on_line = [this](std::string_view l) { lines.emplace_back(l); };
    if (want_stderr)
      c.on_stderr_line = [this](std::string_view l) { stderr_lines.emplace_back(l); };
    c.on_state = [this](ChildEvent e, const ChildStatus& s) {
      events.push_back(e);
      if (e == ChildEvent::kStarted) start_times.push_back(uv_hrtime());
      if (e != ChildEvent::kStarted) restart_delays.push_back(s.restart_in_ms);
    };
    return c;
  }
};

ChildOptions options(std::vector<std::string> argv) {
  ChildOptions o;
  o.argv = std::move(argv);
  // Long enough that no test sees a restart it did not ask for.
  o.restart_initial = 10s;
  o.restart_max = 10s;
  return o;
}

void lines_in_order_with_partial_last_line(void**) {
  Loop l;
  Dir dir;
  std::string script = dir.script("lines.sh",
                                  "echo \"$EDGEMON_TEST_VAR\"\n"
                                  "i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done\n"
                                  "printf 'no newline'");
  Seen seen;
  ChildOptions o = options({script});
  o.env = {"EDGEMON_TEST_VAR=from env"};
  ChildProcess child(&l.loop, o, seen.callbacks());
  child.start();
  assert_true(child.status().running);
  assert_true(
      run_until(&l.loop, [&] { return child.status().exits == 1 && seen.lines.size() == 2002; }));
  assert_string_equal(seen.lines[0].c_str(), "from env");
  for (int i = 0; i < 2000; ++i) {
    assert_string_equal(seen.lines[i + 1].c_str(), ("line" + std::to_string(i)).c_str());
  }
  assert_string_equal(seen.lines.back().c_str(), "no newline");
  const ChildStatus& s = child.status();
  assert_int_equal(s.lines, 2002);
  assert_int_equal(s.lines_truncated, 0);
  assert_int_equal(s.last_exit_status, 0);
  assert_int_equal(s.last_term_signal, 0);
  assert_false(s.running);
  assert_int_equal(s.pid, 0);
  assert_int_equal(s.starts, 1);
}

void long_lines_cut_and_counted(void**) {
  Loop l;
  Dir dir;
  std::string script = dir.script("long.sh",
                                  "head -c 300000 /dev/zero | tr '\\0' a; echo\n"
                                  "echo short\n"
                                  "head -c 50 /dev/zero | tr '\\0' e >&2; echo >&2\n"
                                  "echo err-short >&2\n"
                                  "exit 3");
  Seen seen;
  ChildOptions o = options({script});
  o.max_line_bytes = 100;
  o.max_stderr_line_bytes = 10;
  ChildProcess child(&l.loop, o, seen.callbacks(true));
  child.start();
  assert_true(run_until(&l.loop, [&] {
    return child.status().exits == 1 && seen.lines.size() == 2 && seen.stderr_lines.size() == 2;
  }));
  assert_string_equal(seen.lines[0].c_str(), std::string(100, 'a').c_str());
  assert_string_equal(seen.lines[1].c_str(), "short");
  assert_string_equal(seen.stderr_lines[0].c_str(), std::string(10, 'e').c_str());
  assert_string_equal(seen.stderr_lines[1].c_str(), "err-short");
  assert_int_equal(child.status().lines_truncated, 1);
  assert_int_equal(child.status().stderr_lines_truncated, 1);
  assert_int_equal(child.status().last_exit_status, 3);
  assert_string_equal(child.status().last_error.c_str(),
                      (script + ": exited with status 3").c_str());
}

void crash_restarted_with_backoff(void**) {
  Loop l;
  Dir dir;
  std::string script = dir.script("crash.sh", "echo up; kill -SEGV $$");
  Seen seen;
  ChildOptions o = options({script});
  o.name = "crasher";
  o.restart_initial = 40ms;
  o.restart_max = 160ms;
  ChildProcess child(&l.loop, o, seen.callbacks());
  child.start();
  assert_true(run_until(&l.loop, [&] { return child.status().starts == 5; }));
  const ChildStatus& s = child.status();
  assert_int_equal(s.restarts, 4);
  assert_true(s.exits >= 4);
  assert_int_equal(s.last_term_signal, SIGSEGV);
  assert_contains(s.last_error, "crasher: killed by signal 11");
  // Each delay is drawn from [ceiling/2, ceiling], the ceiling doubling up
  // to the max: 40, 80, 160, 160.
  const int64_t ceilings[] = {40, 80, 160, 160};
  for (int i = 0; i < 4; ++i) {
    assert_in_range(seen.restart_delays[i], ceilings[i] / 2, ceilings[i]);
    uint64_t gap_ms = (seen.start_times[i + 1] - seen.start_times[i]) / 1000000;
    // +1: uv_now, which the timer counts from, is truncated to the ms.
    assert_true(gap_ms + 1 >= uint64_t(seen.restart_delays[i]));
  }
  assert_true(seen.lines.size() >= 4);
}

void healthy_child_starts_backoff_anew(void**) {
  Loop l;
  Dir dir;
  std::string script = dir.script("healthy.sh", "sleep 0.1; exit 1");
  Seen seen;
  ChildOptions o = options({script});
  o.restart_initial = 20ms;
  o.restart_max = 10s;
  o.healthy_after = 50ms;
  ChildProcess child(&l.loop, o, seen.callbacks());
  child.start();
  assert_true(run_until(&l.loop, [&] { return child.status().exits == 4; }));
  for (int64_t delay : seen.restart_delays)
    assert_in_range(delay, 10, 20);
}

void missing_binary_reported_and_retried(const char* launcher) {
  edgemon::set_child_launcher(launcher);
  Loop l;
  Seen seen;
  for (const char* program : {"/nonexistent/tegrastats", "edgemon-no-such-program"}) {
    ChildOptions o = options({program, "--interval", "1000"});
    o.name = "tegrastats";
    o.restart_initial = 10ms;
    o.restart_max = 20ms;
    ChildProcess child(&l.loop, o, seen.callbacks());
    child.start();
    assert_false(child.status().running);
    assert_int_equal(child.status().spawn_failures, 1);
    assert_true(run_until(&l.loop, [&] { return child.status().spawn_failures == 4; }));
    const ChildStatus& s = child.status();
    assert_string_equal(s.last_error.c_str(), "tegrastats: no such file or directory");
    assert_int_equal(s.starts, 0);
    assert_int_equal(s.restarts, 3);
    assert_false(s.running);
    assert_int_equal(seen.events.back(), ChildEvent::kSpawnFailed);
    bool stopped = false;
    child.stop([&] { stopped = true; });
    assert_true(run_until(&l.loop, [&] { return stopped; }));
  }
  edgemon::set_child_launcher(EDGEMON_BIN);
}

void missing_binary_through_launcher(void**) {
  missing_binary_reported_and_retried(EDGEMON_BIN);
}

void missing_binary_spawned_directly(void**) {
  missing_binary_reported_and_retried("");
}

void stop_sends_sigterm(void**) {
  Loop l;
  Dir dir;
  std::string script = dir.script("term.sh", "echo ready; exec sleep 100");
  Seen seen;
  ChildOptions o = options({script});
  o.stop_grace = 5s;
  ChildProcess child(&l.loop, o, seen.callbacks());
  child.start();
  assert_true(run_until(&l.loop, [&] { return !seen.lines.empty(); }));
  bool stopped = false;
  child.stop([&] { stopped = true; });
  assert_false(stopped);  // never from within stop()
  assert_true(run_until(
      &l.loop, [&] { return stopped; }, 3000));
  const ChildStatus& s = child.status();
  assert_int_equal(s.last_term_signal, SIGTERM);
  assert_int_equal(s.killed_after_grace, 0);
  assert_false(s.running);
  // A stop is not an exit to restart from.
  assert_int_equal(seen.events.back(), ChildEvent::kStarted);
  assert_int_equal(s.restarts, 0);
  // And it can be started again.
  child.start();
  assert_true(run_until(&l.loop, [&] { return seen.lines.size() == 2; }));
  assert_int_equal(child.status().starts, 2);
}

void stop_kills_after_grace(void**) {
  Loop l;
  Dir dir;
  // The ignored SIGTERM survives the exec.
  std::string script = dir.script("stubborn.sh", "trap '' TERM; echo ready; exec sleep 100");
  Seen seen;
  ChildOptions o = options({script});
  o.stop_grace = 200ms;
  ChildProcess child(&l.loop, o, seen.callbacks());
  child.start();
  assert_true(run_until(&l.loop, [&] { return !seen.lines.empty(); }));
  bool stopped = false;
  uint64_t t0 = uv_hrtime();
  child.stop([&] { stopped = true; });
  assert_true(run_until(
      &l.loop, [&] { return stopped; }, 3000));
  uint64_t took_ms = (uv_hrtime() - t0) / 1000000;
  assert_true(took_ms >= 190);
  assert_int_equal(child.status().last_term_signal, SIGKILL);
  assert_int_equal(child.status().killed_after_grace, 1);
}

// A child alive but of no use is killed, reported with the owner's reason,
// and started again like any child that exited.
void hung_child_killed_and_restarted(void**) {
  Loop l;
  Dir dir;
  std::string script = dir.script("hangs.sh", "echo ready; exec sleep 100");
  Seen seen;
  ChildOptions o = options({script});
  o.restart_initial = 50ms;
  ChildProcess child(&l.loop, o, seen.callbacks());
  child.start();
  assert_true(run_until(&l.loop, [&] { return !seen.lines.empty(); }));
  int64_t first = child.status().pid;
  child.kill_hung("printed nothing for 9s");
  assert_true(run_until(&l.loop, [&] { return child.status().exits == 1; }));
  assert_int_equal(child.status().killed_hung, 1);
  assert_int_equal(child.status().last_term_signal, SIGKILL);
  assert_contains(child.status().last_error, "killed: printed nothing for 9s");
  assert_true(
      run_until(&l.loop, [&] { return child.status().starts == 2 && seen.lines.size() == 2; }));
  assert_true(child.status().pid != first);
  bool stopped = false;
  child.stop([&] { stopped = true; });
  assert_true(run_until(&l.loop, [&] { return stopped; }));
  // Not running: nothing to kill.
  child.kill_hung("again");
  assert_int_equal(child.status().killed_hung, 1);
}

void destructor_kills_and_reaps(void**) {
  Dir dir;
  std::string script = dir.script("sleeper.sh", "echo ready; exec sleep 100");
  int64_t pid = 0;
  {
    Loop l;
    Seen seen;
    {
      ChildProcess child(&l.loop, options({script}), seen.callbacks());
      child.start();
      assert_true(run_until(&l.loop, [&] { return !seen.lines.empty(); }));
      pid = child.status().pid;
      assert_true(pid > 0);
    }
    // ~Loop runs the loop until the killed child is reaped.
  }
  assert_int_equal(kill(static_cast<pid_t>(pid), 0), -1);
  assert_int_equal(errno, ESRCH);
}

// The forked "daemon": a loop with one ChildProcess, run until killed.
[[noreturn]] void run_parent(const std::string& script) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  ChildProcess child(&loop, options({script}), {});
  child.start();
  uv_run(&loop, UV_RUN_DEFAULT);
  _exit(1);
}

pid_t read_pid(const std::string& path) {
  std::ifstream in(path);
  pid_t pid = 0;
  in >> pid;
  return pid;
}

void sleep_ms(int ms) {
  timespec ts{0, ms * 1000000L};
  nanosleep(&ts, nullptr);
}

pid_t parent_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  // pid (comm) state ppid ...; comm may contain spaces, so after the last ')'.
  std::istringstream rest(line.substr(line.rfind(')') + 1));
  char state = 0;
  pid_t ppid = 0;
  rest >> state >> ppid;
  return ppid;
}

// Forks a "daemon" running a child (through the launcher if set), SIGKILLs
// the daemon, and returns the child's pid, reparented to us.
pid_t kill_parent_of_child(const Dir& dir) {
  std::string pid_file = dir.file("child.pid");
  std::string script =
      dir.script("grandchild.sh", "echo $$ > " + pid_file + ".tmp; mv " + pid_file + ".tmp " +
                                      pid_file + "; exec sleep 100");
  pid_t parent = fork();
  assert_true(parent >= 0);
  if (parent == 0) run_parent(script);
  pid_t child = 0;
  for (int i = 0; i < 500 && child == 0; ++i) {
    child = read_pid(pid_file);
    if (child == 0) sleep_ms(10);
  }
  if (child == 0) {
    kill(parent, SIGKILL);
    waitpid(parent, nullptr, 0);
    fail_msg("the child never wrote its pid");
  }
  // Through the launcher, which exec'd in place: the script is the
  // daemon's own child.
  assert_int_equal(parent_of(child), parent);
  kill(parent, SIGKILL);
  int status = 0;
  assert_int_equal(waitpid(parent, &status, 0), parent);
  assert_true(WIFSIGNALED(status));
  return child;
}

void child_dies_with_sigkilled_parent(void**) {
  // Orphans come to us rather than to init, so that we can reap them and
  // tell "gone" from "a zombie nobody reaped".
  assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  edgemon::set_child_launcher(EDGEMON_BIN);
  Dir dir;
  pid_t child = kill_parent_of_child(dir);
  int status = 0;
  pid_t reaped = 0;
  for (int i = 0; i < 500 && reaped == 0; ++i) {
    reaped = waitpid(child, &status, WNOHANG);
    if (reaped == 0) sleep_ms(10);
  }
  if (reaped != child) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    fail_msg("the child outlived its SIGKILLed parent by 5 s");
  }
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGKILL);
}

// The control: spawned directly, the same child survives its parent, which
// is what the launcher is for.
void without_launcher_child_outlives_parent(void**) {
  assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  edgemon::set_child_launcher("");
  Dir dir;
  pid_t child = kill_parent_of_child(dir);
  sleep_ms(300);  // the absence of an event: nothing to wait on
  int status = 0;
  pid_t reaped = waitpid(child, &status, WNOHANG);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  edgemon::set_child_launcher(EDGEMON_BIN);
  assert_int_equal(reaped, 0);
}

}  // namespace

int main() {
  // As the daemon does at start, with the real binary.
  edgemon::set_child_launcher(EDGEMON_BIN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lines_in_order_with_partial_last_line),
      cmocka_unit_test(long_lines_cut_and_counted),
      cmocka_unit_test(crash_restarted_with_backoff),
      cmocka_unit_test(healthy_child_starts_backoff_anew),
      cmocka_unit_test(missing_binary_through_launcher),
      cmocka_unit_test(missing_binary_spawned_directly),
      cmocka_unit_test(stop_sends_sigterm),
      cmocka_unit_test(stop_kills_after_grace),
      cmocka_unit_test(hung_child_killed_and_restarted),
      cmocka_unit_test(destructor_kills_and_reaps),
      cmocka_unit_test(child_dies_with_sigkilled_parent),
      cmocka_unit_test(without_launcher_child_outlives_parent),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
