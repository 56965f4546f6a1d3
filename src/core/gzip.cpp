#include "core/gzip.hpp"

#include <zlib.h>

#include <memory>

namespace edgemon {
namespace {

struct DeflateEnd {
  void operator()(z_stream* z) const { deflateEnd(z); }
};

}  // namespace

bool gzip_compress(std::string_view data, int level, std::string* out) {
  z_stream z{};
  // 15 window bits + 16 selects the gzip wrapper; memLevel 8 is zlib's default.
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  std::unique_ptr<z_stream, DeflateEnd> guard(&z);
  size_t start = out->size();
  out->resize(start + deflateBound(&z, static_cast<uLong>(data.size())));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out->data() + start);
  z.avail_out = static_cast<uInt>(out->size() - start);
  // deflateBound guarantees one call suffices.
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
    out->resize(start);
    return false;
  }
  out->resize(start + z.total_out);
  return true;
}

}  // namespace edgemon
