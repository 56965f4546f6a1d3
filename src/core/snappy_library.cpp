#include "core/snappy_library.hpp"

#include "core/shared_library.hpp"

namespace edgemon {
namespace {

struct Loaded {
  SnappyLibrary library{};
  std::string error;
};

Loaded load() {
  Loaded l;
  SharedLibrary so("libsnappy.so.1", "libsnappy1v5");
  SnappyLibrary& s = l.library;
  if (!so.bind("snappy_compress", &s.compress) || !so.bind("snappy_uncompress", &s.uncompress) ||
      !so.bind("snappy_max_compressed_length", &s.max_compressed_length) ||
      !so.bind("snappy_uncompressed_length", &s.uncompressed_length)) {
    l.error = so.error();
  }
  return l;
}

}  // namespace

const SnappyLibrary* snappy_library(std::string* error) {
  static const Loaded loaded = load();
  if (!loaded.error.empty()) {
    if (error != nullptr) *error = loaded.error;
    return nullptr;
  }
  return &loaded.library;
}

}  // namespace edgemon
