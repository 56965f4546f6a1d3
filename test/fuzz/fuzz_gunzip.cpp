// gunzip on arbitrary bytes (the seeds are real gzip files, so mutations
// reach deep into headers, deflate blocks and trailers), and as a round trip
// through gzip_compress. The first byte picks the mode and the cap.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/gzip.hpp"

using namespace edgemon;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool known_error(const std::string& err) {
  const std::string_view e = err;
  return e == "not gzip data" || e.starts_with("corrupt gzip data: ") ||
         e.starts_with("decoded body is larger than ");
}

void decode(std::string_view input, uint64_t cap) {
  std::string out = "stale";
  const std::string err = gunzip(input, cap, &out);
  if (err.empty()) {
    check(out.size() <= cap);
  } else {
    check(known_error(err) && out.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // Small caps reach the limit often; the largest bounds memory per run.
  static const uint64_t kCaps[] = {0, 1, 100, 4096, 1u << 20};
  const uint64_t cap = kCaps[(data[0] >> 2) % 5];
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] & 3) {
    case 0:
    case 1:
      decode(input, cap);
      break;
    case 2: {
      std::string packed;
      check(gzip_compress(input, 1 + data[0] % 9, &packed));
      std::string out;
      check(gunzip(packed, input.size(), &out).empty() && out == input);
      if (!input.empty()) check(!gunzip(packed, input.size() - 1, &out).empty());
      break;
    }
    case 3: {
      // A valid member followed by arbitrary bytes: another member or junk.
      std::string packed;
      check(gzip_compress("m v=1 1\n", 6, &packed));
      decode(packed + input, cap);
      break;
    }
  }
  return 0;
}
