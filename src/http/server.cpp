#include "http/server.hpp"

#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>

#include "core/log.hpp"

namespace edgemon::http {

namespace {

// Connections over the limits that may send a head at once (Connection::start).
constexpr size_t kOverLimitReaders = 16;

// Each connection is a file descriptor, and a default shell allows 1024.
// The hard limit is what the administrator granted, so take all of it.
void raise_open_files_limit(int64_t max_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  rlim_t wanted = limit.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20 : limit.rlim_max;
  if (limit.rlim_cur < wanted) {
    rlim_t before = limit.rlim_cur;
    limit.rlim_cur = wanted;
    if (setrlimit(RLIMIT_NOFILE, &limit) == 0) {
      log::info("http_open_files_limit",
                {{"from", static_cast<uint64_t>(before)}, {"to", static_cast<uint64_t>(wanted)}});
    } else {
      getrlimit(RLIMIT_NOFILE, &limit);
    }
  }
  // Collectors and logs need descriptors too.
  if (static_cast<uint64_t>(max_connections) + 64 > static_cast<uint64_t>(limit.rlim_cur)) {
    log::warn("http_open_files_limit_low", {{"limit", static_cast<uint64_t>(limit.rlim_cur)},
                                            {"max_connections", max_connections}});
  }
}

}  // namespace

Server::Server(uv_loop_t* loop, const config::HttpSection& config, Router& router)
    : loop_(loop), config_(config), router_(router) {
  apply_limits(config.limits);
}

Server::~Server() {
  for (Connection* c : live_) {
    c->detach();
    c->close();
  }
  live_.clear();
  for (Listener* l : listeners_)
    l->close(nullptr);
  listeners_.clear();
  for (Listener* l : closing_)
    l->detach();
  closing_.clear();
}

void Server::apply_limits(const config::HttpLimits& limits) {
  limits_.parser.max_header_bytes = limits.max_header_bytes.bytes;
  limits_.parser.max_body_bytes = limits.max_body_bytes.bytes;
  limits_.parser.body_limit = [this](const Request& head) {
    Router::Match match = router_.find(head.method, head.path);
    if (match.route != nullptr && match.route->max_body_bytes > 0) {
      return match.route->max_body_bytes;
    }
    return limits_.parser.max_body_bytes;
  };
  limits_.header_timeout_ms = static_cast<uint64_t>(limits.header_timeout.count());
  limits_.body_timeout_ms = static_cast<uint64_t>(limits.body_timeout.count());
  limits_.idle_timeout_ms = static_cast<uint64_t>(limits.idle_timeout.count());
  limits_.max_pending_response_bytes = limits.max_pending_response_bytes.bytes;
  budget_.set_limit(limits.memory_budget.bytes);
  memory_per_address_ = limits.memory_per_address.bytes;
  max_connections_ = limits.max_connections;
  max_per_address_ = limits.max_connections_per_address;
  per_address_exempt_.clear();
  for (const std::string& text : limits.per_address_exempt) {
    CidrBlock block;
    // Checked when the configuration was read.
    if (CidrBlock::parse(text, &block).empty()) per_address_exempt_.push_back(block);
  }
  shutdown_timeout_ms_ = static_cast<uint64_t>(limits.shutdown_timeout.count());
}

std::string Server::listen() {
  if (std::string error = access_.configure(config_.access); !error.empty()) {
    return "http.access: " + error;
  }
  raise_open_files_limit(max_connections_);
  for (const std::string& text : config_.listen) {
    std::string error = open_listener(text);
    if (!error.empty()) {
      close_listeners();
      return error;
    }
  }
  return "";
}

std::string Server::open_listener(const std::string& text) {
  ListenAddress address;
  if (std::string error = ListenAddress::parse(text, &address); !error.empty()) {
    return "http.listen: " + error;
  }
  Listener* listener = nullptr;
  std::string error = Listener::open(
      loop_, address, [this](int fd) { accept(fd); }, [this](int err) { accept_failed(err); },
      &listener);
  if (!error.empty()) return error;
  listeners_.push_back(listener);
  listening_.push_back(listener->address());
  log::info("http_listen", {{"address", listener->address()}});
  return "";
}

std::vector<std::string> Server::listening() const {
  return listening_;
}

void Server::close_listeners() {
  for (Listener* l : listeners_) {
    closing_.push_back(l);
    l->close([this, l] {
      std::erase(closing_, l);
      maybe_finish_shutdown();
    });
  }
  listeners_.clear();
  listening_.clear();
}

void Server::accept(int fd) {
  using Admission = Connection::Admission;
  Admission admission = Admission::kServe;
  std::optional<IpAddress> share = address_share(fd);
  if (served_ >= static_cast<size_t>(max_connections_)) {
    admission = Admission::kTooMany;
  } else if (share && connections_from(*share) >= static_cast<uint64_t>(max_per_address_)) {
    admission = Admission::kTooManyFromAddress;
  }
  Connection* connection = Connection::create(this, loop_);
  live_.insert(connection);
  bool reads_head = false;
  if (admission == Admission::kServe) {
    ++served_;  // given back in connection_closing()
    if (share) {
      ++per_address_[*share];
      counted_address_.emplace(connection, *share);
    }
  } else {
    // A monitor must still learn that the daemon lives while clients hold
    // every slot: a few more slots, each for a second, read one head.
    std::erase_if(over_limit_readers_, [](const Connection* c) { return !c->awaiting_head(); });
    if (over_limit_readers_.size() < kOverLimitReaders) {
      reads_head = true;
      over_limit_readers_.insert(connection);
    }
  }
  connection->start(fd, admission, reads_head);
}

void Server::charge(const Connection* connection, uint64_t bytes) {
  budget_.charge(bytes);
  auto counted = counted_address_.find(connection);
  auto held = held_by_connection_.find(connection);
  if (held == held_by_connection_.end()) {
    if (counted == counted_address_.end()) return;  // exempt, or over the limits
    held = held_by_connection_.emplace(connection, std::make_pair(counted->second, 0)).first;
  }
  held->second.second += bytes;
  held_by_address_[held->second.first] += bytes;
}

void Server::refund(const Connection* connection, uint64_t bytes) {
  budget_.refund(bytes);
  auto held = held_by_connection_.find(connection);
  if (held == held_by_connection_.end()) return;
  uint64_t back = std::min(bytes, held->second.second);
  held->second.second -= back;
  auto address = held_by_address_.find(held->second.first);
  if (address == held_by_address_.end()) return;
  address->second -= std::min(back, address->second);
  if (address->second == 0) held_by_address_.erase(address);
}

bool Server::always_answered(const Request& head) {
  Router::Match match = router_.find(head.method, head.path);
  return match.route != nullptr && match.route->always_answered;
}

uint32_t Server::connections_from(const IpAddress& share) const {
  auto it = per_address_.find(share);
  return it == per_address_.end() ? 0 : it->second;
}

std::optional<IpAddress> Server::address_share(int fd) const {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return std::nullopt;
  return share_of(IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&storage)));
}

