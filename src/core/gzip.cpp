#include "core/gzip.hpp"

#include <zlib.h>

#include <algorithm>
#include <memory>
#include <string>

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

namespace {

struct InflateEnd {
  void operator()(z_stream* z) const { inflateEnd(z); }
};

bool gzip_magic(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

// Inflates into *out, growing it geometrically but never past max_bytes.
class Inflater {
 public:
  Inflater(std::string_view in, uint64_t max_bytes, std::string* out)
      : in_(in), in_size_(in.size()), max_bytes_(max_bytes), out_(out) {}

  std::string run(z_stream* z);

 private:
  bool make_room(z_stream* z);
  void feed(z_stream* z);
  std::string after_member_end(z_stream* z);
  std::string too_large() const;

  std::string_view in_;  // input not yet handed to zlib
  const size_t in_size_;
  uint64_t max_bytes_;
  std::string* out_;
  unsigned char probe_[1];
  bool probing_ = false;
};

// Resizes *out to exactly n bytes of capacity: std::string::resize may
// double the capacity, which near the cap would allocate past it.
void grow_exactly(std::string* out, size_t n) {
  std::string bigger;
  bigger.reserve(n);
  bigger.append(*out);
  bigger.resize(n);
  out->swap(bigger);
}

// Points zlib at free output space. Once max_bytes are out, a one-byte probe
// buffer tells whether the stream has anything left to say.
bool Inflater::make_room(z_stream* z) {
  if (z->avail_out != 0) return true;
  if (probing_) return false;
  const size_t produced = out_->size();
  if (produced >= max_bytes_) {
    probing_ = true;
    z->next_out = probe_;
    z->avail_out = 1;
    return true;
  }
  // Line protocol inflates about tenfold; start near that, then double.
  const uint64_t first = std::max<uint64_t>(uint64_t{64} * 1024, uint64_t{in_size_} * 8);
  const uint64_t grown = produced == 0 ? first : uint64_t{produced} * 2;
  const uint64_t limit = std::min<uint64_t>(max_bytes_, produced + uint64_t{UINT32_MAX});
  grow_exactly(out_, static_cast<size_t>(std::min(grown, limit)));
  z->next_out = reinterpret_cast<Bytef*>(out_->data() + produced);
  z->avail_out = static_cast<uInt>(out_->size() - produced);
  return true;
}

// zlib counts input in uInt; hand it over in slices below 4 GiB.
void Inflater::feed(z_stream* z) {
  if (z->avail_in != 0 || in_.empty()) return;
  const size_t n = std::min<size_t>(in_.size(), UINT32_MAX);
  z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in_.data()));
  z->avail_in = static_cast<uInt>(n);
  in_.remove_prefix(n);
}

// A member ended: either the input is done, or another member follows.
std::string Inflater::after_member_end(z_stream* z) {
  feed(z);
  const std::string_view rest(reinterpret_cast<const char*>(z->next_in), z->avail_in);
  if (rest.empty()) return {};
  // Go's gzip reader, which InfluxDB uses, also refuses bytes that do not
  // start another member.
  if (!gzip_magic(rest)) return "corrupt gzip data: trailing bytes after the last gzip member";
  if (inflateReset(z) != Z_OK) return "corrupt gzip data: cannot restart inflate";
  return {};
}

std::string Inflater::too_large() const {
  return "decoded body is larger than " + std::to_string(max_bytes_) + " bytes";
}

std::string Inflater::run(z_stream* z) {
  while (true) {
    feed(z);
    if (!make_room(z)) return too_large();
    const uInt room = z->avail_out;
    const int rc = inflate(z, Z_NO_FLUSH);
    if (probing_ && z->avail_out != room) return too_large();
    if (rc == Z_STREAM_END) {
      if (std::string err = after_member_end(z); !err.empty()) return err;
      if (z->avail_in == 0) break;
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_MEM_ERROR) return "out of memory";
    // Z_BUF_ERROR means no progress was possible: fine when the output is
    // full (make_room grows it), the end of the data when it is not.
    if (rc == Z_BUF_ERROR && (z->avail_out == 0 || !in_.empty())) continue;
    if (rc == Z_BUF_ERROR) return "corrupt gzip data: unexpected end of data";
    return std::string("corrupt gzip data: ") + (z->msg != nullptr ? z->msg : "invalid data");
  }
  out_->resize(probing_ ? out_->size() : out_->size() - z->avail_out);
  return {};
}

}  // namespace

std::string gunzip(std::string_view compressed, uint64_t max_bytes, std::string* out) {
  out->clear();
  if (!gzip_magic(compressed)) return "not gzip data";
  z_stream z{};
  // 16 + window bits: gzip wrapper only (no zlib or raw deflate).
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return "out of memory";
  std::unique_ptr<z_stream, InflateEnd> guard(&z);
  Inflater inflater(compressed, max_bytes, out);
  std::string err = inflater.run(&z);
  if (!err.empty()) {
    out->clear();
    out->shrink_to_fit();
  }
  return err;
}

}  // namespace edgemon
