#pragma once
// libsnappy, loaded with dlopen() by the first remote_write output (or the
// first block compressed or uncompressed, in the tests and tools), never
// linked: a daemon without such an output never maps it. <snappy-c.h> gives
// the prototypes; the symbols are bound once, here.
#include <snappy-c.h>

#include <string>

namespace edgemon {

struct SnappyLibrary {
  decltype(&::snappy_compress) compress;
  decltype(&::snappy_uncompress) uncompress;
  decltype(&::snappy_max_compressed_length) max_compressed_length;
  decltype(&::snappy_uncompressed_length) uncompressed_length;
};

// The loaded library, or null with *error saying why (libsnappy1v5 not
// installed, say). Loads at most once; thread-safe.
const SnappyLibrary* snappy_library(std::string* error = nullptr);

}  // namespace edgemon
