#include "http/request_parser.hpp"

#include <strings.h>

#include <algorithm>

#include "http/query_string.hpp"

namespace edgemon::http {

namespace {

constexpr size_t kMaxBodyReserve = 64 * 1024;

// Absolute-form targets ("GET http://host/path") are legal in HTTP/1.1;
// the authority is of no use to an origin server, so only the path is kept.
std::string_view strip_authority(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.size() >= scheme.size() && strncasecmp(url.data(), scheme.data(), scheme.size()) == 0) {
      size_t slash = url.find('/', scheme.size());
      return slash == std::string_view::npos ? std::string_view("/") : url.substr(slash);
    }
  }
  return url;
}

}  // namespace

const llhttp_settings_t* RequestParser::settings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = on_message_begin;
    s.on_method = on_head_data;
    s.on_url = on_url;
    s.on_url_complete = on_url_complete;
    s.on_version = on_head_data;
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

RequestParser::RequestParser(const ParserLimits* limits) : limits_(limits) {
  llhttp_init(&parser_, HTTP_REQUEST, settings());
  parser_.data = this;
}

void RequestParser::reset() {
  request_.method = {};
  request_.path.clear();
  request_.query.clear();
  request_.headers.clear();
  if (request_.body.capacity() > kMaxBodyReserve) {
    std::string().swap(request_.body);  // don't keep a large buffer per idle connection
  } else {
    request_.body.clear();
  }
  url_.clear();
  phase_ = Phase::kIdle;
  field_open_ = false;
  keep_alive_ = false;
  expects_continue_ = false;
  has_body_ = false;
  head_bytes_ = 0;
  head_start_ = nullptr;
  body_bytes_ = 0;
}

RequestParser::Result RequestParser::feed(const char* data, size_t len, size_t* consumed) {
  *consumed = 0;
  if (phase_ == Phase::kError) return Result::kError;
  if (phase_ == Phase::kComplete) return Result::kRequestComplete;
  const bool in_head = phase_ == Phase::kIdle || phase_ == Phase::kHead;
  if (in_head) head_start_ = data;
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (err == HPE_OK) {
    *consumed = len;
    if (phase_ == Phase::kIdle || phase_ == Phase::kHead) {
      // Bytes that reached no callback (blank lines, whitespace) count too.
      head_bytes_ += len;
      if (head_bytes_ > limits_->max_header_bytes) {
        head_too_large_error();
        phase_ = Phase::kError;
        return Result::kError;
      }
    }
    return Result::kNeedMore;
  }
  if (err == HPE_PAUSED) {
    const char* pos = llhttp_get_error_pos(&parser_);
    llhttp_resume(&parser_);
    return after_pause(data, pos, consumed);
  }
  *consumed = len;
  return parse_error(err);
}

RequestParser::Result RequestParser::after_pause(const char* data, const char* pos,
                                                 size_t* consumed) {
  *consumed = static_cast<size_t>(pos - data);
  if (phase_ == Phase::kComplete) return Result::kRequestComplete;
  // Paused by on_headers_complete: `pos` is the first byte after the head.
  head_bytes_ += static_cast<uint64_t>(pos - head_start_);
  return check_head();
}

RequestParser::Result RequestParser::check_head() {
  if (head_bytes_ > limits_->max_header_bytes) {
    head_too_large_error();
    phase_ = Phase::kError;
    return Result::kError;
  }
  body_limit_ = limits_->body_limit ? limits_->body_limit(request_) : limits_->max_body_bytes;
  if ((parser_.flags & F_CONTENT_LENGTH) != 0 && parser_.content_length > body_limit_) {
    fail(413, "body_too_large",
         "request body of " + std::to_string(parser_.content_length) +
             " bytes is larger than the limit of " + std::to_string(body_limit_));
    phase_ = Phase::kError;
    return Result::kError;
  }
  if ((parser_.flags & F_CONTENT_LENGTH) != 0) {
    request_.body.reserve(
        static_cast<size_t>(std::min<uint64_t>(parser_.content_length, kMaxBodyReserve)));
  }
  return Result::kHeadersComplete;
}

uint64_t RequestParser::body_reservation() const {
  if (!has_body_) return 0;
  if ((parser_.flags & F_CONTENT_LENGTH) != 0) return parser_.content_length;
  return body_limit_;
}

RequestParser::Result RequestParser::parse_error(llhttp_errno_t err) {
  if (err != HPE_USER) {
    const char* reason = llhttp_get_error_reason(&parser_);
    error_status_ = 400;
    error_reason_ = "bad_request";
    error_message_ =
        std::string("malformed request: ") + (reason != nullptr ? reason : llhttp_errno_name(err));
    if (err == HPE_PAUSED_UPGRADE) error_message_ = "malformed request: upgrade is not supported";
    if (err == HPE_PAUSED_H2_UPGRADE) error_message_ = "malformed request: HTTP/2 is not supported";
  }
  phase_ = Phase::kError;
  return Result::kError;
}

