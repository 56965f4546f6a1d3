// A write endpoint's answer is outside input: its error body (JSON or not)
// becomes a log line and /status text, its Retry-After a delay. Arbitrary
// bytes must give a bounded description and a sane delay, never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "outputs/write_outcome.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  edgemon::http::ClientResponse r;
  r.status = size > 0 ? 100 + data[0] % 500 : 0;
  r.headers.emplace_back("retry-after", std::string(input.substr(0, nl)));
  if (nl != std::string_view::npos) r.body = std::string(input.substr(nl + 1));
  std::string text = edgemon::outputs::describe_failure(r);
  if (text.size() > 400) std::abort();
  (void)edgemon::outputs::classify(r);
  if (auto delay = r.retry_after(); delay && delay->count() < 0) std::abort();
  return 0;
}
