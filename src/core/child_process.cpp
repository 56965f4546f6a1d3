#include "core/child_process.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "core/child_launcher.hpp"
#include "core/line_splitter.hpp"
#include "core/log.hpp"
#include "core/uv_handle.hpp"

extern char** environ;

namespace edgemon {
namespace {

constexpr size_t kReadBufferBytes = 64 * 1024;

// 0, or the libuv error execve would meet on `path`.
int check_executable(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return uv_translate_sys_error(errno);
  if (S_ISDIR(st.st_mode)) return UV_EACCES;
  if (::access(path.c_str(), X_OK) != 0) return uv_translate_sys_error(errno);
  return 0;
}

// Looks `program` up as execvp will, so that a missing binary is reported as
// such: through the launcher, execvp fails in a process of its own, and all
// we would see is an exit status of 127.
int find_program(const std::string& program, std::string_view search_path) {
  if (program.find('/') != std::string::npos) return check_executable(program);
  int error = UV_ENOENT;
  while (true) {
    size_t colon = search_path.find(':');
    std::string_view dir = search_path.substr(0, colon);
    std::string candidate = dir.empty() ? program : std::string(dir) + "/" + program;
    int rc = check_executable(candidate);
    if (rc == 0) return 0;
    // execvp reports EACCES if any candidate was found but not executable.
    if (rc == UV_EACCES) error = rc;
    if (colon == std::string_view::npos) return error;
    search_path.remove_prefix(colon + 1);
  }
}

std::string_view env_key(std::string_view entry) {
  return entry.substr(0, entry.find('='));
}

// edgemon's environment with `additions` applied; empty when there are none
// (the child then inherits ours as it is).
std::vector<std::string> child_environment(const std::vector<std::string>& additions) {
  std::vector<std::string> env;
  if (additions.empty()) return env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry = *e;
    bool replaced = false;
    for (const std::string& a : additions)
      replaced = replaced || env_key(a) == env_key(entry);
    if (!replaced) env.emplace_back(entry);
  }
  env.insert(env.end(), additions.begin(), additions.end());
  return env;
}

// PATH as the child's execvp will see it (glibc's default when unset).
std::string_view search_path(const std::vector<std::string>& env) {
  for (const std::string& entry : env) {
    if (env_key(entry) == "PATH") return std::string_view(entry).substr(5);
  }
  if (env.empty()) {
    if (const char* path = std::getenv("PATH")) return path;
  }
  return "/bin:/usr/bin";
}

std::string describe_exit(int64_t exit_status, int term_signal) {
  if (term_signal != 0) {
    return "killed by signal " + std::to_string(term_signal) + " (" + strsignal(term_signal) + ")";
  }
  std::string text = "exited with status " + std::to_string(exit_status);
  // The launcher's (and the shell's) way of saying exec failed.
  if (exit_status == 127) text += " (could not be executed)";
  return text;
}

std::vector<char*> pointers(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings)
    out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

struct ChildProcess::Run {
  Run(size_t max_line, size_t max_stderr_line, ChildProcess* owner)
      : out_lines(max_line,
                  [owner](std::string_view l, bool cut) { owner->on_stdout_line(l, cut); }),
        err_lines(max_stderr_line,
                  [owner](std::string_view l, bool cut) { owner->on_stderr_line(l, cut); }) {}
  ~Run() {
    close_pipes();
    release_process();
  }
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  void close_pipes() {
    out.close();
    err.close();
    out_lines.clear();
    err_lines.clear();
  }

  // Not a UvHandle: a child still alive when its owner goes must keep its
  // handle until it is reaped (libuv waits only for the pids of open
  // handles, so it would otherwise stay a zombie until edgemon exits). Such
  // a handle closes itself from its exit callback, which finds data null.
  void release_process() {
    if (process == nullptr) return;
    process->data = nullptr;
    if (!alive) {
      uv_close(reinterpret_cast<uv_handle_t*>(process),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_process_t*>(h); });
    }
    process = nullptr;
    alive = false;
  }

  uv_process_t* process = nullptr;
  bool alive = false;  // spawned and not reaped yet
  UvHandle<uv_pipe_t> out;
  UvHandle<uv_pipe_t> err;
  LineSplitter out_lines;
  LineSplitter err_lines;
  uint64_t started_ms = 0;  // uv_now
};

ChildProcess::ChildProcess(uv_loop_t* loop, ChildOptions options, ChildCallbacks callbacks)
    : loop_(loop),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      backoff_(options_.restart_initial, options_.restart_max),
      restart_timer_(loop),
      stop_timer_(loop),
      read_buffer_(new char[kReadBufferBytes]) {
  assert(!options_.argv.empty());
  if (options_.name.empty()) options_.name = options_.argv[0];
}

