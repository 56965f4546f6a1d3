#pragma once
// Snappy's raw block format, the Content-Encoding of a Prometheus remote-write
// body. Not the framing format (`snappy` streams with a stream identifier and
// CRCs): receivers reject that, and a block is all a bounded request needs.
//
// Both functions use libsnappy loaded on demand (snappy_library.hpp), which
// the caller has found loadable: a remote_write output checks when it is
// configured and never compresses without it.
#include <cstddef>
#include <string>
#include <string_view>

namespace edgemon {

// One snappy block holding `data`. Compression cannot fail for the sizes a
// request has (the format tops out at 4 GiB, far above any body we send).
std::string snappy_compress(std::string_view data);

// Decodes one snappy block into *out, replacing its contents. False, with *out
// emptied, when `compressed` is not a valid block or would decode to more
// than `max_bytes`: the length is read from the block's header before
// anything is allocated, so a hostile header costs nothing.
[[nodiscard]] bool snappy_uncompress(std::string_view compressed, size_t max_bytes,
                                     std::string* out);

}  // namespace edgemon
