// The remote-write wire layer on arbitrary bytes: decode_write_request,
// snappy_uncompress and split_write_request must refuse what is malformed
// without crashing, and every part of a split request must decode to its
// share of the whole. The seeds are real encoded requests, so mutations
// reach into series, labels and samples. The first byte picks the mode.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/snappy.hpp"
#include "outputs/remote_write_encoder.hpp"
#include "outputs/remote_write_request.hpp"

using namespace edgemon;
using namespace edgemon::outputs;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool same(const RwSeries& a, const RwSeries& b) {
  if (a.labels != b.labels || a.samples.size() != b.samples.size()) return false;
  // By bits: NaN must survive as it was. memcmp wants real pointers even
  // for no bytes.
  return a.samples.empty() || std::memcmp(a.samples.data(), b.samples.data(),
                                          a.samples.size() * sizeof a.samples[0]) == 0;
}

void decode_and_split(std::string_view input, size_t max_per_part) {
  std::vector<RwSeries> whole;
  const std::string err = decode_write_request(input, &whole);
  std::vector<std::string_view> parts;
  if (!split_write_request(input, max_per_part, &parts)) {
    check(parts.empty());
    return;
  }
  check(count_write_request_series(input).has_value());
  std::string joined;
  for (std::string_view part : parts)
    joined.append(part);
  check(joined == input);
  if (!err.empty()) return;
  // The whole decodes, so its parts do, and together they are the whole.
  std::vector<RwSeries> from_parts;
  for (std::string_view part : parts) {
    const size_t before = from_parts.size();
    check(decode_write_request(part, &from_parts).empty());
    check(from_parts.size() - before <= max_per_part);
  }
  check(from_parts.size() == whole.size());
  for (size_t i = 0; i < whole.size(); ++i)
    check(same(from_parts[i], whole[i]));
}

// Series made from the bytes (NUL-separated names, values and samples), so
// the encoder sees hostile labels: what it writes must decode, sorted and
// unique, with samples strictly in time order.
void encode_from_bytes(std::string_view input) {
  std::vector<RwSeries> in(1);
  while (!input.empty()) {
    const size_t cut = input.find('\0');
    const std::string_view token = input.substr(0, cut);
    input.remove_prefix(cut == std::string_view::npos ? input.size() : cut + 1);
    if (token.empty()) {
      in.emplace_back();
    } else if (token.size() >= 16 && token[0] == '#') {
      int64_t t;
      double v;
      std::memcpy(&t, token.data(), sizeof t);
      std::memcpy(&v, token.data() + 8, sizeof v);
      in.back().samples.emplace_back(t, v);
    } else {
      const size_t eq = token.find('=');
      in.back().labels.emplace_back(std::string(token.substr(0, eq)),
                                    eq == std::string_view::npos ? "" : token.substr(eq + 1));
    }
  }
  RemoteWriteEncoder encoder;
  std::string out;
  const RwEncodeResult r = encoder.encode(in, &out);
  check(r.series + r.rejected.total() == in.size());
  std::vector<RwSeries> decoded;
  check(decode_write_request(out, &decoded).empty());
  check(decoded.size() == r.series);
  for (const RwSeries& s : decoded) {
    for (size_t i = 0; i < s.labels.size(); ++i) {
      check(!s.labels[i].second.empty());
      check(i == 0 || s.labels[i - 1].first < s.labels[i].first);
    }
    for (size_t i = 1; i < s.samples.size(); ++i)
      check(s.samples[i - 1].first < s.samples[i].first);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t max_per_part = 1 + (data[0] >> 2) % 4;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] & 3) {
    case 0:
      decode_and_split(input, max_per_part);
      break;
    case 1: {
      std::string plain = "stale";
      if (snappy_uncompress(input, 1u << 20, &plain)) {
        check(plain.size() <= 1u << 20);
        decode_and_split(plain, max_per_part);
      } else {
        check(plain.empty());
      }
      break;
    }
    case 2: {
      std::string plain;
      check(snappy_uncompress(snappy_compress(input), input.size(), &plain) && plain == input);
      break;
    }
    case 3:
      encode_from_bytes(input);
      break;
  }
  return 0;
}
