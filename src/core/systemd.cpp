// The notify protocol is one datagram per message to $NOTIFY_SOCKET, a
// stable interface that systemd documents for reimplementation
// (sd_notify(3), "Notes"). Speaking it directly keeps libsystemd — and the
// compression and crypto libraries it links — out of the daemon's memory.
#include "core/systemd.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace edgemon::systemd {
namespace {

void notify(const std::string& message) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || (path[0] != '/' && path[0] != '@')) return;
  size_t length = std::strlen(path);
  sockaddr_un address{};
  if (length >= sizeof address.sun_path) return;
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path, length);
  if (path[0] == '@') address.sun_path[0] = '\0';  // Linux abstract namespace
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return;
  auto address_length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);
  // Best effort, like sd_notify: there is nobody to report a failure to.
  while (::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL,
                  reinterpret_cast<const sockaddr*>(&address), address_length) < 0 &&
         errno == EINTR) {
  }
  ::close(fd);
}

uint64_t env_number(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr) return 0;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text, text + std::strlen(text), value);
  return (ec == std::errc() && *end == '\0') ? value : 0;
}

}  // namespace

void notify_ready(const std::string& status) {
  notify("READY=1\nSTATUS=" + status + "\nMAINPID=" + std::to_string(::getpid()));
}

void notify_reloading() {
  notify("RELOADING=1");
}

void notify_stopping() {
  notify("STOPPING=1");
}

Watchdog::Watchdog(uv_loop_t* loop) : timer_(loop) {
  // WATCHDOG_PID, when set, says which process the watchdog is meant for.
  uint64_t pid = env_number("WATCHDOG_PID");
  if (pid != 0 && pid != static_cast<uint64_t>(::getpid())) return;
  uint64_t usec = env_number("WATCHDOG_USEC");
  if (usec == 0) return;
  interval_ms_ = usec / 2000 > 0 ? usec / 2000 : 1;
  timer_.unref();
  timer_.start(0, interval_ms_, [] { notify("WATCHDOG=1"); });
}

}  // namespace edgemon::systemd
