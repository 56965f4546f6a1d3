#include "api/ingest_endpoints.hpp"

#include <cjson/cJSON.h>
#include <strings.h>

#include <algorithm>
#include <memory>

#include "build_info.hpp"
#include "core/clock.hpp"
#include "core/gzip.hpp"
#include "core/json_document.hpp"
#include "core/utf8.hpp"
#include "ingest/agent_payload.hpp"
#include "ingest/line_protocol_parser.hpp"

namespace edgemon::api {
namespace {

// What InfluxDB clients are told they talk to. The influx CLI and client
// libraries only check that the header exists; "-edgemon" keeps it honest.
constexpr const char* kRetryAfterSeconds = "1";

int64_t now_ns() {
  return unix_now_ms() * 1000000;
}

// What a client sent, in an answer: any bytes, shown safely.
std::string printable(std::string_view text) {
  return edgemon::printable(text, 128);
}

std::string tag_value(const metrics::Point& point, std::string_view key) {
  for (const auto& t : point.tags) {
    if (t.key == key) return t.value;
  }
  return "";
}

http::Response unavailable(const std::string& why) {
  http::Response r = http::json_error(503, "points not stored, retry: " + why);
  r.headers.emplace_back("Retry-After", kRetryAfterSeconds);
  return r;
}

}  // namespace

struct IngestEndpoints::Decoded {
  std::string* body = nullptr;  // the request's, taken by the parse job
  bool gzip = false;            // inflated on the parser thread, before the parse
};

void IngestEndpoints::configure(const config::IngestSection& config) {
  config_ = config;
  tokens_.configure(config.tokens);
}

void IngestEndpoints::add_routes(http::Router& router) {
  using http::Group;
  bool lp = config_.enabled && config_.line_protocol;
  bool json_on = config_.enabled && config_.json;
  auto limit = config_.limits.max_body_bytes.bytes;
  auto handler = [this](ingest::Endpoint e) {
    return [this, e](const http::Request& q, http::Response& r) { write(q, r, e); };
  };
  for (const char* path : {"/write", "/api/v2/write", "/ping", "/metrics"}) {
    router.remove(std::string_view(path) == "/ping" ? "GET" : "POST", path);
  }
  router.remove("GET", "/query");
  router.remove("POST", "/query");
  auto head_check = [this](ingest::Endpoint e) {
    return [this, e](const http::Request& head, http::Response* refusal) {
      return check_head(e, head, refusal);
    };
  };
  auto add = [&](const char* path, ingest::Endpoint e, http::Handler h) {
    http::Route& route = router.add("POST", path, Group::kIngest, std::move(h));
    route.max_body_bytes = limit;
    route.head_check = head_check(e);
  };
  if (lp) {
    add("/write", ingest::Endpoint::kWrite, handler(ingest::Endpoint::kWrite));
    add("/api/v2/write", ingest::Endpoint::kV2Write, handler(ingest::Endpoint::kV2Write));
    router.add("GET", "/ping", Group::kIngest,
               [this](const http::Request& q, http::Response& r) { ping(q, r); });
    for (const char* method : {"GET", "POST"}) {
      // A query is a line or two of InfluxQL, form-encoded in the body.
      router
          .add(method, "/query", Group::kIngest,
               [this](const http::Request& q, http::Response& r) { query(q, r); })
          .max_body_bytes = 64 * 1024;
    }
  }
  if (json_on) {
    add("/metrics", ingest::Endpoint::kJson,
        [this](const http::Request& q, http::Response& r) { json(q, r); });
  }
}

void IngestEndpoints::answer(ingest::Endpoint endpoint, http::Response* response,
                             http::Response&& answer) {
  stats_.request(endpoint, answer.status);
  *response = std::move(answer);
}

std::optional<http::Response> IngestEndpoints::refuse_identity(const http::Request& request,
                                                               const http::QueryParams& params,
                                                               std::string* device) const {
  ingest::Identity id = tokens_.identify(request, params);
  if (id.status != 0) {
    http::Response r = http::json_error(id.status, id.message);
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"edgemon ingest\"");
    return r;
  }
  // The alertmanager entry of ingest.tokens is Alertmanager's credential for
  // POST /alert; it names no device whose points it may write.
  if (id.device == ingest::kAlertmanagerEntry) {
    return http::json_error(403,
                            "the alertmanager token may only post alerts (POST /alert); "
                            "give the pushing device a token of its own in ingest.tokens");
  }
  *device = std::move(id.device);
  return std::nullopt;
}

