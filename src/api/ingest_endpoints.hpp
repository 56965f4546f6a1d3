#pragma once
// The hub's ingest endpoints: POST /metrics (the edge agent's JSON payload),
// POST /write and /api/v2/write (InfluxDB line protocol, so any InfluxDB
// client can push) and GET|HEAD /ping. Each request is checked (token,
// encoding, size, syntax), its good points published on the bus, and
// answered only once the bus says they are durable -- an InfluxDB outage
// behind the hub costs nothing, and a client that got its 2xx may forget the
// points.
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bus/bus.hpp"
#include "core/config.hpp"
#include "core/worker_thread.hpp"
#include "http/router.hpp"
#include "ingest/agent_payload.hpp"
#include "ingest/device_tokens.hpp"
#include "ingest/ingest_stats.hpp"
#include "metrics/metric_sink.hpp"
#include "metrics/point.hpp"

namespace edgemon::api {

// The accepted points of one request, and what the bus's consumers made of
// them on the parser thread: at a few hundred thousand points a second,
// encoding them for every output and laying them out for the history is
// most of a hub's work, and none of it needs the loop.
// What /ping and /query say they are: InfluxDB 1.8's API, edgemon's hub.
inline constexpr const char* kInfluxVersionHeader = "1.8.10-edgemon";

struct IngestBatch {
  std::vector<metrics::Point> points;
  // One per consumer, in its own type: the endpoints only carry them from
  // the parser thread back to the bus.
  std::vector<bus::Prepared> prepared;
};

class IngestEndpoints {
 public:
  IngestEndpoints(uv_loop_t* loop, bus::Bus& bus);
  ~IngestEndpoints();
  IngestEndpoints(const IngestEndpoints&) = delete;
  IngestEndpoints& operator=(const IngestEndpoints&) = delete;

  // Applies config (again on reload); the routes read it per request.
  void configure(const config::IngestSection& config);
  // Registers the routes of the endpoints turned on (and removes the others,
  // so that with ingest off POST /metrics is the 405 it always was), with
  // the ingest body limit. Call again after configure() on reload.
  void add_routes(http::Router& router);
  void write_metrics(metrics::MetricSink& sink) const { stats_.write_metrics(sink); }

  // SHOW MEASUREMENTS on /query: the names the hub has stored, delivered
  // later on the loop (the history answers it on its read thread), or why
  // not. Without one, the list is empty.
  using MeasurementsDone = std::function<void(std::vector<std::string>, std::string error)>;
  void set_measurement_lister(std::function<void(MeasurementsDone)> lister) {
    list_measurements_ = std::move(lister);
  }

 private:
  struct Decoded;
  struct ParseJob;
  void write(const http::Request& request, http::Response& response, ingest::Endpoint endpoint);
  void json(const http::Request& request, http::Response& response);
  void ping(const http::Request& request, http::Response& response);
  // GET/POST /query (ingest_query.cpp): the influx CLI's DDL and first commands.
  void query(const http::Request& request, http::Response& response);
  // Common checks: token, body encoding and size, memory bound. False with
  // the answer in *response.
  // The request's token: "" with the device it may write for in *device,
  // or the refusal (401, or 403 for the alertmanager token).
  std::optional<http::Response> refuse_identity(const http::Request& request,
                                                const http::QueryParams& params,
                                                std::string* device) const;
  // Route::head_check of the ingest routes: tokens are checked before a
  // body is read.
  bool check_head(ingest::Endpoint endpoint, const http::Request& head, http::Response* refusal);
  bool admit(const http::Request& request, ingest::Endpoint endpoint,
             const http::QueryParams& params, Decoded* decoded, http::Response* response);
  // Parses the body on the parser thread; the answer comes from parsed().
  void queue_parse(std::unique_ptr<ParseJob> job, ingest::Endpoint endpoint, Decoded&& decoded,
                   http::Response& response);
  // Parsed: answer, or publish the points.
  // The inflation's outcome, on the loop: false when the request was
  // answered (bad gzip, too large, over the budget once decoded).
  bool settle_inflated(ParseJob& job);
  void parsed(ParseJob& job);
  void parsed_payloads(ParseJob& job);
  // Publishes the points; answers with on_durable() once they are safe.
  void submit(ingest::Endpoint endpoint, IngestBatch&& batch, size_t bytes,
              http::Responder responder, std::function<http::Response()> on_durable);
  // Bytes of accepted requests not yet durable (ingest.limits.max_pending_bytes).
  void reserve(size_t bytes);
  // Frees published points on a parser thread, not on the loop.
  void dispose(std::vector<metrics::Point>&& points);
  // Where a body of `bytes` (decoded) is parsed: a large one (over
  // kLargeBodyBytes) always on the first parser, so that large bodies are
  // parsed one at a time and the peak stays where it was with one parser;
  // a small one where the least is queued. A parser is started when every
  // one has work, up to max_parsers_.
  size_t pick_parser(size_t bytes);
  void release(size_t bytes);
  void answer(ingest::Endpoint endpoint, http::Response* response, http::Response&& answer);
  // With a device token: points without device_id get the token's, points
  // of another device are removed; returns why the first one was.
  static std::string scope_to_device(const std::string& device_id,
                                     std::vector<metrics::Point>* points);
  static http::Response problems_response(const std::vector<ingest::FieldProblem>& problems);

  uv_loop_t* loop_;
  bus::Bus& bus_;
  config::IngestSection config_;
  ingest::DeviceTokens tokens_;
  ingest::IngestStats stats_;
  uint64_t pending_bytes_ = 0;
  // The device the request being handled may write for (set by admit()).
  std::string request_device_;
  // Parse jobs hold this weakly: one finishing after the endpoints are gone
  // (at exit) does nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  // Inflate and parse bodies, one per core at most: one thread alone was
  // the hub's bottleneck on a 2-core board (parsing and preparing a point
  // takes a few microseconds; the loop only moves buffers). Started as
  // requests need them; threads of their own, not libuv's pool, which a
  // statfs on a dead NFS mount can hold.
  // Bodies larger than this (decoded) are parsed one at a time.
  static constexpr size_t kLargeBodyBytes = 1 << 20;
  struct Parser {
    std::unique_ptr<WorkerThread> thread;
    size_t bytes = 0;  // of the bodies queued on it, decoded (estimated for gzip)
  };
  std::vector<Parser> parsers_;
  size_t max_parsers_ = 1;
  std::function<void(MeasurementsDone)> list_measurements_;
  // Databases named by CREATE DATABASE, for SHOW DATABASES (the hub keeps
  // nothing by database; bounded).
  std::vector<std::string> databases_;
};

}  // namespace edgemon::api