ChildProcess::~ChildProcess() {
  if (run_ != nullptr && run_->alive) uv_process_kill(run_->process, SIGKILL);
}

void ChildProcess::start() {
  if (state_ != State::kIdle) return;
  backoff_.reset();
  spawn();
}

void ChildProcess::spawn() {
  // Pipes a previous child left behind (held open by a grandchild of its
  // own): what they still had is delivered, the rest belongs to nobody.
  if (run_ != nullptr) {
    run_->out_lines.finish();
    run_->err_lines.finish();
    run_.reset();
  }
  std::vector<std::string> env = child_environment(options_.env);
  if (int rc = find_program(options_.argv[0], search_path(env)); rc != 0) {
    spawn_failed(options_.name + ": " + uv_strerror(rc));
    return;
  }
  std::unique_ptr<Run> run;
  if (std::string error = spawn_run(env, &run); !error.empty()) {
    spawn_failed(std::move(error));
    return;
  }
  run_ = std::move(run);
  state_ = State::kRunning;
  status_.running = true;
  status_.pid = run_->process->pid;
  status_.restart_in_ms = 0;
  ++status_.starts;
  log::info("child_started", {{"child", options_.name}, {"pid", status_.pid}});
  notify(ChildEvent::kStarted);
}

std::string ChildProcess::spawn_run(const std::vector<std::string>& env,
                                    std::unique_ptr<Run>* out) {
  std::vector<std::string> args;
  const std::string& launcher = child_launcher();
  if (!launcher.empty()) {
    args = {launcher, kChildLauncherCommand, std::to_string(uv_os_getpid())};
  }
  args.insert(args.end(), options_.argv.begin(), options_.argv.end());
  std::vector<char*> arg_pointers = pointers(args);
  std::vector<char*> env_pointers = pointers(env);

  auto run = std::make_unique<Run>(options_.max_line_bytes, options_.max_stderr_line_bytes, this);
  uv_stdio_container_t stdio[3] = {};
  stdio[0].flags = UV_IGNORE;
  stdio[2].flags = UV_IGNORE;
  UvHandle<uv_pipe_t>* pipes[2] = {&run->out, callbacks_.on_stderr_line ? &run->err : nullptr};
  for (int i = 0; i < 2; ++i) {
    if (pipes[i] == nullptr) continue;
    int rc = uv_pipe_init(loop_, pipes[i]->get(), 0);
    if (rc != 0) return options_.name + ": pipe: " + uv_strerror(rc);
    pipes[i]->mark_initialized();
    pipes[i]->get()->data = this;
    stdio[i + 1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
    stdio[i + 1].data.stream = pipes[i]->stream();
  }

  uv_process_options_t spawn_options{};
  spawn_options.exit_cb = [](uv_process_t* process, int64_t exit_status, int term_signal) {
    if (auto* self = static_cast<ChildProcess*>(process->data)) {
      self->on_exit(exit_status, term_signal);
    } else {
      // Its owner went first (see Run::release_process).
      uv_close(reinterpret_cast<uv_handle_t*>(process),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_process_t*>(h); });
    }
  };
  spawn_options.file = arg_pointers[0];
  spawn_options.args = arg_pointers.data();
  spawn_options.env = env.empty() ? nullptr : env_pointers.data();
  spawn_options.stdio_count = 3;
  spawn_options.stdio = stdio;
  run->process = new uv_process_t{};
  // Initialises the handle even when it fails; Run closes it either way.
  int rc = uv_spawn(loop_, run->process, &spawn_options);
  if (rc != 0) {
    if (!launcher.empty()) return options_.name + ": launcher " + launcher + ": " + uv_strerror(rc);
    return options_.name + ": " + uv_strerror(rc);
  }
  run->alive = true;
  run->process->data = this;
  run->started_ms = uv_now(loop_);
  for (UvHandle<uv_pipe_t>* pipe : pipes) {
    if (pipe == nullptr) continue;
    uv_read_start(
        pipe->stream(),
        [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
          auto* self = static_cast<ChildProcess*>(handle->data);
          *buf = uv_buf_init(self->read_buffer_.get(), kReadBufferBytes);
        },
        [](uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
          if (auto* self = static_cast<ChildProcess*>(stream->data)) self->on_read(stream, nread);
        });
  }
  *out = std::move(run);
  return "";
}

void ChildProcess::spawn_failed(std::string error) {
  ++status_.spawn_failures;
  status_.last_error = std::move(error);
  schedule_restart();
  log::warn("child_spawn_failed", {{"child", options_.name},
                                   {"error", status_.last_error},
                                   {"retry_in_ms", status_.restart_in_ms}});
  notify(ChildEvent::kSpawnFailed);
}

