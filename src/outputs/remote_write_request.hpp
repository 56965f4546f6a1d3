#pragma once
// Reading an encoded (uncompressed) remote-write WriteRequest back: decoding
// it for tests and for showing what a spool holds, and cutting it into
// smaller requests for a receiver that answered 413.
//
// A property the remote-write output builds on: WriteRequest's only fields
// are repeated, and protobuf parses concatenated messages as one whose
// repeated fields are concatenated. So the bytes of several encoded batches,
// appended, are one valid WriteRequest holding all their series in order:
// a request body is such a concatenation, snappy-compressed once.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outputs/remote_write_series.hpp"

namespace edgemon::outputs {

// Larger requests are refused unread; a batch is a few hundred KB at most.
inline constexpr size_t kMaxWriteRequestBytes = 32u << 20;

// Decodes `protobuf`, appending its series to *out in order (metadata is
// skipped). Returns "" or why not (libprotobuf-c, loaded by the first
// decode, missing among them); on error *out is as it was. Decoding
// allocates at most 16 bytes per input byte plus 1 MiB, so crafted input
// that would make protobuf-c allocate far more than real data does (empty
// messages cost it ~48 bytes for 2) is refused instead. A NUL inside a
// string ends it: protobuf-c keeps strings as C strings.
[[nodiscard]] std::string decode_write_request(std::string_view protobuf,
                                               std::vector<RwSeries>* out);

// Cuts an encoded WriteRequest into consecutive parts of at most
// `max_series_per_part` (>= 1) series each, walking only the top level of
// the wire format: series are neither decoded nor copied, the parts point
// into `encoded`. The parts are valid WriteRequests whose concatenation is
// `encoded`; fields other than series stay with the part before them (or
// the first). An empty input gives no parts. False, with *parts empty, when
// the top level is not well-formed protobuf or a series field is not
// length-delimited.
[[nodiscard]] bool split_write_request(std::string_view encoded, size_t max_series_per_part,
                                       std::vector<std::string_view>* parts);

// How many series an encoded WriteRequest holds, read the same way as
// split_write_request reads it; nullopt when it is malformed. With it a
// refused request can be resent in halves.
[[nodiscard]] std::optional<size_t> count_write_request_series(std::string_view encoded);

}  // namespace edgemon::outputs
