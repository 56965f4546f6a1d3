// Encodes samples from stdin as a Prometheus remote-write request body on
// stdout, with the daemon's own encoder, so the integration tests can send
// it to a real Prometheus.
//
//   rw_encode [--plain] < samples.txt
//
// One sample a line, `name{a="b",c="d"} value timestamp_ms`, where value is
// anything strtod reads (NaN, +Inf, -Inf) or `stale` for Prometheus's
// staleness marker; \" \\ and \n escape inside label values. Lines with the
// same series text are one series, so the encoder orders their samples. The
// body is snappy-compressed unless --plain. The encoder's counters go to
// stderr as one JSON object.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/snappy.hpp"
#include "core/snappy_library.hpp"
#include "outputs/protobuf_c_library.hpp"
#include "outputs/remote_write_encoder.hpp"

using namespace edgemon;
using namespace edgemon::outputs;

namespace {

// Reads `"..."` at text[*pos], unescaping; false if it does not close.
bool quoted(std::string_view text, size_t* pos, std::string* out) {
  if (*pos >= text.size() || text[*pos] != '"') return false;
  for (++*pos; *pos < text.size(); ++*pos) {
    char c = text[*pos];
    if (c == '"') {
      ++*pos;
      return true;
    }
    if (c == '\\' && *pos + 1 < text.size()) {
      c = text[++*pos];
      if (c == 'n') c = '\n';
    }
    out->push_back(c);
  }
  return false;
}

// `name{a="b",...}` at the start of `line`; *end is where it stops.
bool parse_series(std::string_view line, RwSeries* series, size_t* end) {
  const size_t name_end = line.find_first_of("{ ");
  if (name_end == std::string_view::npos) return false;
  series->labels.emplace_back("__name__", std::string(line.substr(0, name_end)));
  size_t pos = name_end;
  if (line[pos] == '{') {
    ++pos;
    while (true) {
      while (pos < line.size() && (line[pos] == ',' || line[pos] == ' '))
        ++pos;
      if (pos >= line.size()) return false;
      if (line[pos] == '}') break;
      const size_t eq = line.find('=', pos);
      if (eq == std::string_view::npos) return false;
      std::string value;
      std::string name(line.substr(pos, eq - pos));
      pos = eq + 1;
      if (!quoted(line, &pos, &value)) return false;
      series->labels.emplace_back(std::move(name), std::move(value));
    }
    ++pos;
  }
  *end = pos;
  return true;
}

bool parse_sample(std::string_view rest, std::pair<int64_t, double>* sample) {
  const std::string text(rest);
  char* end = nullptr;
  const char* p = text.c_str();
  while (*p == ' ')
    ++p;
  if (std::strncmp(p, "stale", 5) == 0) {
    const uint64_t bits = 0x7ff0000000000002;  // Prometheus's staleness marker
    std::memcpy(&sample->second, &bits, sizeof bits);
    end = const_cast<char*>(p + 5);
  } else {
    sample->second = std::strtod(p, &end);
    if (end == p) return false;
  }
  p = end;
  errno = 0;
  sample->first = std::strtoll(p, &end, 10);
  if (end == p || errno != 0) return false;
  while (*end == ' ' || *end == '\r')
    ++end;
  return *end == '\0';
}

}  // namespace

int main(int argc, char** argv) {
  const bool plain = argc == 2 && std::strcmp(argv[1], "--plain") == 0;
  if (argc > 2 || (argc == 2 && !plain)) {
    std::fprintf(stderr, "usage: rw_encode [--plain] < samples.txt\n");
    return 2;
  }
  std::vector<RwSeries> series;
  std::map<std::string, size_t> index;  // series text -> position in `series`
  char buf[65536];
  int line_no = 0;
  while (std::fgets(buf, sizeof buf, stdin) != nullptr) {
    ++line_no;
    std::string_view line(buf);
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    RwSeries parsed;
    size_t end = 0;
    std::pair<int64_t, double> sample;
    if (!parse_series(line, &parsed, &end) || !parse_sample(line.substr(end), &sample)) {
      std::fprintf(stderr, "rw_encode: line %d is malformed\n", line_no);
      return 2;
    }
    const auto [it, added] = index.emplace(std::string(line.substr(0, end)), series.size());
    if (added) series.push_back(std::move(parsed));
    series[it->second].samples.push_back(sample);
  }
  // Loaded on demand, as by the daemon's remote_write output.
  std::string error;
  if (protobuf_c_library(&error) == nullptr || snappy_library(&error) == nullptr) {
    std::fprintf(stderr, "rw_encode: %s\n", error.c_str());
    return 1;
  }
  RemoteWriteEncoder encoder;
  std::string body;
  const RwEncodeResult r = encoder.encode(series, &body);
  if (!plain) body = snappy_compress(body);
  std::fwrite(body.data(), 1, body.size(), stdout);
  std::fprintf(stderr,
               "{\"series\":%llu,\"samples\":%llu,\"empty_labels\":%llu,"
               "\"duplicate_samples\":%llu,\"rejected\":%llu}\n",
               static_cast<unsigned long long>(r.series),
               static_cast<unsigned long long>(r.samples),
               static_cast<unsigned long long>(r.empty_labels),
               static_cast<unsigned long long>(r.duplicate_samples),
               static_cast<unsigned long long>(r.rejected.total()));
  return 0;
}
