// The tegrastats line parser and the metrics written from what it returns,
// on arbitrary bytes: every line, as the child's line reader delivers them,
// goes through both. The seed corpus is the recorded lines of five boards.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "metrics/prometheus_text.hpp"
#include "sources/tegrastats/tegrastats_metrics.hpp"
#include "sources/tegrastats/tegrastats_parse.hpp"

using namespace edgemon;
using namespace edgemon::sources::tegrastats;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Copied so that reading one byte past the end is caught by ASan.
  std::string input(reinterpret_cast<const char*>(data), size);
  size_t start = 0;
  while (start <= input.size()) {
    size_t end = input.find('\n', start);
    if (end == std::string::npos) end = input.size();
    std::string_view line = std::string_view(input).substr(start, end - start);
    TegrastatsLine parsed;
    std::string why = parse_tegrastats_line(line, &parsed);
    if (why.empty()) {
      std::string out;
      metrics::PrometheusTextWriter writer(out);
      write_line(parsed, "fuzz", {true, "fuzz", "fuzz"}, writer);
    }
    start = end + 1;
  }
  return 0;
}
