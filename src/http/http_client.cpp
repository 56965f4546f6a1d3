#include "http/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "build_info.hpp"
#include "core/log.hpp"
#include "core/uv_handle.hpp"
#include "http/curl_library.hpp"

namespace edgemon::http {

namespace {

// Connections curl opens to one host at once; more transfers wait in curl's
// queue. An output sends one batch at a time, so this only bounds bursts.
constexpr long kMaxHostConnections = 4;
// A server sending more header lines than this is not one we talk to; the
// rest are dropped so that it cannot cost memory.
constexpr size_t kMaxResponseHeaders = 200;
// The most a body buffer is sized up front from Content-Length.
constexpr size_t kMaxReserve = 4 * 1024 * 1024;
// Retry-After beyond this (about 30 years) is clamped so that the conversion
// to milliseconds cannot overflow.
constexpr uint64_t kMaxRetryAfterSeconds = 1'000'000'000;

// Only reached once a client exists, and a client needs the library.
const CurlLibrary& lib() {
  return *curl_library();
}

std::string_view trim(std::string_view s) {
  size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  size_t end = s.find_last_not_of(" \t\r\n");
  return s.substr(begin, end - begin + 1);
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// True when one of the request's header lines sets (or clears) `name`.
bool has_header(const std::vector<std::string>& lines, std::string_view name) {
  for (const std::string& line : lines) {
    size_t colon = line.find(':');
    if (colon != std::string::npos &&
        iequals(trim(std::string_view(line).substr(0, colon)), name)) {
      return true;
    }
  }
  return false;
}

struct EasyDeleter {
  void operator()(CURL* easy) const { lib().easy_cleanup(easy); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { lib().slist_free_all(list); }
};
struct MultiDeleter {
  void operator()(CURLM* multi) const { lib().multi_cleanup(multi); }
};

// One request from send() until its callback. While `multi` is set the easy
// handle is part of it, and destroying the transfer takes it out first.
struct Transfer {
  Transfer() = default;
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  ~Transfer() {
    if (multi != nullptr) lib().multi_remove_handle(multi, easy.get());
  }

  uint64_t id = 0;
  CURLM* multi = nullptr;
  // Declared before `easy` so the handle that points at them goes first.
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  std::string body;  // curl reads it in place (CURLOPT_POSTFIELDS)
  char error[CURL_ERROR_SIZE] = {};
  std::unique_ptr<CURL, EasyDeleter> easy;
  size_t max_response_bytes = 0;
  ClientCallback done;
  ClientResponse response;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  std::string& body = t->response.body;
  if (body.empty() && t->max_response_bytes > 0) {
    // One allocation for the whole body when the server announced its size.
    curl_off_t length = -1;
    lib().easy_getinfo(t->easy.get(), CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
    // Capped: the announced size is the server's word, and a throw must not
    // cross this C callback.
    if (length > 0) {
      body.reserve(std::min({static_cast<size_t>(length), t->max_response_bytes, kMaxReserve}));
    }
  }
  size_t room = t->max_response_bytes - std::min(body.size(), t->max_response_bytes);
  if (n > room) t->response.truncated = true;
  body.append(data, std::min(n, room));
  // The rest is read and dropped, so the connection stays usable.
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  std::string_view line(data, n);
  auto& headers = t->response.headers;
  // Every status line starts a new response (after 1xx or a redirect): only
  // the final one's headers are kept.
  if (line.starts_with("HTTP/")) {
    headers.clear();
    return n;
  }
  bool folded = !line.empty() && (line[0] == ' ' || line[0] == '\t');
  std::string_view text = trim(line);
  if (text.empty()) return n;
  if (folded) {
    if (!headers.empty()) headers.back().second.append(" ").append(text);
    return n;
  }
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || headers.size() >= kMaxResponseHeaders) return n;
  std::string name(trim(text.substr(0, colon)));
  std::transform(name.begin(), name.end(), name.begin(), lower);
  headers.emplace_back(std::move(name), std::string(trim(text.substr(colon + 1))));
  return n;
}

// Sets options one after another and remembers the first failure.
class EasyOptions {
 public:
  explicit EasyOptions(CURL* easy) : easy_(easy) {}
  template <typename T>
  void set(CURLoption option, T value) {
    if (rc_ == CURLE_OK) rc_ = lib().easy_setopt(easy_, option, value);
  }
  CURLcode result() const { return rc_; }

 private:
  CURL* easy_;
  CURLcode rc_ = CURLE_OK;
};

const std::string& user_agent() {
  static const std::string agent = std::string("edgemon/") + build::kVersion;
  return agent;
}

// curl sends a body (as POST unless told otherwise) for these.
bool sends_body(const ClientRequest& request, const std::string& body) {
  const std::string& m = request.method;
  return m != "HEAD" && (!body.empty() || m == "POST" || m == "PUT" || m == "PATCH");
}

void set_method(EasyOptions& o, const ClientRequest& request, const std::string& body) {
  const std::string& method = request.method;
  if (method == "HEAD") {
    o.set(CURLOPT_NOBODY, 1L);
    return;
  }
  std::string_view natural = "GET";
  if (sends_body(request, body)) {
    o.set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    o.set(CURLOPT_POSTFIELDS, body.data());
    natural = "POST";
  } else {
    o.set(CURLOPT_HTTPGET, 1L);
  }
  if (method != natural) o.set(CURLOPT_CUSTOMREQUEST, method.c_str());
}

// "" or why the header list could not be built.
std::string build_headers(Transfer& t, const ClientRequest& request) {
  curl_slist* list = nullptr;
  auto append = [&list](const char* line) {
    curl_slist* grown = lib().slist_append(list, line);
    if (grown == nullptr) return false;
    list = grown;
    return true;
  };
  bool ok = true;
  for (const std::string& line : request.headers)
    ok = ok && append(line.c_str());
  // Bodies are small enough that waiting for "100 Continue" only adds a round
  // trip (or a one second stall against servers that never send it).
  if (!has_header(request.headers, "expect")) ok = ok && append("Expect:");
  // Without this curl would label every body as a submitted HTML form.
  if (sends_body(request, t.body) && !has_header(request.headers, "content-type")) {
    ok = ok && append("Content-Type:");
  }
  t.headers.reset(list);
  return ok ? "" : "out of memory building the header list";
}

// "" or why the request cannot be started.
std::string configure(Transfer& t, const ClientRequest& request) {
  t.easy.reset(lib().easy_init());
  if (!t.easy) return "curl_easy_init failed";
  std::string error = build_headers(t, request);
  if (!error.empty()) return error;
  EasyOptions o(t.easy.get());
  o.set(CURLOPT_PRIVATE, static_cast<void*>(&t));
  o.set(CURLOPT_URL, request.url.c_str());
  o.set(CURLOPT_PROTOCOLS_STR, "http,https");
  o.set(CURLOPT_NOSIGNAL, 1L);
  o.set(CURLOPT_FOLLOWLOCATION, 0L);
  o.set(CURLOPT_USERAGENT, user_agent().c_str());
  o.set(CURLOPT_ERRORBUFFER, t.error);
  o.set(CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  o.set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  o.set(CURLOPT_HTTPHEADER, t.headers.get());
  set_method(o, request, t.body);
  o.set(CURLOPT_WRITEFUNCTION, on_body);
  o.set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
  o.set(CURLOPT_HEADERFUNCTION, on_header);
  o.set(CURLOPT_HEADERDATA, static_cast<void*>(&t));
  if (!request.username.empty()) {
    o.set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    o.set(CURLOPT_USERNAME, request.username.c_str());
    o.set(CURLOPT_PASSWORD, request.password.c_str());
  }
  if (!request.unix_socket.empty()) o.set(CURLOPT_UNIX_SOCKET_PATH, request.unix_socket.c_str());
  if (!request.ca_file.empty()) o.set(CURLOPT_CAINFO, request.ca_file.c_str());
  o.set(CURLOPT_SSL_VERIFYPEER, request.verify_tls ? 1L : 0L);
  o.set(CURLOPT_SSL_VERIFYHOST, request.verify_tls ? 2L : 0L);
  if (o.result() != CURLE_OK) return lib().easy_strerror(o.result());
  // A timeout or cancel during a slow DNS lookup would otherwise join the
  // resolver thread on the loop; this way the thread finishes (and frees
  // itself) in the background. Missing before curl 7.87, hence optional.
  lib().easy_setopt(t.easy.get(), CURLOPT_QUICK_EXIT, 1L);
  return "";
}

void fill_response(Transfer& t, CURLcode result) {
  ClientResponse& r = t.response;
  long status = 0;
  lib().easy_getinfo(t.easy.get(), CURLINFO_RESPONSE_CODE, &status);
  r.status = static_cast<int>(status);
  curl_off_t micros = 0;
  lib().easy_getinfo(t.easy.get(), CURLINFO_TOTAL_TIME_T, &micros);
  r.total_seconds = static_cast<double>(micros) / 1e6;
  if (result != CURLE_OK) {
    r.error = t.error[0] != '\0' ? t.error : lib().easy_strerror(result);
    r.timed_out = result == CURLE_OPERATION_TIMEDOUT;
  }
}

}  // namespace

// ---- ClientResponse ----

const std::string* ClientResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return &value;
  }
  return nullptr;
}

std::optional<std::chrono::milliseconds> ClientResponse::retry_after() const {
  const std::string* value = header("retry-after");
  if (value == nullptr) return std::nullopt;
  std::string_view text = trim(*value);
  if (text.empty()) return std::nullopt;
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    uint64_t seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    (void)end;
    if (ec == std::errc::result_out_of_range) seconds = kMaxRetryAfterSeconds;
    seconds = std::min(seconds, kMaxRetryAfterSeconds);
    return std::chrono::seconds(static_cast<int64_t>(seconds));
  }
  // Every HTTP-date form starts with a day name; curl_getdate alone would
  // also accept formats no server sends.
  if (!((text[0] >= 'A' && text[0] <= 'Z') || (text[0] >= 'a' && text[0] <= 'z'))) {
    return std::nullopt;
  }
  const CurlLibrary* library = curl_library();
  if (library == nullptr) return std::nullopt;
  time_t when = library->getdate(std::string(text).c_str(), nullptr);
  if (when == -1) return std::nullopt;
  int64_t delta = static_cast<int64_t>(when) - static_cast<int64_t>(time(nullptr));
  delta = std::clamp<int64_t>(delta, 0, static_cast<int64_t>(kMaxRetryAfterSeconds));
  return std::chrono::seconds(delta);
}

// ---- HttpClient ----

struct HttpClient::Impl {
  // A socket curl asked us to watch. Destroying it starts the close of its
  // poll handle, whose memory libuv frees later (UvHandle).
  struct SocketWatch {
    Impl* owner = nullptr;
    curl_socket_t fd = CURL_SOCKET_BAD;
    UvHandle<uv_poll_t> poll;
  };

