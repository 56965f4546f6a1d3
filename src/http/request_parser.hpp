#pragma once
// Incremental HTTP/1.x request parsing with the server's size limits, on top
// of llhttp. Kept apart from the connection so the fuzz target exercises the
// exact code that parses untrusted bytes.
//
// feed() stops at two points of every request: when its head is complete
// (the caller arms the body timer, answers Expect: 100-continue) and when
// the whole request is there. Stopping after each request is what lets a
// connection answer pipelined requests one at a time and stop reading in
// the middle of a buffer when the client does not read its responses.
#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "http/request.hpp"

namespace edgemon::http {

struct ParserLimits {
  uint64_t max_header_bytes = 16 * 1024;  // request line + headers, raw bytes
  uint64_t max_body_bytes = 1024 * 1024;
  // When set, the body limit of a request given its head (some routes take
  // larger bodies than the rest).
  std::function<uint64_t(const Request&)> body_limit;
};

class RequestParser {
 public:
  enum class Result { kNeedMore, kHeadersComplete, kRequestComplete, kError };
  enum class Phase { kIdle, kHead, kBody, kComplete, kError };

  // `limits` is read at each check, so a reload applies to requests in
  // progress; it must outlive the parser.
  explicit RequestParser(const ParserLimits* limits);
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses from `data`; `*consumed` says how far. Call again with the rest
  // after kHeadersComplete (even when nothing is left: a request without a
  // body completes on that call) and, after reset(), after kRequestComplete.
  Result feed(const char* data, size_t len, size_t* consumed);

  // The request being parsed; complete after kRequestComplete.
  Request& request() { return request_; }
  const Request& request() const { return request_; }
  // Prepares for the next request on the same connection.
  void reset();

  Phase phase() const { return phase_; }
  // Valid after kRequestComplete: the connection may carry another request.
  bool keep_alive() const { return keep_alive_; }
  // Valid after kHeadersComplete.
  bool expects_continue() const { return expects_continue_; }
  bool has_body() const { return has_body_; }
  // What the body of the request whose head is complete may come to: its
  // Content-Length, or for a chunked body the route's limit.
  uint64_t body_reservation() const;

  // Valid after kError: the status to answer (400, 413, 431), a message for
  // the JSON body, and which limit was hit ("bad_request", "header_too_large",
  // "body_too_large").
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }
  std::string_view error_reason() const { return error_reason_; }

 private:
  static const llhttp_settings_t* settings();
  static RequestParser* self(llhttp_t* p) { return static_cast<RequestParser*>(p->data); }
  static int on_message_begin(llhttp_t* p);
  static int on_head_data(llhttp_t* p, const char* at, size_t len);
  static int on_url(llhttp_t* p, const char* at, size_t len);
  static int on_url_complete(llhttp_t* p);
  static int on_header_field(llhttp_t* p, const char* at, size_t len);
  static int on_header_field_complete(llhttp_t* p);
  static int on_header_value(llhttp_t* p, const char* at, size_t len);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, size_t len);
  static int on_message_complete(llhttp_t* p);

  int fail(int status, std::string_view reason, std::string message);
  bool head_too_large(const char* end) const;
  int head_too_large_error();
  int count_trailer(size_t len);
  Result after_pause(const char* data, const char* pos, size_t* consumed);
  Result check_head();
  Result parse_error(llhttp_errno_t err);

  llhttp_t parser_;
  const ParserLimits* limits_;
  Request request_;
  std::string url_;
  Phase phase_ = Phase::kIdle;
  bool field_open_ = false;
  bool keep_alive_ = false;
  bool expects_continue_ = false;
  bool has_body_ = false;
  // Raw head bytes counted in earlier feed() calls, and where counting
  // resumes in the current one.
  uint64_t head_bytes_ = 0;
  const char* head_start_ = nullptr;
  uint64_t body_bytes_ = 0;
  uint64_t body_limit_ = 0;  // of the request being parsed
  int error_status_ = 0;
  std::string_view error_reason_;
  std::string error_message_;
};

}  // namespace edgemon::http
