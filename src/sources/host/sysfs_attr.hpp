#pragma once
// Reading sysfs attributes and listing sysfs directories for the power
// collectors. Unlike read_file, the caller gets the errno: an EACCES on
// powercap's energy_uj needs its own explanation, and an attribute whose
// driver answers EAGAIN/ENODATA/EIO is skipped, not fatal.
#include <string>
#include <vector>

namespace edgemon::collect {

// One read(2) of at most `max_bytes` into *out (the kernel hands a sysfs
// attribute over in a single read). Returns 0 or the errno.
int read_attr(const std::string& path, std::string* out, size_t max_bytes = 4096);

// The names in `dir` except . and .., sorted bytewise (readdir order is
// arbitrary; sorting keeps output diffable and matches node_exporter's
// os.ReadDir). Returns 0 or the errno of opendir.
int sorted_entries(const std::string& dir, std::vector<std::string>* names);

enum class EntryKind { kMissing, kDirectory, kRegular, kOther };

// What `path` is after following symlinks (sysfs class entries are links).
EntryKind entry_kind(const std::string& path);
// Without following a final symlink.
bool is_regular_file_no_follow(const std::string& path);

}  // namespace edgemon::collect