  explicit Impl(uv_loop_t* loop);
  ~Impl();

  uint64_t send(ClientRequest request, ClientCallback done);
  void cancel(uint64_t id) { transfers_.erase(id); }
  size_t in_flight() const { return transfers_.size(); }

 private:
  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* user, void* socket_data);
  static int on_timer(CURLM* multi, long timeout_ms, void* user);
  static void on_poll(uv_poll_t* handle, int status, int events);

  int watch(curl_socket_t fd, int what, SocketWatch* known);
  void drive(curl_socket_t fd, int flags);
  void finish_completed();
  void fail_deferred();
  bool deliver(std::unique_ptr<Transfer> transfer);
  void init_timer(UvHandle<uv_timer_t>& timer);
  bool start_curl();

  uv_loop_t* loop_;
  std::unique_ptr<CURLM, MultiDeleter> multi_;
  UvHandle<uv_timer_t> timer_;     // curl's timeouts
  UvHandle<uv_timer_t> deferred_;  // failures found in send(), reported from the loop
  std::unordered_map<curl_socket_t, std::unique_ptr<SocketWatch>> watches_;
  std::unordered_map<uint64_t, std::unique_ptr<Transfer>> transfers_;
  std::vector<uint64_t> failed_early_;
  uint64_t next_id_ = 1;
  std::string unavailable_;  // why there is no multi handle
  bool tearing_down_ = false;
  // Set while a user callback runs: that callback may destroy the client.
  bool* destroyed_ = nullptr;
};

