#pragma once
// One-shot gzip of a request body (Content-Encoding: gzip). Line protocol
// compresses about tenfold, which is most of what an edge uplink costs.
#include <string>
#include <string_view>

namespace edgemon {

// Appends a complete gzip member of `data` to *out. Returns false only if
// zlib fails (out of memory); *out is then unchanged.
bool gzip_compress(std::string_view data, int level, std::string* out);

}  // namespace edgemon
