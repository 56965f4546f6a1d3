#include "core/child_launcher.hpp"

#include <sys/prctl.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <utility>

namespace edgemon {
namespace {

std::string& launcher_path() {
  static std::string path;
  return path;
}

}  // namespace

void set_child_launcher(std::string path) {
  launcher_path() = std::move(path);
}

const std::string& child_launcher() {
  return launcher_path();
}

bool set_child_launcher_to_self() {
  char path[PATH_MAX];
  size_t size = sizeof(path);
  if (uv_exepath(path, &size) != 0) return false;
  set_child_launcher(std::string(path, size));
  return true;
}

int run_child_launcher(int argc, char** argv) {
  if (argc < 2) {
    std::fputs("usage: edgemon __child PARENT_PID PROGRAM [ARG]...\n", stderr);
    return 2;
  }
  std::string_view text = argv[0];
  pid_t parent = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parent);
  if (ec != std::errc() || end != text.data() + text.size() || parent <= 1) {
    std::fprintf(stderr, "edgemon __child: bad parent pid '%s'\n", argv[0]);
    return 2;
  }
  // SIGKILL rather than SIGTERM: a program that handles or ignores SIGTERM
  // would otherwise outlive us, and nobody is left to escalate.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
    std::fprintf(stderr, "edgemon __child: prctl(PR_SET_PDEATHSIG): %s\n", std::strerror(errno));
    return 127;
  }
  // The parent may have died between fork and prctl; then the signal never
  // comes, and we are already someone else's child.
  if (getppid() != parent) return 1;
  execvp(argv[1], argv + 1);
  std::fprintf(stderr, "edgemon: cannot run %s: %s\n", argv[1], std::strerror(errno));
  return 127;
}

}  // namespace edgemon
