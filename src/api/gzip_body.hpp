#pragma once
// gzip for /metrics without recompressing the whole body per scrape.
//
// The body is a large part that changes once per collection and a small live
// part that changes per request. Deflate streams can be concatenated when the
// first one ends on a byte boundary without a final block (Z_FULL_FLUSH) and
// the second one references only its own data (a fresh stream): that is how
// pigz compresses in parallel. So the large part is compressed once, and
// each request only compresses its few live lines and the gzip trailer
// (CRC-32 combined with crc32_combine). The result is one ordinary gzip
// member that every client can read.
#include <zlib.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace edgemon::api {

class GzipPrefix {
 public:
  // Compresses `text` as the start of a gzip member: header + deflate data
  // ending in a full flush. Returns false if zlib fails (out of memory).
  bool compress(std::string_view text, int level = 6);
  // Header and deflate bytes, shared into responses without copying.
  std::shared_ptr<const std::string> bytes() const { return bytes_; }
  // The rest of the member for `suffix`: its deflate data (final block) and
  // the trailer. Empty on zlib failure.
  std::string finish(std::string_view suffix, int level = 1) const;

 private:
  std::shared_ptr<const std::string> bytes_;
  uLong crc_ = 0;
  uint64_t length_ = 0;
};

// Raw deflate of `text` with the given flush mode, appended to *out.
bool deflate_raw(std::string_view text, int level, int flush, std::string* out);

}  // namespace edgemon::api
