#pragma once
// Builds the body of a Prometheus remote-write 1.0 request: a protobuf
// WriteRequest, uncompressed (the caller snappy-compresses it, possibly
// together with other batches; see remote_write_request.hpp for why that
// works). Series the receiver would refuse are left out and counted here,
// because one bad series makes Prometheus refuse the whole request.
//
// Packing uses libprotobuf-c loaded on demand (protobuf_c_library.hpp),
// which the caller has found loadable: a remote_write output checks when it
// is configured and encodes nothing without it.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "outputs/remote_write_series.hpp"

namespace edgemon::outputs {

// Why series were left out, one reason per series (the first found).
struct RwRejected {
  uint64_t no_name = 0;          // no __name__ label, or an empty one
  uint64_t bad_metric_name = 0;  // __name__ is not [a-zA-Z_:][a-zA-Z0-9_:]*
  uint64_t bad_label_name = 0;   // a name is not [a-zA-Z_][a-zA-Z0-9_]*
  uint64_t duplicate_label = 0;  // two labels with the same name
  uint64_t bad_label_value = 0;  // not UTF-8, or holds a NUL byte
  uint64_t no_samples = 0;

  uint64_t total() const {
    return no_name + bad_metric_name + bad_label_name + duplicate_label + bad_label_value +
           no_samples;
  }
};

struct RwEncodeResult {
  uint64_t series = 0;   // series written
  uint64_t samples = 0;  // samples written
  // Labels with an empty value, left out as the spec requires (in
  // Prometheus an empty value means the label is absent).
  uint64_t empty_labels = 0;
  // Samples replaced by a later one of the same series with the same
  // timestamp: Prometheus refuses a request that holds both when the values
  // differ.
  uint64_t duplicate_samples = 0;
  RwRejected rejected;
};

// Keeps its scratch arrays between calls, so encoding a batch allocates
// only when a batch is larger than any before it.
class RemoteWriteEncoder {
 public:
  RemoteWriteEncoder();
  ~RemoteWriteEncoder();
  RemoteWriteEncoder(const RemoteWriteEncoder&) = delete;
  RemoteWriteEncoder& operator=(const RemoteWriteEncoder&) = delete;

  // Appends one WriteRequest holding the acceptable `series` to *out, each
  // with its labels sorted by name (__name__ included) and its samples in
  // time order; the input is not changed. With no acceptable series nothing
  // is appended (an empty WriteRequest is zero bytes).
  [[nodiscard]] RwEncodeResult encode(std::span<const RwSeries> series, std::string* out);

 private:
  struct Scratch;
  std::unique_ptr<Scratch> scratch_;
};

// Prometheus's name rules (2.x, before UTF-8 names).
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

}  // namespace edgemon::outputs
