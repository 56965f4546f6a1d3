#include "core/snappy.hpp"

#include <cassert>
#include <cstdint>

#include "core/snappy_library.hpp"

namespace edgemon {
namespace {

const SnappyLibrary& library() {
  const SnappyLibrary* lib = snappy_library();
  // A remote_write output that could not load it never runs (see
  // snappy.hpp): reaching here without it is a bug.
  assert(lib != nullptr);
  return *lib;
}

}  // namespace

std::string snappy_compress(std::string_view data) {
  const SnappyLibrary& snappy = library();
  // The block header stores the length as a 32-bit varint.
  assert(data.size() <= UINT32_MAX);
  std::string out(snappy.max_compressed_length(data.size()), '\0');
  size_t length = out.size();
  const snappy_status rc = snappy.compress(data.data(), data.size(), out.data(), &length);
  // Only a short buffer fails, and the buffer has the maximum length.
  assert(rc == SNAPPY_OK);
  (void)rc;
  out.resize(length);
  return out;
}

bool snappy_uncompress(std::string_view compressed, size_t max_bytes, std::string* out) {
  const SnappyLibrary& snappy = library();
  out->clear();
  size_t length = 0;
  if (snappy.uncompressed_length(compressed.data(), compressed.size(), &length) != SNAPPY_OK ||
      length > max_bytes) {
    return false;
  }
  out->resize(length);
  // snappy_uncompress checks every copy against the header's length, so a
  // block that lies about its size fails here rather than overrunning.
  if (snappy.uncompress(compressed.data(), compressed.size(), out->data(), &length) != SNAPPY_OK ||
      length != out->size()) {
    out->clear();
    out->shrink_to_fit();
    return false;
  }
  return true;
}

}  // namespace edgemon
