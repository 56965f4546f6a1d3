#include "sources/host/sysfs_attr.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace edgemon::collect {

int read_attr(const std::string& path, std::string* out, size_t max_bytes) {
  out->clear();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return errno;
  out->resize(max_bytes);
  ssize_t n;
  do {
    n = read(fd, out->data(), max_bytes);
  } while (n < 0 && errno == EINTR);
  int error = n < 0 ? errno : 0;
  close(fd);
  out->resize(n < 0 ? 0 : static_cast<size_t>(n));
  return error;
}

int sorted_entries(const std::string& dir, std::vector<std::string>* names) {
  names->clear();
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return errno;
  while (dirent* e = readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    names->emplace_back(name);
  }
  closedir(d);
  std::sort(names->begin(), names->end());
  return 0;
}

EntryKind entry_kind(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return EntryKind::kMissing;
  if (S_ISDIR(st.st_mode)) return EntryKind::kDirectory;
  if (S_ISREG(st.st_mode)) return EntryKind::kRegular;
  return EntryKind::kOther;
}

bool is_regular_file_no_follow(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace edgemon::collect
