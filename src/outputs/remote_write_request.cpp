#include "outputs/remote_write_request.hpp"

#include <cassert>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "outputs/protobuf_c_library.hpp"
#include "remote_write.pb-c.h"

namespace edgemon::outputs {
namespace {

// ------------------------------------------------------------- decoding

// protobuf-c allocates through this, so a decode can be held to a budget.
// Freed bytes are not given back: the budget bounds the total, which is
// what a hostile input inflates.
struct Budget {
  size_t left;
  bool exhausted = false;
};

void* budget_alloc(void* data, size_t size) {
  auto* budget = static_cast<Budget*>(data);
  if (size > budget->left) {
    budget->exhausted = true;
    return nullptr;
  }
  budget->left -= size;
  return std::malloc(size == 0 ? 1 : size);
}

void budget_free(void*, void* p) {
  std::free(p);
}

struct FreeUnpacked {
  const ProtobufCLibrary* library;
  ProtobufCAllocator* allocator;
  void operator()(Prometheus__WriteRequest* r) const {
    library->free_unpacked(&r->base, allocator);
  }
};

constexpr size_t kBytesPerInputByte = 16;
constexpr size_t kBaseBudget = 1u << 20;

void append_series(const Prometheus__WriteRequest& request, std::vector<RwSeries>* out) {
  out->reserve(out->size() + request.n_timeseries);
  for (size_t i = 0; i < request.n_timeseries; ++i) {
    const Prometheus__TimeSeries& ts = *request.timeseries[i];
    RwSeries& series = out->emplace_back();
    series.labels.reserve(ts.n_labels);
    for (size_t j = 0; j < ts.n_labels; ++j)
      series.labels.emplace_back(ts.labels[j]->name, ts.labels[j]->value);
    series.samples.reserve(ts.n_samples);
    for (size_t j = 0; j < ts.n_samples; ++j)
      series.samples.emplace_back(ts.samples[j]->timestamp, ts.samples[j]->value);
  }
}

// ------------------------------------------------------------- wire walk

constexpr uint64_t kTimeseriesField = 1;
constexpr uint64_t kMaxFieldNumber = (uint64_t{1} << 29) - 1;

// A base-128 varint of at most 10 bytes starting at *pos.
bool read_varint(std::string_view in, size_t* pos, uint64_t* value) {
  uint64_t v = 0;
  for (unsigned shift = 0; shift < 70 && *pos < in.size(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in[(*pos)++]);
    v |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) {
      *value = v;
      return true;
    }
  }
  return false;
}

bool skip(std::string_view in, size_t* pos, uint64_t n) {
  if (n > in.size() - *pos) return false;
  *pos += static_cast<size_t>(n);
  return true;
}

// Steps over the top-level field at *pos; *number is its field number.
bool next_field(std::string_view in, size_t* pos, uint64_t* number) {
  uint64_t tag = 0;
  if (!read_varint(in, pos, &tag)) return false;
  *number = tag >> 3;
  if (*number == 0 || *number > kMaxFieldNumber) return false;
  const uint64_t wire_type = tag & 7;
  // A series is an embedded message; anything else there is not a WriteRequest.
  if (*number == kTimeseriesField && wire_type != 2) return false;
  uint64_t value = 0;
  switch (wire_type) {
    case 0:
      return read_varint(in, pos, &value);
    case 1:
      return skip(in, pos, 8);
    case 2:
      return read_varint(in, pos, &value) && skip(in, pos, value);
    case 5:
      return skip(in, pos, 4);
    default:
      // Groups (3, 4) are long obsolete and protobuf-c refuses them; 6 and 7
      // do not exist.
      return false;
  }
}

}  // namespace

std::string decode_write_request(std::string_view protobuf, std::vector<RwSeries>* out) {
  if (protobuf.size() > kMaxWriteRequestBytes) {
    return "write request is larger than " + std::to_string(kMaxWriteRequestBytes) + " bytes";
  }
  std::string error;
  const ProtobufCLibrary* library = protobuf_c_library(&error);
  if (library == nullptr) return error;
  Budget budget{kBaseBudget + kBytesPerInputByte * protobuf.size()};
  ProtobufCAllocator allocator{budget_alloc, budget_free, &budget};
  // The descriptor is protoc-c's; unpack builds a message of its type.
  std::unique_ptr<Prometheus__WriteRequest, FreeUnpacked> request(
      reinterpret_cast<Prometheus__WriteRequest*>(
          library->unpack(&prometheus__write_request__descriptor, &allocator, protobuf.size(),
                          reinterpret_cast<const uint8_t*>(protobuf.data()))),
      FreeUnpacked{library, &allocator});
  if (request == nullptr) {
    if (budget.exhausted) return "write request needs too much memory to decode";
    return "not a valid WriteRequest";
  }
  append_series(*request, out);
  return {};
}

bool split_write_request(std::string_view encoded, size_t max_series_per_part,
                         std::vector<std::string_view>* parts) {
  assert(max_series_per_part >= 1);
  parts->clear();
  size_t part_start = 0;
  size_t in_part = 0;
  size_t pos = 0;
  while (pos < encoded.size()) {
    const size_t field_start = pos;
    uint64_t number = 0;
    if (!next_field(encoded, &pos, &number)) {
      parts->clear();
      return false;
    }
    if (number != kTimeseriesField) continue;
    if (in_part == max_series_per_part) {
      parts->push_back(encoded.substr(part_start, field_start - part_start));
      part_start = field_start;
      in_part = 0;
    }
    ++in_part;
  }
  if (part_start < encoded.size()) parts->push_back(encoded.substr(part_start));
  return true;
}

std::optional<size_t> count_write_request_series(std::string_view encoded) {
  size_t count = 0;
  size_t pos = 0;
  while (pos < encoded.size()) {
    uint64_t number = 0;
    if (!next_field(encoded, &pos, &number)) return std::nullopt;
    if (number == kTimeseriesField) ++count;
  }
  return count;
}

}  // namespace edgemon::outputs