bool IngestEndpoints::check_head(ingest::Endpoint endpoint, const http::Request& head,
                                 http::Response* refusal) {
  std::optional<http::QueryParams> params = http::parse_query(head.query);
  if (!params) return true;  // answered 400 with the request
  std::string device;
  std::optional<http::Response> refused = refuse_identity(head, *params, &device);
  if (!refused) return true;
  answer(endpoint, refusal, std::move(*refused));
  return false;
}

bool IngestEndpoints::admit(const http::Request& request, ingest::Endpoint endpoint,
                            const http::QueryParams& params, Decoded* decoded,
                            http::Response* response) {
  stats_.received(endpoint, request.body.size());
  std::string device;
  if (std::optional<http::Response> refused = refuse_identity(request, params, &device)) {
    answer(endpoint, response, std::move(*refused));
    return false;
  }
  decoded->body = &request.body;
  if (const std::string* coding = request.header("content-encoding")) {
    if (strcasecmp(coding->c_str(), "gzip") == 0) {
      decoded->gzip = true;
    } else if (strcasecmp(coding->c_str(), "identity") != 0) {
      answer(
          endpoint, response,
          http::json_error(415, "unsupported Content-Encoding '" + *coding + "' (gzip or none)"));
      return false;
    }
  }
  if (pending_bytes_ + decoded->body->size() > config_.limits.max_pending_bytes.bytes) {
    answer(endpoint, response,
           unavailable("too many points waiting for the spool (ingest.limits.max_pending_bytes)"));
    return false;
  }
  request_device_ = std::move(device);
  return true;
}

void IngestEndpoints::submit(ingest::Endpoint endpoint, IngestBatch&& batch, size_t bytes,
                             http::Responder responder,
                             std::function<http::Response()> on_durable) {
  size_t count = batch.points.size();
  bus_.publish_ingested(std::move(batch.points), std::move(batch.prepared),
                        [this, endpoint, bytes, count, responder,
                         on_durable = std::move(on_durable)](const std::string& error) mutable {
                          release(bytes);
                          http::Response r = error.empty() ? on_durable() : unavailable(error);
                          if (error.empty()) stats_.accepted(endpoint, count);
                          stats_.request(endpoint, r.status);
                          responder.send(std::move(r));
                        });
}

void IngestEndpoints::reserve(size_t bytes) {
  pending_bytes_ += bytes;
  stats_.set_pending_bytes(pending_bytes_);
}

void IngestEndpoints::release(size_t bytes) {
  pending_bytes_ -= bytes;
  stats_.set_pending_bytes(pending_bytes_);
}

// Bodies are inflated and parsed, and their points prepared for the bus's consumers, on
// a thread of their own: at a few hundred thousand points a second that is
// most of the hub's work (and a 32 MiB JSON body takes a second), and the
// loop stays free to read other requests and run the spool's commits
// meanwhile. One thread, not libuv's pool: four bodies inflating at once on
// a two-core board stalled the loop for half a second (page faults and CPU
// taken from it), and the pool also runs statfs and DNS. Only loop-side
// objects (the Responder) are touched in the completion.
struct IngestEndpoints::ParseJob {
  IngestEndpoints* self = nullptr;
  std::weak_ptr<bool> alive;
  ingest::Endpoint endpoint = ingest::Endpoint::kWrite;
  std::string body;
  size_t bytes = 0;  // of the body, reserved against max_pending_bytes
  bool gzip = false;
  std::string inflate_error;
  size_t decoded_bytes = 0;
  int64_t ns_per_unit = 1;
  int64_t now_ns = 0;
  config::IngestLimits limits;
  std::string device;
  bus::Bus::IngestPreparer prepare;
  http::Responder responder;
  ingest::LineProtocolResult result;
  ingest::AgentPayloadResult payloads;  // for POST /metrics
  std::string device_error;             // why scope_to_device() removed points
  IngestBatch batch;                    // the points accepted, prepared

