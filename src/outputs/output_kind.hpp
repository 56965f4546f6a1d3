#pragma once
// What makes one kind of output (InfluxDB v1 or v2, an edgemon hub taking
// line protocol or JSON, a Prometheus remote-write receiver) different from
// another. Everything else -- the queue in the spool, batching, backoff,
// splitting after a 413, dead letters, caps, replay rate and the counters --
// is the one SpooledOutput, the same for every kind.
//
// A kind is immutable once made and every method is const, so one object is
// shared by the output on the loop, the spool thread (which joins, cuts and
// compresses request bodies) and the thread pool (which encodes points
// received by the hub). Only a RowEncoder has state: its scratch space.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "http/http_client.hpp"
#include "metrics/line_protocol.hpp"
#include "metrics/point.hpp"
#include "outputs/write_outcome.hpp"
#include "store/spool.hpp"

namespace edgemon::outputs {

// Points as one output writes them, ready to become spool rows. An item is
// the unit a kind counts and batches by: a point for line protocol and JSON,
// a sample (one numeric field of a point) for remote_write.
struct EncodedPoints {
  std::string text;
  std::vector<size_t> ends;      // where each item's text ends in `text`
  uint64_t unrepresentable = 0;  // points (or fields) that produced no text
  uint64_t unavailable = 0;      // points the kind could not encode: its library is missing
};

// Turns points into spool-row text. Keeps scratch space between calls, so
// each thread needs its own.
class RowEncoder {
 public:
  virtual ~RowEncoder() = default;
  // Appends what `point` becomes to into.text, pushing the end of every item
  // written to into.ends and counting in into.unrepresentable what the
  // format cannot carry. Rows are concatenations of such items, so a batch
  // may end after any item.
  virtual void append(const metrics::Point& point, EncodedPoints& into) = 0;
};

// The first part of one spool row, cut at an item boundary.
struct RowCut {
  size_t bytes = 0;
  int64_t items = 0;
};

enum class ContentCoding { kIdentity, kGzip, kSnappy };

class OutputKind {
 public:
  virtual ~OutputKind() = default;

  // The `type` shown in /status: influxdb_v1, influxdb_v2, hub_lp, hub_json,
  // remote_write.
  virtual std::string_view type() const = 0;
  // The receiver's URL without credentials, for logs and /status.
  virtual std::string display_url() const = 0;
  // Stored with every row this kind spools.
  virtual metrics::Precision precision() const = 0;
  [[nodiscard]] virtual std::unique_ptr<RowEncoder> make_encoder() const = 0;

  // Joins rows fetched from the spool (oldest first, one precision) into one
  // request body, freeing each row's text as it goes so that peak memory is
  // one copy of the request.
  virtual void join_rows(std::span<store::Batch> rows, std::string* body) const = 0;
  // After a 413 for a request holding one row: its first part of at most
  // `max_items` items (and at least one). nullopt when the row cannot be cut.
  [[nodiscard]] virtual std::optional<RowCut> cut_row(std::string_view row,
                                                      int64_t max_items) const = 0;
  // Compresses `body` into *wire; kIdentity, with *wire left empty, when the
  // body is to be sent as it is.
  [[nodiscard]] virtual ContentCoding compress(std::string_view body, std::string* wire) const = 0;

  // The write request without its body and Content-Encoding: URL, headers,
  // authentication, TLS and timeout. `precision` is the one stored with the
  // rows being sent.
  [[nodiscard]] virtual http::ClientRequest request(std::string_view precision) const = 0;
  [[nodiscard]] virtual WriteOutcome classify(const http::ClientResponse& response) const = 0;
  // One line for logs, /status and the dead letter's error column.
  [[nodiscard]] virtual std::string describe_failure(
      const http::ClientResponse& response) const = 0;
  // True when the receiver refuses a whole request for one bad sample in it
  // (Prometheus): a rejected request of several batches is then resent one
  // batch at a time, so that only the bad batch is dead-lettered. InfluxDB
  // stores the good lines of a request it answers 400, so its batches are
  // dead-lettered together as they always were.
  virtual bool rejects_whole_request() const { return false; }
  // Why this kind cannot run in this process -- a library it loads on
  // demand is missing -- or "". Such an output is `failing` with this error
  // from the start and sends nothing; its encoder writes nothing.
  [[nodiscard]] virtual std::string unavailable() const { return ""; }
};

const char* content_coding_name(ContentCoding coding);

// join_rows() by concatenation, freeing each row as it is copied.
void concatenate_rows(std::span<store::Batch> rows, std::string* body);

// Which of a collection's points an output takes.
enum class PointSchema { kHost, kSystemMetrics, kBoth };
// "host", "system_metrics" or "both" (config::check_output_schema's words).
[[nodiscard]] std::optional<PointSchema> parse_schema(std::string_view text);

// One configured output, whatever its kind: what the Pipeline builds a
// SpooledOutput from.
struct OutputSpec {
  std::string name;
  config::DeliverySettings delivery;
  PointSchema schema = PointSchema::kHost;
  // Every key of the output's configuration as text: a reload keeps an
  // output running when its text is unchanged, and rebuilds it otherwise.
  std::string settings;
  std::shared_ptr<const OutputKind> kind;
};

// The settings text of an OutputSpec: the kind, then every key of `config`
// (a struct with a template visit(V&), as in core/config.hpp), so that
// comparing two outputs cannot miss a key.
template <typename C>
std::string settings_text(std::string_view kind, const C& config) {
  return "kind: " + std::string(kind) + "\n" + config::canonical_text(config);
}

}  // namespace edgemon::outputs