int RequestParser::fail(int status, std::string_view reason, std::string message) {
  error_status_ = status;
  error_reason_ = reason;
  error_message_ = std::move(message);
  return HPE_USER;
}

bool RequestParser::head_too_large(const char* end) const {
  return head_bytes_ + static_cast<uint64_t>(end - head_start_) > limits_->max_header_bytes;
}

int RequestParser::head_too_large_error() {
  return fail(431, "header_too_large",
              "request line and headers are larger than the limit of " +
                  std::to_string(limits_->max_header_bytes) + " bytes");
}

// Chunked trailers are not used, but their bytes count against the body
// limit so that they cannot grow without bound.
int RequestParser::count_trailer(size_t len) {
  body_bytes_ += len;
  if (body_bytes_ <= body_limit_) return 0;
  return fail(413, "body_too_large",
              "request body is larger than the limit of " + std::to_string(body_limit_) + " bytes");
}

int RequestParser::on_message_begin(llhttp_t* p) {
  self(p)->phase_ = Phase::kHead;
  return 0;
}

int RequestParser::on_head_data(llhttp_t* p, const char* at, size_t len) {
  RequestParser* s = self(p);
  return s->head_too_large(at + len) ? s->head_too_large_error() : 0;
}

int RequestParser::on_url(llhttp_t* p, const char* at, size_t len) {
  RequestParser* s = self(p);
  if (s->head_too_large(at + len)) return s->head_too_large_error();
  s->url_.append(at, len);
  return 0;
}

int RequestParser::on_url_complete(llhttp_t* p) {
  RequestParser* s = self(p);
  std::string_view url = strip_authority(s->url_);
  size_t question = url.find('?');
  if (question != std::string_view::npos) s->request_.query = std::string(url.substr(question + 1));
  if (!percent_decode(url.substr(0, question), &s->request_.path, false)) {
    return s->fail(400, "bad_request", "malformed request: invalid percent-encoding in path");
  }
  return 0;
}

int RequestParser::on_header_field(llhttp_t* p, const char* at, size_t len) {
  RequestParser* s = self(p);
  if (s->phase_ == Phase::kBody) return s->count_trailer(len);
  if (s->head_too_large(at + len)) return s->head_too_large_error();
  if (!s->field_open_) {
    s->request_.headers.emplace_back();
    s->field_open_ = true;
  }
  std::string& name = s->request_.headers.back().first;
  for (size_t i = 0; i < len; ++i) {
    char c = at[i];
    name.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return 0;
}

int RequestParser::on_header_field_complete(llhttp_t* p) {
  self(p)->field_open_ = false;
  return 0;
}

int RequestParser::on_header_value(llhttp_t* p, const char* at, size_t len) {
  RequestParser* s = self(p);
  if (s->phase_ == Phase::kBody) return s->count_trailer(len);
  if (s->head_too_large(at + len)) return s->head_too_large_error();
  if (!s->request_.headers.empty()) s->request_.headers.back().second.append(at, len);
  return 0;
}

int RequestParser::on_header_value_complete(llhttp_t* p) {
  RequestParser* s = self(p);
  if (s->phase_ == Phase::kBody || s->request_.headers.empty()) return 0;
  std::string& value = s->request_.headers.back().second;
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
    value.pop_back();
  return 0;
}

int RequestParser::on_headers_complete(llhttp_t* p) {
  RequestParser* s = self(p);
  s->phase_ = Phase::kBody;
  s->request_.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
  s->request_.http_minor = p->http_minor;
  s->has_body_ =
      (p->flags & F_CHUNKED) != 0 || ((p->flags & F_CONTENT_LENGTH) != 0 && p->content_length > 0);
  const std::string* expect = s->request_.header("expect");
  s->expects_continue_ = s->has_body_ && p->http_major == 1 && p->http_minor >= 1 &&
                         expect != nullptr && strcasecmp(expect->c_str(), "100-continue") == 0;
  return HPE_PAUSED;
}

int RequestParser::on_body(llhttp_t* p, const char* at, size_t len) {
  RequestParser* s = self(p);
  if (s->body_bytes_ + len > s->body_limit_) {
    return s->fail(
        413, "body_too_large",
        "request body is larger than the limit of " + std::to_string(s->body_limit_) + " bytes");
  }
  s->body_bytes_ += len;
  s->request_.body.append(at, len);
  return 0;
}

int RequestParser::on_message_complete(llhttp_t* p) {
  RequestParser* s = self(p);
  s->phase_ = Phase::kComplete;
  s->keep_alive_ = llhttp_should_keep_alive(p) != 0 && p->upgrade == 0;
  return HPE_PAUSED;
}

}  // namespace edgemon::http
