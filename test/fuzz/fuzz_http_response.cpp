// An HTTP response is outside input: whatever a server (or anything on the
// path) sends, the client's parser must end in a response or an error,
// never keep more than its limits, never crash.
//
// The first byte chooses the body limit, whether the request was HEAD and
// how the rest is cut into reads; the rest is the bytes from the peer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "http/response_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint8_t control = data[0];
  const char* bytes = reinterpret_cast<const char*>(data + 1);
  size_t len = size - 1;
  size_t max_body = (control & 1) != 0 ? 16 : 64 * 1024;
  bool head_request = (control & 2) != 0;
  size_t step = 1 + (control >> 2);  // 1..64 bytes a read
  edgemon::http::ResponseParser parser(max_body, head_request);
  using Result = edgemon::http::ResponseParser::Result;
  Result result = Result::kNeedMore;
  for (size_t at = 0; at < len && result == Result::kNeedMore; at += step) {
    result = parser.feed(bytes + at, std::min(step, len - at));
  }
  if (result == Result::kNeedMore) result = parser.finish();
  const edgemon::http::ClientResponse& r = parser.response();
  if (r.body.size() > max_body) std::abort();
  if (r.headers.size() > 200) std::abort();
  if (result == Result::kComplete) {
    if (r.status < 100 || r.status > 999) std::abort();
    if (head_request && !r.body.empty()) std::abort();
  }
  if (result == Result::kError && parser.error().empty()) std::abort();
  // Done is done: more bytes change nothing.
  if (result != Result::kNeedMore && parser.feed("HTTP/1.1 200 OK\r\n\r\n", 19) != result) {
    std::abort();
  }
  return 0;
}