void ChildProcess::schedule_restart() {
  state_ = State::kWaiting;
  std::chrono::milliseconds delay = backoff_.next();
  status_.restart_in_ms = delay.count();
  restart_timer_.start(static_cast<uint64_t>(delay.count()), 0, [this] {
    ++status_.restarts;
    spawn();
  });
}

void ChildProcess::on_exit(int64_t exit_status, int term_signal) {
  uint64_t lived_ms = uv_now(loop_) - run_->started_ms;
  // The exit status is in; the pipes may still hold output, read on.
  run_->alive = false;
  run_->release_process();
  status_.running = false;
  status_.pid = 0;
  ++status_.exits;
  status_.last_exit_status = exit_status;
  status_.last_term_signal = term_signal;
  stop_timer_.stop();
  if (state_ == State::kStopping) {
    finish_stop();
    return;
  }
  status_.last_error = options_.name + ": " + describe_exit(exit_status, term_signal);
  if (!hung_reason_.empty()) {
    status_.last_error = options_.name + ": killed: " + hung_reason_;
    hung_reason_.clear();
  }
  if (lived_ms >= static_cast<uint64_t>(options_.healthy_after.count())) backoff_.reset();
  schedule_restart();
  log::warn("child_exited", {{"child", options_.name},
                             {"status", exit_status},
                             {"signal", term_signal},
                             {"lived_ms", lived_ms},
                             {"restart_in_ms", status_.restart_in_ms}});
  notify(ChildEvent::kExited);
}

void ChildProcess::on_read(uv_stream_t* stream, ssize_t nread) {
  bool is_out = stream == run_->out.stream();
  if (nread > 0) {
    LineSplitter& lines = is_out ? run_->out_lines : run_->err_lines;
    lines.feed(std::string_view(read_buffer_.get(), static_cast<size_t>(nread)));
    return;
  }
  if (nread == 0) return;  // EAGAIN
  // EOF, or an error that ends the stream just the same.
  if (is_out) {
    run_->out_lines.finish();
    run_->out.close();
  } else {
    run_->err_lines.finish();
    run_->err.close();
  }
}

void ChildProcess::on_stdout_line(std::string_view line, bool cut) {
  // A callback that called stop() sees no more of the chunk being split.
  if (state_ == State::kIdle) return;
  ++status_.lines;
  if (cut) ++status_.lines_truncated;
  if (callbacks_.on_line) callbacks_.on_line(line);
}

void ChildProcess::on_stderr_line(std::string_view line, bool cut) {
  if (state_ == State::kIdle) return;
  ++status_.stderr_lines;
  if (cut) ++status_.stderr_lines_truncated;
  if (callbacks_.on_stderr_line) callbacks_.on_stderr_line(line);
}

void ChildProcess::stop(std::function<void()> done) {
  if (done) stop_done_.push_back(std::move(done));
  switch (state_) {
    case State::kStopping:
      return;
    case State::kRunning:
      state_ = State::kStopping;
      uv_process_kill(run_->process, SIGTERM);
      stop_timer_.start(static_cast<uint64_t>(options_.stop_grace.count()), 0, [this] {
        ++status_.killed_after_grace;
        log::warn("child_killed", {{"child", options_.name},
                                   {"pid", status_.pid},
                                   {"reason", "still running after SIGTERM"}});
        uv_process_kill(run_->process, SIGKILL);
      });
      return;
    case State::kWaiting:
    case State::kIdle:
      restart_timer_.stop();
      finish_stop();
      return;
  }
}

void ChildProcess::kill_hung(std::string why) {
  if (state_ != State::kRunning || run_ == nullptr || run_->process == nullptr) return;
  ++status_.killed_hung;
  log::warn("child_killed", {{"child", options_.name}, {"pid", status_.pid}, {"reason", why}});
  hung_reason_ = std::move(why);
  uv_process_kill(run_->process, SIGKILL);
}

// The child is reaped (or was not running). The Run itself stays until the
// next spawn: stop() may have been called from a line callback, in the
// middle of that Run's splitter.
void ChildProcess::finish_stop() {
  if (run_ != nullptr) run_->close_pipes();
  state_ = State::kIdle;
  status_.restart_in_ms = 0;
  // On a later iteration, after the close callbacks, and never from inside
  // a callback of ours, so that `done` may destroy this object.
  stop_timer_.start(0, 0, [this] {
    std::vector<std::function<void()>> done = std::move(stop_done_);
    stop_done_.clear();
    for (auto& d : done)
      d();
  });
}

void ChildProcess::notify(ChildEvent event) {
  if (callbacks_.on_state) callbacks_.on_state(event, status_);
}

}  // namespace edgemon
