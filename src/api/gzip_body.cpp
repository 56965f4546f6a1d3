#include "api/gzip_body.hpp"

namespace edgemon::api {

bool deflate_raw(std::string_view text, int level, int flush, std::string* out) {
  z_stream zs{};
  // Negative window bits: raw deflate, so we write the gzip framing ourselves.
  if (deflateInit2(&zs, level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return false;
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  size_t start = out->size();
  out->resize(start + deflateBound(&zs, static_cast<uLong>(text.size())) + 16);
  zs.next_out = reinterpret_cast<Bytef*>(out->data() + start);
  zs.avail_out = static_cast<uInt>(out->size() - start);
  int rc = deflate(&zs, flush);
  bool ok = (flush == Z_FINISH) ? rc == Z_STREAM_END : rc == Z_OK;
  out->resize(ok ? out->size() - zs.avail_out : start);
  deflateEnd(&zs);
  return ok;
}

bool GzipPrefix::compress(std::string_view text, int level) {
  static constexpr unsigned char kHeader[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
  auto out = std::make_shared<std::string>(reinterpret_cast<const char*>(kHeader), sizeof kHeader);
  if (!deflate_raw(text, level, Z_FULL_FLUSH, out.get())) {
    bytes_.reset();
    return false;
  }
  crc_ = crc32(0L, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size()));
  length_ = text.size();
  bytes_ = std::move(out);
  return true;
}

std::string GzipPrefix::finish(std::string_view suffix, int level) const {
  std::string out;
  if (!bytes_ || !deflate_raw(suffix, level, Z_FINISH, &out)) return {};
  uLong suffix_crc =
      crc32(0L, reinterpret_cast<const Bytef*>(suffix.data()), static_cast<uInt>(suffix.size()));
  uLong crc = crc32_combine(crc_, suffix_crc, static_cast<z_off_t>(suffix.size()));
  uint32_t total = static_cast<uint32_t>(length_ + suffix.size());  // ISIZE is mod 2^32
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((total >> (8 * i)) & 0xff));
  return out;
}

}  // namespace edgemon::api
