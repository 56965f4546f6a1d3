#include "sources/host/proc_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace edgemon::collect {

ProcFile::~ProcFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string ProcFile::read(std::string* out, size_t max_bytes) {
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return path_ + ": " + std::strerror(errno);
  }
  out->clear();
  out->resize(out->capacity() < 4096 ? 4096 : out->capacity());
  size_t used = 0;
  for (;;) {
    if (used == out->size()) {
      if (out->size() >= max_bytes) {
        out->clear();
        return path_ + ": larger than " + std::to_string(max_bytes) + " bytes";
      }
      out->resize(std::min(out->size() * 2, max_bytes));
    }
    ssize_t n = ::pread(fd_, out->data() + used, out->size() - used, static_cast<off_t>(used));
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string error = path_ + ": " + std::strerror(errno);
      ::close(fd_);
      fd_ = -1;
      out->clear();
      return error;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  out->resize(used);
  return "";
}

ProcDir::~ProcDir() {
  if (dir_ != nullptr) closedir(dir_);
}

std::string ProcDir::rewind() {
  if (dir_ != nullptr) {
    rewinddir(dir_);
    return "";
  }
  dir_ = opendir(path_.c_str());
  return dir_ != nullptr ? "" : path_ + ": " + std::strerror(errno);
}

std::string ProcDir::fail() {
  std::string error = path_ + ": " + std::strerror(errno);
  closedir(dir_);
  dir_ = nullptr;
  return error;
}

}  // namespace edgemon::collect
