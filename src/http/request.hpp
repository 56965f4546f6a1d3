#pragma once
// What a route handler sees and fills in. Handlers run synchronously on the
// loop thread, so a Request is only valid for the duration of the call.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/net_address.hpp"

namespace edgemon::http {

// Access group of a route: config http.access.read / http.access.write.
// Access group of a route: config http.access.read / http.access.write, and
// ingest.allow/rate/burst for the hub's ingest endpoints (whose per-device
// tokens their handlers check).
enum class Group { kRead, kWrite, kIngest };

struct Request {
  std::string_view method;                                   // "GET"; points at a static string
  std::string path;                                          // percent-decoded, without the query
  std::string query;                                         // raw, without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  // Mutable so that a handler which keeps the body past its call (the
  // ingest endpoints hand it to their parser thread) can take it rather
  // than hold a second copy: the connection has no use for it afterwards.
  mutable std::string body;
  IpAddress client;
  int http_minor = 1;  // HTTP/1.x
  // Access rules were already applied when the head arrived (requests with
  // a body are checked before the body is read).
  bool admitted = false;

  // First header with this (lower-case) name, or nullptr.
  const std::string* header(std::string_view lower_name) const;
  // Accept-Encoding names gzip (or *) with a q-value other than 0.
  bool accepts_gzip() const;
};

struct Response;

// The far end of a deferred response (Response::defer): the handler keeps
// it and sends the response later, from the loop thread, exactly once. If
// the client has gone meanwhile (or the server answered 503 because the
// handler took longer than http.limits.body_timeout), send() does nothing.
// Copies share one state; it must only be used and destroyed on the loop
// thread, so keep it in a loop-side completion callback, never in a job
// that runs on a worker thread.
class Responder {
 public:
  struct State {
    std::function<void(Response&&)> deliver;  // cleared when the connection goes
    bool attached = false;                    // the handler has returned
    bool sent = false;
    // What a client is told when the handler takes longer than
    // http.limits.body_timeout (503); empty: that it timed out.
    std::string timeout_message;
    // Sent before the handler returned (the work finished synchronously).
    std::shared_ptr<Response> early;
  };
  Responder() = default;
  explicit Responder(std::shared_ptr<State> state) : state_(std::move(state)) {}
  void send(Response&& response);
  // The client still waits for this response.
  bool waiting() const { return state_ && !state_->sent && state_->deliver; }

 private:
  std::shared_ptr<State> state_;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  // Parts written in order without copying, so a handler can hand out a
  // shared, already rendered document (the last /metrics exposition).
  std::vector<std::shared_ptr<const std::string>> body;

  // Set by defer(): the connection waits for the Responder (reading no
  // further pipelined requests meanwhile, so responses stay in order).
  std::shared_ptr<Responder::State> deferred;

  // Answer later: the handler returns at once and sends through the
  // returned Responder (e.g. when a worker thread has finished).
  // `timeout_message` says what a timeout means for this request's work.
  Responder defer(std::string timeout_message = {});
  void set_body(std::string text);
  void add_body(std::shared_ptr<const std::string> part);
  size_t body_size() const;
};

using Handler = std::function<void(const Request&, Response&)>;

// The body of every error the server itself produces:
// {"error":"<message>","status":N}
Response json_error(int status, std::string_view message);

// "OK", "Not Found", ...; "Unknown" for codes without a registered phrase.
std::string_view status_reason(int status);

}  // namespace edgemon::http