std::optional<IpAddress> Server::share_of(IpAddress address) const {
  if (address.family != AF_INET && address.family != AF_INET6) return std::nullopt;
  for (const CidrBlock& block : per_address_exempt_) {
    if (block.contains(address)) return std::nullopt;
  }
  // An IPv6 client usually holds a whole /64: its share is the network's.
  if (address.family == AF_INET6) std::fill(address.bytes.begin() + 8, address.bytes.end(), 0);
  return address;
}

void Server::accept_failed(int status) {
  // The listener pauses after an error, so this runs a few times a second
  // at most; the log is limited further.
  metrics_.accept_failed();
  ++accept_errors_unlogged_;
  uint64_t now = uv_now(loop_);
  if (last_accept_log_ms_ != 0 && now - last_accept_log_ms_ < 1000) return;
  last_accept_log_ms_ = now;
  log::warn("http_accept_failed",
            {{"error", uv_strerror(status)}, {"count", accept_errors_unlogged_}});
  accept_errors_unlogged_ = 0;
}

uv_buf_t Server::read_buffer() {
  return uv_buf_init(read_buffer_.data(), static_cast<unsigned>(read_buffer_.size()));
}

bool Server::check_access(Group group, const Request& request, Response* rejection) {
  AccessDecision decision =
      access_.check(group, request.client, request.header("authorization"), uv_now(loop_));
  if (decision.allowed()) return true;
  RejectReason reason = RejectReason::kForbidden;
  parse_reject_reason(decision.reason, &reason);
  metrics_.reject(reason);
  *rejection = decision.response();
  return false;
}

bool Server::admit(const Request& head, uint64_t body_bytes, uint64_t* reserve, Response* rejection,
                   std::string_view* route) {
  Router::Match match = router_.find(head.method, head.path);
  *route = match.label;
  // A request with a body is checked for access first: a client that would
  // get 401, 403 or 429 is told so, not that the server is busy. Bodyless
  // requests are checked when handled; unknown routes are answered 404/405
  // once the (size-limited) body is in.
  if (body_bytes > 0 && match.status == 200) {
    if (!check_access(match.route->group, head, rejection)) return false;
    if (match.route->head_check && !match.route->head_check(head, rejection)) return false;
  }
  bool always = match.route != nullptr && match.route->always_answered;
  uint64_t estimate = match.route != nullptr && match.route->response_estimate
                          ? match.route->response_estimate(head)
                          : 0;
  if (!always && !memory_allows(head, body_bytes + estimate, rejection)) return false;
  *reserve = estimate;
  return true;
}