  bool json() const { return endpoint == ingest::Endpoint::kJson; }
  // On the thread pool.
  void run();
};

void IngestEndpoints::ParseJob::run() {
  // Inflating is the part a client controls most cheaply (a 1 MB bomb is
  // a second of zlib), so it is never done on the loop.
  if (gzip) {
    std::string inflated;
    inflate_error = gunzip(body, limits.max_decoded_bytes.bytes, &inflated);
    if (!inflate_error.empty()) return;
    body.swap(inflated);
  }
  decoded_bytes = body.size();
  std::vector<metrics::Point>* points = nullptr;
  if (json()) {
    payloads = ingest::parse_agent_payloads(body, now_ns, limits);
    if (payloads.too_many_points || !payloads.problems.empty()) return;
    device_error = scope_to_device(device, &payloads.points);
    if (!device_error.empty()) {
      payloads.problems.push_back({"device_id", device_error});
      return;
    }
    points = &payloads.points;
  } else {
    result = ingest::parse_line_protocol(body, ns_per_unit, now_ns, limits);
    if (result.too_many_points) return;
    device_error = scope_to_device(device, &result.points);
    points = &result.points;
  }
  std::string().swap(body);  // freed here rather than on the loop
  if (points->empty()) return;
  batch.points = std::move(*points);
  batch.prepared = prepare(batch.points);
}

void IngestEndpoints::write(const http::Request& request, http::Response& response,
                            ingest::Endpoint endpoint) {
  bool v2 = endpoint == ingest::Endpoint::kV2Write;
  std::optional<http::QueryParams> params = http::parse_query(request.query);
  if (!params) {
    answer(endpoint, &response, http::json_error(400, "malformed query string"));
    return;
  }
  Decoded decoded;
  if (!admit(request, endpoint, *params, &decoded, &response)) return;
  const std::string* precision_text = http::find_param(*params, "precision");
  std::optional<int64_t> unit =
      ingest::parse_write_precision(precision_text ? *precision_text : "", v2);
  if (!unit) {
    answer(endpoint, &response,
           http::json_error(400, "parameter 'precision': expected " +
                                     std::string(v2 ? "ns, us, ms or s" : "n, u, ms, s, m or h")));
    return;
  }
  auto job = std::make_unique<ParseJob>();
  job->ns_per_unit = *unit;
  queue_parse(std::move(job), endpoint, std::move(decoded), response);
}

void IngestEndpoints::queue_parse(std::unique_ptr<ParseJob> job, ingest::Endpoint endpoint,
                                  Decoded&& decoded, http::Response& response) {
  job->self = this;
  job->alive = alive_;
  job->endpoint = endpoint;
  job->body = std::move(*decoded.body);
  job->gzip = decoded.gzip;
  job->now_ns = now_ns();
  job->limits = config_.limits;
  job->device = request_device_;
  job->prepare = bus_.ingest_preparer();
  // Not "not stored": the points may yet become durable. Sending them
  // again is harmless, as a point is identified by its series and time
  // (InfluxDB and the history keep one of each).
  job->responder = response.defer(
      "timed out waiting for the spool: the points may still be stored; sending them again is "
      "safe (a point is identified by its series and time)");
  job->bytes = job->body.size();
  size_t job_bytes = job->bytes;
  reserve(job->bytes);
  // The completion owns the job, so that its loop-side parts (the
  // Responder) are destroyed on the loop; it is delivered after run().
  std::shared_ptr<ParseJob> shared(std::move(job));
  ParseJob* raw = shared.get();
  // A compressed body is reckoned at a usual line-protocol ratio until its
  // real size is known.
  size_t estimate = decoded.gzip ? job_bytes * 8 : job_bytes;
  size_t index = pick_parser(estimate);
  parsers_[index].bytes += estimate;
  parsers_[index].thread->post([raw] { raw->run(); },
                               [shared, index, estimate] {
                                 if (shared->alive.expired()) return;
                                 shared->self->parsers_[index].bytes -= estimate;
                                 if (shared->json()) {
                                   shared->self->parsed_payloads(*shared);
                                 } else {
                                   shared->self->parsed(*shared);
                                 }
                               });
}

