#include "core/read_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace edgemon {

std::string read_file(const std::string& path, std::string* out, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return path + ": " + std::strerror(errno);
  out->clear();
  size_t capacity = out->capacity() < 4096 ? 4096 : out->capacity();
  out->resize(capacity);
  size_t used = 0;
  std::string error;
  for (;;) {
    if (used == out->size()) {
      if (out->size() >= max_bytes) {
        error = path + ": larger than " + std::to_string(max_bytes) + " bytes";
        break;
      }
      out->resize(std::min(out->size() * 2, max_bytes));
    }
    ssize_t n = ::read(fd, out->data() + used, out->size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = path + ": " + std::strerror(errno);
      break;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  ::close(fd);
  out->resize(error.empty() ? used : 0);
  return error;
}

std::string read_trimmed(const std::string& path, std::string* out) {
  std::string err = read_file(path, out, 1 << 20);
  if (!err.empty()) return err;
  size_t end = out->find_last_not_of(" \t\r\n");
  out->resize(end == std::string::npos ? 0 : end + 1);
  size_t start = out->find_first_not_of(" \t\r\n");
  if (start != std::string::npos && start > 0) out->erase(0, start);
  return "";
}

}  // namespace edgemon