bool Server::memory_allows(const Request& head, uint64_t bytes, Response* rejection) {
  if (budget_.exhausted() || !budget_.fits(bytes)) {
    metrics_.reject(RejectReason::kMemoryBudget);
    *rejection = json_error(503,
                            "server busy: the memory clients may use is taken "
                            "(http.limits.memory_budget); retry later");
    rejection->headers.emplace_back("Retry-After", "1");
    return false;
  }
  std::optional<IpAddress> share = share_of(head.client);
  if (!share) return true;
  auto held = held_by_address_.find(*share);
  uint64_t now = held == held_by_address_.end() ? 0 : held->second;
  if (now + bytes <= memory_per_address_) return true;
  metrics_.reject(RejectReason::kMemoryPerAddress);
  *rejection = json_error(503,
                          "busy: this address holds its share of the memory clients may use "
                          "(http.limits.memory_per_address); retry later");
  rejection->headers.emplace_back("Retry-After", "1");
  return false;
}

std::string Server::configure_ingest(const config::IngestSection& ingest) {
  return access_.configure_ingest(ingest);
}

std::string_view Server::handle(const Request& request, Response& response) {
  Router::Match match = router_.find(request.method, request.path);
  if (match.status == 404) {
    response = json_error(404, "not found");
  } else if (match.status == 405) {
    response = json_error(405, "method " + std::string(request.method) + " not allowed");
    response.headers.emplace_back("Allow", match.allow);
  } else if (request.admitted || check_access(match.route->group, request, &response)) {
    match.route->handler(request, response);
  }
  return match.label;
}

void Server::connection_closing(Connection* connection) {
  if (!connection->rejected()) --served_;
  over_limit_readers_.erase(connection);
  if (auto it = counted_address_.find(connection); it != counted_address_.end()) {
    auto share = per_address_.find(it->second);
    if (share != per_address_.end() && --share->second == 0) per_address_.erase(share);
    counted_address_.erase(it);
  }
}

void Server::connection_freed(Connection* connection) {
  // Every refund has come by now; this only forgets the connection.
  held_by_connection_.erase(connection);
  live_.erase(connection);
  maybe_finish_shutdown();
}

void Server::reconfigure(const config::HttpSection& config) {
  apply_limits(config.limits);
  if (std::string error = access_.configure(config.access); !error.empty()) {
    log::warn("http_reconfigure_failed", {{"error", error}});
  }
  if (config.listen != config_.listen) {
    log::warn("http_listen_changed", {{"detail", "new listen addresses apply after a restart"}});
  }
  std::vector<std::string> listen = config_.listen;
  config_ = config;
  config_.listen = std::move(listen);
}

void Server::shutdown(std::function<void()> done) {
  if (shutting_down_) return;
  shutting_down_ = true;
  done_ = std::move(done);
  log::info("http_shutdown", {{"connections", static_cast<uint64_t>(live_.size())}});
  close_listeners();
  // Each connection enforces the deadline with its own timer, so the server
  // needs no timer of its own.
  uint64_t deadline = uv_now(loop_) + shutdown_timeout_ms_;
  std::vector<Connection*> connections(live_.begin(), live_.end());
  for (Connection* c : connections)
    c->drain(deadline);
  maybe_finish_shutdown();
}

void Server::maybe_finish_shutdown() {
  if (!shutting_down_ || finished_) return;
  if (!live_.empty() || !closing_.empty()) return;
  finished_ = true;
  log::info("http_stopped");
  if (done_) {
    auto done = std::move(done_);
    done();
  }
}

void Server::write_metrics(metrics::MetricSink& sink) const {
  metrics_.write(sink);
  sink.begin({"edgemon_http_buffered_bytes",
              "Request bodies being received and responses not yet written, counted against "
              "http.limits.memory_budget.",
              metrics::Type::kGauge});
  sink.sample(static_cast<double>(budget_.used()));
  sink.begin({"edgemon_http_buffered_bytes_max",
              "The most edgemon_http_buffered_bytes has been since start.", metrics::Type::kGauge});
  sink.sample(static_cast<double>(budget_.peak()));
  sink.begin(
      {"edgemon_http_memory_budget_bytes", "http.limits.memory_budget.", metrics::Type::kGauge});
  sink.sample(static_cast<double>(budget_.limit()));
}

size_t Server::connections() const {
  return static_cast<size_t>(metrics_.connections());
}

}  // namespace edgemon::http