IngestEndpoints::IngestEndpoints(uv_loop_t* loop, bus::Bus& bus)
    : loop_(loop), bus_(bus), max_parsers_(std::clamp<size_t>(uv_available_parallelism(), 1, 4)) {
  bus_.set_disposer([this](std::vector<metrics::Point>&& points) { dispose(std::move(points)); });
}

IngestEndpoints::~IngestEndpoints() {
  bus_.set_disposer(nullptr);
}

void IngestEndpoints::dispose(std::vector<metrics::Point>&& points) {
  if (points.empty()) return;
  auto dead = std::make_shared<std::vector<metrics::Point>>(std::move(points));
  // Emptied by the job itself, so the points are freed on the parser thread
  // whichever thread drops the last reference to the (then empty) vector.
  parsers_[pick_parser(0)].thread->post([dead] { std::vector<metrics::Point>().swap(*dead); },
                                        nullptr);
}

size_t IngestEndpoints::pick_parser(size_t bytes) {
  if (parsers_.empty()) parsers_.push_back({std::make_unique<WorkerThread>(loop_), 0});
  // Large bodies, whose points take several times their text, all go to
  // the first parser: one at a time, as with a single parser, so the peak
  // stays where it was. Small ones go where the least is queued.
  if (bytes > kLargeBodyBytes) return 0;
  size_t least = 0;
  for (size_t i = 1; i < parsers_.size(); ++i) {
    if (parsers_[i].bytes < parsers_[least].bytes) least = i;
  }
  if (parsers_[least].bytes > 0 && parsers_.size() < max_parsers_) {
    parsers_.push_back({std::make_unique<WorkerThread>(loop_), 0});
    return parsers_.size() - 1;
  }
  return least;
}

bool IngestEndpoints::settle_inflated(ParseJob& job) {
  auto refuse = [&](http::Response&& r) {
    release(job.bytes);
    stats_.request(job.endpoint, r.status);
    job.responder.send(std::move(r));
    return false;
  };
  if (!job.inflate_error.empty()) {
    int status = job.inflate_error.find("larger") != std::string::npos ? 413 : 400;
    return refuse(http::json_error(status, "request body: " + job.inflate_error));
  }
  if (!job.gzip || job.decoded_bytes <= job.bytes) return true;
  // From now on the decoded points are held until durable: they take the
  // compressed body's place in the budget.
  size_t more = job.decoded_bytes - job.bytes;
  if (pending_bytes_ + more > config_.limits.max_pending_bytes.bytes) {
    return refuse(
        unavailable("too many points waiting for the spool (ingest.limits.max_pending_bytes)"));
  }
  reserve(more);
  job.bytes += more;
  return true;
}

void IngestEndpoints::parsed(ParseJob& job) {
  if (!settle_inflated(job)) return;
  size_t bytes = job.bytes;
  ingest::LineProtocolResult& parsed = job.result;
  auto refuse = [&](http::Response&& r) {
    release(bytes);
    stats_.request(job.endpoint, r.status);
    job.responder.send(std::move(r));
  };
  if (parsed.too_many_points) {
    refuse(http::json_error(413, "more than " + std::to_string(config_.limits.max_points) +
                                     " points in one request (ingest.limits.max_points)"));
    return;
  }
  const std::string& device_error = job.device_error;
  size_t rejected = parsed.lines_rejected + (device_error.empty() ? 0 : 1);
  stats_.rejected(job.endpoint, rejected);
  std::string first_error;
  if (parsed.first_error) {
    first_error = "line " + std::to_string(parsed.first_error->line) + ": " +
                  parsed.first_error->message + " ('" + printable(parsed.first_error->excerpt) +
                  "')";
  } else if (!device_error.empty()) {
    first_error = device_error;
  }
  auto partial = [first_error, rejected] {
    return http::json_error(
        400, "partial write: " + first_error + " dropped=" + std::to_string(rejected));
  };
  if (job.batch.points.empty()) {
    refuse(rejected > 0 ? partial() : http::json_error(400, "no points in the request body"));
    return;
  }
  submit(job.endpoint, std::move(job.batch), bytes, job.responder, [rejected, partial] {
    if (rejected > 0) return partial();
    http::Response r;
    r.status = 204;
    return r;
  });
}

