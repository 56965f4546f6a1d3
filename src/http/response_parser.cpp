#include "http/response_parser.hpp"

#include <algorithm>

namespace edgemon::http {

namespace {

// Header lines kept: a flood of tiny lines within the head cap would still
// cost far more as strings than as bytes.
constexpr size_t kMaxResponseHeaders = 200;
// The most a body buffer is sized up front from Content-Length.
constexpr size_t kMaxReserve = 4 * 1024 * 1024;

// A folded value (obs-fold) arrives with its line break; it reads as one
// space, and the value loses the whitespace around it.
void normalize_value(std::string& value) {
  std::string out;
  out.reserve(value.size());
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  value = std::move(out);
}

}  // namespace

const llhttp_settings_t* ResponseParser::settings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = on_message_begin;
    s.on_version = on_head_data;
    s.on_status = on_head_data;
    s.on_header_field = on_header_field;
    s.on_header_field_complete = on_header_field_complete;
    s.on_header_value = on_header_value;
    s.on_header_value_complete = on_header_value_complete;
    s.on_headers_complete = on_headers_complete;
    s.on_body = on_body;
    s.on_message_complete = on_message_complete;
    return s;
  }();
  return &settings;
}

ResponseParser::ResponseParser(size_t max_body, bool head_request)
    : max_body_(max_body), head_request_(head_request) {
  llhttp_init(&parser_, HTTP_RESPONSE, settings());
  parser_.data = this;
}

ResponseParser::Result ResponseParser::feed(const char* data, size_t len) {
  if (!error_.empty()) return Result::kError;
  if (complete_) return Result::kComplete;
  if (len == 0) return Result::kNeedMore;
  started_ = true;
  feed_start_ = data;
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  return after_execute(err, data, len);
}

ResponseParser::Result ResponseParser::finish() {
  if (!error_.empty()) return Result::kError;
  if (complete_) return Result::kComplete;
  if (!started_) return Result::kNeedMore;
  feed_start_ = nullptr;
  llhttp_errno_t err = llhttp_finish(&parser_);
  if (err == HPE_INVALID_EOF_STATE || (err == HPE_OK && !complete_)) {
    return fail("the server closed the connection before the response was complete");
  }
  return after_execute(err, nullptr, 0);
}

ResponseParser::Result ResponseParser::after_execute(llhttp_errno_t err, const char* data,
                                                     size_t len) {
  if (err == HPE_PAUSED && complete_) {
    // Bytes after the response were not asked for: whatever they are, the
    // connection's framing can no longer be trusted.
    if (data != nullptr && llhttp_get_error_pos(&parser_) != data + len) keep_alive_ = false;
    return Result::kComplete;
  }
  if (err == HPE_OK) {
    if (complete_) return Result::kComplete;
    if (in_head_) {
      head_bytes_ += len;
      if (head_too_large(nullptr)) return Result::kError;
    }
    return Result::kNeedMore;
  }
  if (!error_.empty()) return Result::kError;  // set by a callback
  if (err == HPE_PAUSED_UPGRADE) return fail("malformed response: protocol upgrade");
  const char* reason = llhttp_get_error_reason(&parser_);
  return fail(std::string("malformed response: ") +
              (reason != nullptr && *reason != '\0' ? reason : llhttp_errno_name(err)));
}

ResponseParser::Result ResponseParser::fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
  keep_alive_ = false;
  return Result::kError;
}

// True (and the error set) when the head, up to `end` in the current
// buffer, is over the cap.
bool ResponseParser::head_too_large(const char* end) {
  size_t now = head_bytes_;
  if (end != nullptr && feed_start_ != nullptr) now += static_cast<size_t>(end - feed_start_);
  if (now <= kMaxResponseHead) return false;
  fail("the response headers are larger than " + std::to_string(kMaxResponseHead) + " bytes");
  return true;
}

int ResponseParser::on_message_begin(llhttp_t* p) {
  ResponseParser* s = self(p);
  // A 1xx before: its headers are not the final response's.
  s->response_.headers.clear();
  s->response_.body.clear();
  s->response_.truncated = false;
  s->field_open_ = false;
  s->dropping_header_ = false;
  return 0;
}

int ResponseParser::on_head_data(llhttp_t* p, const char* at, size_t len) {
  return self(p)->head_too_large(at + len) ? HPE_USER : 0;
}

int ResponseParser::on_header_field(llhttp_t* p, const char* at, size_t len) {
  ResponseParser* s = self(p);
  if (!s->in_head_) return 0;  // chunked trailers: dropped, so they cost nothing
  if (s->head_too_large(at + len)) return HPE_USER;
  auto& headers = s->response_.headers;
  if (!s->field_open_) {
    s->field_open_ = true;
    s->dropping_header_ = headers.size() >= kMaxResponseHeaders;
    if (!s->dropping_header_) headers.emplace_back();
  }
  if (s->dropping_header_) return 0;
  std::string& name = headers.back().first;
  for (size_t i = 0; i < len; ++i) {
    char c = at[i];
    name.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return 0;
}

int ResponseParser::on_header_field_complete(llhttp_t* p) {
  self(p)->field_open_ = false;
  return 0;
}

int ResponseParser::on_header_value(llhttp_t* p, const char* at, size_t len) {
  ResponseParser* s = self(p);
  if (!s->in_head_) return 0;
  if (s->head_too_large(at + len)) return HPE_USER;
  if (!s->dropping_header_ && !s->response_.headers.empty()) {
    s->response_.headers.back().second.append(at, len);
  }
  return 0;
}

int ResponseParser::on_header_value_complete(llhttp_t* p) {
  ResponseParser* s = self(p);
  if (s->in_head_ && !s->dropping_header_ && !s->response_.headers.empty()) {
    normalize_value(s->response_.headers.back().second);
  }
  return 0;
}

int ResponseParser::on_headers_complete(llhttp_t* p) {
  ResponseParser* s = self(p);
  int status = p->status_code;
  s->response_.status = status;
  if (status == 101) {
    s->fail("unexpected 101 Switching Protocols");
    return -1;
  }
  if (status < 100) {
    s->fail("malformed response: status code " + std::to_string(status));
    return -1;
  }
  if (status < 200) return 0;  // informational: the final response follows
  s->in_head_ = false;
  if (s->head_request_) return 1;  // no body, whatever the headers announce
  if ((p->flags & F_CONTENT_LENGTH) != 0 && s->max_body_ > 0) {
    s->response_.body.reserve(
        static_cast<size_t>(std::min<uint64_t>({p->content_length, s->max_body_, kMaxReserve})));
  }
  return 0;
}

int ResponseParser::on_body(llhttp_t* p, const char* at, size_t len) {
  ResponseParser* s = self(p);
  if (s->in_head_) return 0;  // a 1xx has no body of the final response's
  std::string& body = s->response_.body;
  size_t room = s->max_body_ - std::min(body.size(), s->max_body_);
  if (len > room) s->response_.truncated = true;
  body.append(at, std::min(len, room));
  return 0;
}

int ResponseParser::on_message_complete(llhttp_t* p) {
  ResponseParser* s = self(p);
  if (s->in_head_) return 0;  // the end of a 1xx
  s->complete_ = true;
  s->keep_alive_ = llhttp_should_keep_alive(p) != 0;
  return HPE_PAUSED;
}

}  // namespace edgemon::http
