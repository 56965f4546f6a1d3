// Request bytes come from anyone who can reach the port: whatever arrives,
// in whatever pieces, parsing must end in requests or an error status, within
// the limits, never a crash or a loop.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/request.hpp"
#include "http/request_parser.hpp"
#include "http/router.hpp"

using namespace edgemon::http;

namespace {

const Router& router() {
  static const Router r = [] {
    Router built;
    built.add("GET", "/metrics", Group::kRead, [](const Request&, Response&) {});
    built.add("POST", "/reload", Group::kWrite, [](const Request&, Response&) {});
    return built;
  }();
  return r;
}

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the read size, so the same request is also split
  // across reads at every position.
  size_t step = data[0] % 17;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  if (step == 0) step = input.size() + 1;
  ParserLimits limits{1024, 2048, nullptr};
  RequestParser parser(&limits);
  bool done = false;
  for (size_t offset = 0; offset < input.size() && !done; offset += step) {
    std::string_view piece = input.substr(offset, step);
    bool more = true;
    for (int guard = 0; more && !done; ++guard) {
      check(guard < 100000);
      size_t used = 0;
      RequestParser::Result result = parser.feed(piece.data(), piece.size(), &used);
      check(used <= piece.size());
      piece.remove_prefix(used);
      switch (result) {
        case RequestParser::Result::kNeedMore:
          check(piece.empty());
          more = false;
          break;
        case RequestParser::Result::kHeadersComplete:
          break;
        case RequestParser::Result::kRequestComplete: {
          const Request& request = parser.request();
          check(request.body.size() <= limits.max_body_bytes);
          (void)request.accepts_gzip();
          (void)router().find(request.method, request.path);
          done = !parser.keep_alive();
          parser.reset();
          more = !piece.empty();
          break;
        }
        case RequestParser::Result::kError:
          check(parser.error_status() == 400 || parser.error_status() == 413 ||
                parser.error_status() == 431);
          (void)json_error(parser.error_status(), parser.error_message());
          done = true;
          break;
      }
    }
  }
  return 0;
}