HttpClient::Impl::Impl(uv_loop_t* loop) : loop_(loop) {
  init_timer(timer_);
  init_timer(deferred_);
}

// libcurl is loaded by the first request, not by the first client: a daemon
// that never sends anything never pays for it (see curl_library.hpp).
bool HttpClient::Impl::start_curl() {
  if (multi_) return true;
  if (!unavailable_.empty()) return false;
  if (curl_library(&unavailable_) == nullptr) {
    log::error("http_client_unavailable", {{"error", unavailable_}});
    return false;
  }
  multi_.reset(lib().multi_init());
  if (!multi_) {
    unavailable_ = "curl_multi_init failed";
    log::error("http_client_unavailable", {{"error", unavailable_}});
    return false;
  }
  CURLM* m = multi_.get();
  lib().multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
  lib().multi_setopt(m, CURLMOPT_SOCKETDATA, static_cast<void*>(this));
  lib().multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
  lib().multi_setopt(m, CURLMOPT_TIMERDATA, static_cast<void*>(this));
  lib().multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, kMaxHostConnections);
  return true;
}

void HttpClient::Impl::init_timer(UvHandle<uv_timer_t>& timer) {
  uv_timer_init(loop_, timer.get());  // cannot fail on a valid loop
  timer.mark_initialized();
  timer.get()->data = this;
}

