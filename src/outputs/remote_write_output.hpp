#pragma once
// The Prometheus remote-write kind of output (remote-write 1.0: a protobuf
// WriteRequest, snappy-compressed, POSTed to the receiver's URL).
//
// Points become series the way Telegraf's Prometheus remote-write output
// makes them: each numeric field of a point is one series named
// MEASUREMENT_FIELD -- just MEASUREMENT for a field named `value` -- with the
// point's tags as labels and one sample at the point's time in milliseconds.
// Booleans are 0 or 1; string fields cannot be samples and are counted as
// unrepresentable. Names are made valid by replacing every character
// Prometheus does not allow with `_` (and putting `_` before a leading
// digit). The unit this output counts and batches by is the sample.
//
// A spool row is the uncompressed WriteRequest of one batch. Protobuf merges
// the repeated fields of concatenated messages, so a request body is rows
// appended to each other, snappy-compressed once at send time; a row too
// large for the receiver (413) is cut at series boundaries.
//
// Answers: 2xx delivered; 5xx, 429 and 408 retried with backoff, honouring
// Retry-After; 413 split; 401, 403, 404, 405, 407 and 3xx mean the URL or the
// credentials are wrong, so sending stops and the batches stay spooled (as
// for InfluxDB; dead-lettering every batch for a typo would empty the
// queue); any other 4xx -- Prometheus answers 400 for an out-of-order,
// out-of-bounds or conflicting duplicate sample -- dead-letters the batch.
// Prometheus refuses a whole request for one such sample, so a refused
// request of several batches is resent one batch at a time first: only the
// batch holding the bad sample is dead-lettered.
//
// libprotobuf-c and libsnappy are loaded with dlopen() when the first such
// output is configured; where one cannot be loaded the output is failing
// with an error naming its Debian package, sends nothing, and the rest of
// the daemon runs on.
#include <string>
#include <string_view>

#include "http/http_client.hpp"
#include "outputs/output_kind.hpp"
#include "outputs/remote_write_config.hpp"
#include "outputs/write_outcome.hpp"

namespace edgemon::outputs {

[[nodiscard]] OutputSpec remote_write_spec(std::string name, const RemoteWriteConfig& config);

[[nodiscard]] WriteOutcome classify_remote_write(const http::ClientResponse& response);

}  // namespace edgemon::outputs