std::string IngestEndpoints::scope_to_device(const std::string& device_id,
                                             std::vector<metrics::Point>* points) {
  if (device_id == ingest::kAnyDevice) return "";
  std::string error;
  for (auto& p : *points) {
    if (tag_value(p, "device_id").empty()) p.tags.push_back({"device_id", device_id});
  }
  std::erase_if(*points, [&](const metrics::Point& p) {
    std::string device = tag_value(p, "device_id");
    if (device == device_id) return false;
    if (error.empty()) {
      error = "device_id '" + printable(device) + "' is not the token's device '" + device_id + "'";
    }
    return true;
  });
  return error;
}

void IngestEndpoints::json(const http::Request& request, http::Response& response) {
  constexpr ingest::Endpoint kEndpoint = ingest::Endpoint::kJson;
  http::QueryParams none;
  if (const std::string* type = request.header("content-type")) {
    std::string_view t = *type;
    if (!t.starts_with("application/json") && !t.starts_with("application/x-ndjson")) {
      answer(kEndpoint, &response,
             http::json_error(
                 415, "Content-Type must be application/json (got '" + printable(t) + "')"));
      return;
    }
  }
  Decoded decoded;
  if (!admit(request, kEndpoint, none, &decoded, &response)) return;
  queue_parse(std::make_unique<ParseJob>(), kEndpoint, std::move(decoded), response);
}

void IngestEndpoints::parsed_payloads(ParseJob& job) {
  constexpr ingest::Endpoint kEndpoint = ingest::Endpoint::kJson;
  if (!settle_inflated(job)) return;
  size_t bytes = job.bytes;
  ingest::AgentPayloadResult& parsed = job.payloads;
  auto refuse = [&](http::Response&& r) {
    release(bytes);
    stats_.request(kEndpoint, r.status);
    job.responder.send(std::move(r));
  };
  if (parsed.too_many_points) {
    refuse(http::json_error(413, "more than " + std::to_string(config_.limits.max_points) +
                                     " payloads in one request (ingest.limits.max_points)"));
    return;
  }
  if (!parsed.problems.empty()) {
    stats_.rejected(kEndpoint, std::max<size_t>(parsed.points.size(), 1));
    refuse(problems_response(parsed.problems));
    return;
  }
  size_t count = job.batch.points.size();
  submit(kEndpoint, std::move(job.batch), bytes, job.responder, [count] {
    // 200 and `message` as the original edge server answered (its agents
    // check both); `status` and `points` for newer clients. Either way the
    // points are in the spool by now.
    http::Response r;
    r.set_body(
        "{\"message\":\"Metrics stored successfully\",\"status\":\"accepted\","
        "\"points\":" +
        std::to_string(count) + "}\n");
    return r;
  });
}

http::Response IngestEndpoints::problems_response(
    const std::vector<ingest::FieldProblem>& problems) {
  JsonPtr root = json_object();
  cJSON_AddStringToObject(root.get(), "error", "invalid payload");
  cJSON_AddNumberToObject(root.get(), "status", 400);
  cJSON* list = cJSON_AddArrayToObject(root.get(), "problems");
  for (const auto& p : problems) {
    cJSON* item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "field", printable(p.field).c_str());
    cJSON_AddStringToObject(item, "reason", printable(p.reason).c_str());
    cJSON_AddItemToArray(list, item);
  }
  http::Response r;
  r.status = 400;
  r.set_body(json_text(root.get()) + "\n");
  return r;
}

void IngestEndpoints::ping(const http::Request&, http::Response& response) {
  response.status = 204;
  response.headers.emplace_back("X-Influxdb-Version", kInfluxVersionHeader);
  response.headers.emplace_back("X-Influxdb-Build", "OSS");
  response.headers.emplace_back("X-Edgemon-Version", build::kVersion);
}

}  // namespace edgemon::api