HttpClient::Impl::~Impl() {
  if (destroyed_ != nullptr) *destroyed_ = true;
  // From here curl may still report sockets it closes (we stop watching
  // them) but must not make us watch new ones or re-arm the timer.
  tearing_down_ = true;
  transfers_.clear();
  multi_.reset();  // closes the cached connections
  watches_.clear();
}

uint64_t HttpClient::Impl::send(ClientRequest request, ClientCallback done) {
  auto t = std::make_unique<Transfer>();
  uint64_t id = next_id_++;
  t->id = id;
  t->done = std::move(done);
  t->body = std::move(request.body);
  t->max_response_bytes = request.max_response_bytes;
  std::string error = start_curl() ? configure(*t, request) : unavailable_;
  if (error.empty()) {
    // Only queues the transfer: curl starts it from our timer, so the
    // callback cannot run before send() returns.
    CURLMcode rc = lib().multi_add_handle(multi_.get(), t->easy.get());
    if (rc == CURLM_OK) {
      t->multi = multi_.get();
    } else {
      error = lib().multi_strerror(rc);
    }
  }
  if (!error.empty()) {
    t->response.error = std::move(error);
    failed_early_.push_back(id);
    uv_timer_start(
        deferred_.get(), [](uv_timer_t* h) { static_cast<Impl*>(h->data)->fail_deferred(); }, 0, 0);
  }
  transfers_.emplace(id, std::move(t));
  return id;
}

int HttpClient::Impl::on_socket(CURL*, curl_socket_t fd, int what, void* user, void* socket_data) {
  auto* self = static_cast<Impl*>(user);
  if (what == CURL_POLL_REMOVE) {
    // curl says this before it closes the socket, so libuv forgets the
    // descriptor while it is still valid.
    self->watches_.erase(fd);
    return 0;
  }
  if (self->tearing_down_) return 0;
  return self->watch(fd, what, static_cast<SocketWatch*>(socket_data));
}

int HttpClient::Impl::watch(curl_socket_t fd, int what, SocketWatch* known) {
  SocketWatch* w = known;
  if (w == nullptr) {
    // New to curl. A watch left under this descriptor number belongs to a
    // socket that was closed without a REMOVE; libuv must drop it before the
    // number can be polled again.
    watches_.erase(fd);
    auto created = std::make_unique<SocketWatch>();
    created->owner = this;
    created->fd = fd;
    int rc = uv_poll_init_socket(loop_, created->poll.get(), fd);
    if (rc != 0) {
      log::warn("http_client_poll_failed", {{"error", uv_strerror(rc)}});
      return -1;
    }
    created->poll.mark_initialized();
    created->poll.get()->data = created.get();
    w = created.get();
    watches_[fd] = std::move(created);
    lib().multi_assign(multi_.get(), fd, w);
  }
  int events = 0;
  if (what & CURL_POLL_IN) events |= UV_READABLE;
  if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
  if (events == 0) {
    uv_poll_stop(w->poll.get());
  } else {
    uv_poll_start(w->poll.get(), events, on_poll);
  }
  return 0;
}

