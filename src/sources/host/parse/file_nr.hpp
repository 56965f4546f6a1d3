#pragma once
// /proc/sys/fs/file-nr: "allocated unused maximum" (unused is 0 since 2.6).
#include <cstdint>
#include <string>
#include <string_view>

namespace edgemon::collect {

struct FileNr {
  uint64_t allocated = 0;
  uint64_t unused = 0;
  uint64_t maximum = 0;
};

std::string parse_file_nr(std::string_view text, FileNr* out);

}  // namespace edgemon::collect
