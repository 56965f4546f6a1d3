#pragma once
// Incremental parsing of one HTTP/1.x response with llhttp, bounded in
// memory whatever the server sends: the head is capped (an error beyond),
// the body kept up to a limit and the rest counted but dropped, so the
// connection stays usable. Kept apart from the socket so that the fuzz
// target runs the exact code that reads untrusted bytes.
#include <llhttp.h>

#include <cstddef>
#include <string>

#include "http/http_client.hpp"

namespace edgemon::http {

// Status line and headers (of the final response and the 1xx before it),
// raw bytes. Far above what any server we talk to sends.
constexpr size_t kMaxResponseHead = 64 * 1024;

class ResponseParser {
 public:
  enum class Result { kNeedMore, kComplete, kError };

  // `head_request`: the response to HEAD has headers only, whatever its
  // Content-Length says.
  ResponseParser(size_t max_body, bool head_request);
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // Parses the next bytes from the peer. After kComplete or kError the
  // parser takes nothing more.
  Result feed(const char* data, size_t len);
  // The peer closed: completes a body that runs to the end of the
  // connection, else it is an error (unless nothing was received at all,
  // which is kNeedMore: the caller names that case itself).
  Result finish();

  // Whether any byte of a response arrived: a request that failed before
  // may be sent again on another connection.
  bool started() const { return started_; }
  // Valid after kComplete: the connection may carry the next request.
  bool keep_alive() const { return keep_alive_; }
  // Valid after kError.
  const std::string& error() const { return error_; }
  // status, headers, body and truncated; valid after kComplete.
  ClientResponse& response() { return response_; }

 private:
  static const llhttp_settings_t* settings();
  static ResponseParser* self(llhttp_t* p) { return static_cast<ResponseParser*>(p->data); }
  static int on_message_begin(llhttp_t* p);
  static int on_head_data(llhttp_t* p, const char* at, size_t len);
  static int on_header_field(llhttp_t* p, const char* at, size_t len);
  static int on_header_field_complete(llhttp_t* p);
  static int on_header_value(llhttp_t* p, const char* at, size_t len);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, size_t len);
  static int on_message_complete(llhttp_t* p);

  bool head_too_large(const char* end);
  Result fail(std::string message);
  Result after_execute(llhttp_errno_t err, const char* data, size_t len);

  llhttp_t parser_;
  ClientResponse response_;
  std::string error_;
  size_t max_body_;
  bool head_request_;
  bool in_head_ = true;  // until the final response's headers are complete
  bool started_ = false;
  bool complete_ = false;
  bool keep_alive_ = false;
  bool field_open_ = false;
  bool dropping_header_ = false;
  // Head bytes of earlier feed() calls, and where the current call began.
  size_t head_bytes_ = 0;
  const char* feed_start_ = nullptr;
};

}  // namespace edgemon::http