void HttpClient::Impl::on_poll(uv_poll_t* handle, int status, int events) {
  auto* w = static_cast<SocketWatch*>(handle->data);
  if (w == nullptr) return;
  int flags = 0;
  if (status < 0) {
    flags = CURL_CSELECT_ERR;
  } else {
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  }
  // `w` may be destroyed inside: curl can drop the socket while handling it.
  w->owner->drive(w->fd, flags);
}

int HttpClient::Impl::on_timer(CURLM*, long timeout_ms, void* user) {
  auto* self = static_cast<Impl*>(user);
  if (self->tearing_down_) return 0;
  if (timeout_ms < 0) {
    uv_timer_stop(self->timer_.get());
    return 0;
  }
  // curl must not be driven from inside its own callback: even a 0 ms
  // timeout goes through the loop.
  uv_timer_start(
      self->timer_.get(),
      [](uv_timer_t* h) { static_cast<Impl*>(h->data)->drive(CURL_SOCKET_TIMEOUT, 0); },
      static_cast<uint64_t>(timeout_ms), 0);
  return 0;
}

void HttpClient::Impl::drive(curl_socket_t fd, int flags) {
  int running = 0;
  lib().multi_socket_action(multi_.get(), fd, flags, &running);
  finish_completed();
}

void HttpClient::Impl::finish_completed() {
  // Collected first: callbacks may send or cancel, which changes curl's
  // message queue, and a cancelled id is simply not found below.
  std::vector<std::pair<uint64_t, CURLcode>> done;
  int left = 0;
  while (CURLMsg* msg = lib().multi_info_read(multi_.get(), &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    void* t = nullptr;
    lib().easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
    done.emplace_back(static_cast<Transfer*>(t)->id, msg->data.result);
  }
  for (const auto& [id, result] : done) {
    auto it = transfers_.find(id);
    if (it == transfers_.end()) continue;
    std::unique_ptr<Transfer> t = std::move(it->second);
    transfers_.erase(it);
    fill_response(*t, result);
    if (!deliver(std::move(t))) return;
  }
}

void HttpClient::Impl::fail_deferred() {
  std::vector<uint64_t> ids = std::exchange(failed_early_, {});
  for (uint64_t id : ids) {
    auto it = transfers_.find(id);
    if (it == transfers_.end()) continue;
    std::unique_ptr<Transfer> t = std::move(it->second);
    transfers_.erase(it);
    if (!deliver(std::move(t))) return;
  }
}

// Frees the transfer, then runs its callback. False when the callback
// destroyed the client (nothing of it may be touched then).
bool HttpClient::Impl::deliver(std::unique_ptr<Transfer> transfer) {
  ClientCallback done = std::move(transfer->done);
  ClientResponse response = std::move(transfer->response);
  transfer.reset();
  bool destroyed = false;
  bool* outer = std::exchange(destroyed_, &destroyed);
  if (done) done(std::move(response));
  if (destroyed) {
    if (outer != nullptr) *outer = true;
    return false;
  }
  destroyed_ = outer;
  return true;
}

HttpClient::HttpClient(uv_loop_t* loop) : impl_(std::make_unique<Impl>(loop)) {}

HttpClient::~HttpClient() = default;

uint64_t HttpClient::send(ClientRequest request, ClientCallback done) {
  return impl_->send(std::move(request), std::move(done));
}

void HttpClient::cancel(uint64_t id) {
  impl_->cancel(id);
}

size_t HttpClient::in_flight() const {
  return impl_->in_flight();
}

}  // namespace edgemon::http
