#pragma once
// A procfs/sysfs file kept open and re-read from offset 0 on every
// collection. The kernel regenerates such a file whenever it is read from the
// start, so the result is the same as open/read/close, minus the path walk
// and two syscalls: about half the cost of reading a small file, which is
// most of what a collection at a 1 s interval spends.
#include <dirent.h>

#include <cerrno>
#include <string>

namespace edgemon::collect {

class ProcFile {
 public:
  explicit ProcFile(std::string path) : path_(std::move(path)) {}
  ~ProcFile();
  ProcFile(const ProcFile&) = delete;
  ProcFile& operator=(const ProcFile&) = delete;

  // Reads the whole file into *out, reusing its capacity. A failed read
  // closes the file, so the next call opens it again (the file may have come
  // back). Returns "" or "PATH: reason".
  [[nodiscard]] std::string read(std::string* out, size_t max_bytes = 4 << 20);

  const std::string& path() const { return path_; }
  // The open descriptor (after a successful read), or -1.
  int fd() const { return fd_; }

 private:
  std::string path_;
  int fd_ = -1;
};

// A procfs directory (/proc, /proc/self/fd) kept open and listed again from
// the start each time, for the same reason.
class ProcDir {
 public:
  explicit ProcDir(std::string path) : path_(std::move(path)) {}
  ~ProcDir();
  ProcDir(const ProcDir&) = delete;
  ProcDir& operator=(const ProcDir&) = delete;

  // Calls fn(const dirent&) for every entry, "." and ".." included.
  // Returns "" or "PATH: reason".
  template <class Fn>
  std::string for_each(Fn fn) {
    std::string err = rewind();
    if (!err.empty()) return err;
    errno = 0;
    while (const dirent* e = readdir(dir_))
      fn(*e);
    return errno == 0 ? "" : fail();
  }

  // The descriptor of the listing itself (it shows up in /proc/self/fd), or -1.
  int fd() const { return dir_ == nullptr ? -1 : dirfd(dir_); }

 private:
  std::string rewind();
  std::string fail();

  std::string path_;
  DIR* dir_ = nullptr;
};

}  // namespace edgemon::collect
