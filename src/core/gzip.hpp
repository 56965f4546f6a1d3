#pragma once
// One-shot gzip of a request body (Content-Encoding: gzip). Line protocol
// compresses about tenfold, which is most of what an edge uplink costs.
// gunzip is the other side: ingest bodies sent with Content-Encoding: gzip.
#include <cstdint>
#include <string>
#include <string_view>

namespace edgemon {

// Appends a complete gzip member of `data` to *out. Returns false only if
// zlib fails (out of memory); *out is then unchanged.
bool gzip_compress(std::string_view data, int level, std::string* out);

// Decodes `compressed` (one gzip member or several concatenated, as
// `cat a.gz b.gz` and parallel compressors produce) into *out, replacing its
// contents. Returns "" or why not: "not gzip data", "corrupt gzip data: ...",
// "decoded body is larger than N bytes", "out of memory". Inflating stops as
// soon as the output would exceed `max_bytes`, so a zip bomb costs at most
// max_bytes of memory. On error *out is emptied.
[[nodiscard]] std::string gunzip(std::string_view compressed, uint64_t max_bytes, std::string* out);

}  // namespace edgemon
