#pragma once
// The HTTP/1.1 server the API runs on: one or more TCP listeners (IPv4 and
// IPv6) on the daemon's loop, keep-alive and pipelining, the limits of
// config http.limits and the access rules of http.access.
//
// Handlers are synchronous: a response is complete when its handler
// returns. That keeps pipelined responses in order without a reorder queue.
#include <uv.h>

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/config.hpp"
#include "http/access.hpp"
#include "http/connection.hpp"
#include "http/http_metrics.hpp"
#include "http/listener.hpp"
#include "http/request.hpp"
#include "http/response_writer.hpp"
#include "http/router.hpp"
#include "metrics/metric_sink.hpp"

namespace edgemon::http {

class Server final : private ConnectionOwner {
 public:
  // `router` must outlive the server.
  Server(uv_loop_t* loop, const config::HttpSection& config, Router& router);
  // Closes whatever is still open. The loop must run afterwards for the
  // closes to complete; call shutdown() and wait for done() to end cleanly.
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every address of config.listen; "" or what failed (nothing stays
  // open then). Raises the soft open-files limit to the hard one first.
  [[nodiscard]] std::string listen();
  // "host:port" of each listener, with port 0 resolved to the real port.
  std::vector<std::string> listening() const;

  // Applies new limits and access rules (SIGHUP). Listen addresses cannot
  // change without a restart; a change is logged.
  void reconfigure(const config::HttpSection& config);
  // Who may use the ingest routes (Group::kIngest); "" or what is wrong.
  [[nodiscard]] std::string configure_ingest(const config::IngestSection& ingest);

  // Graceful stop: closes the listeners and idle connections, lets requests
  // in progress be answered (with Connection: close), and force-closes what
  // is left after limits.shutdown_timeout. `done` runs once every handle of
  // the server is closed (from a close callback; synchronously only if
  // nothing was ever opened). A second call is ignored.
  void shutdown(std::function<void()> done);

  void write_metrics(metrics::MetricSink& sink) const;
  // Connections open now (including ones being refused with 503).
  size_t connections() const;
  // The live counters, for tests and /status.
  const HttpMetrics& metrics_snapshot() const { return metrics_; }

 private:
  // ConnectionOwner
  const ConnectionLimits& limits() const override { return limits_; }
  uv_buf_t read_buffer() override;
  std::string_view http_date() override { return date_.now(); }
  bool draining() const override { return shutting_down_; }
  bool admit(const Request& head, uint64_t body_bytes, uint64_t* reserve, Response* rejection,
             std::string_view* route) override;
  MemoryBudget& budget() override { return budget_; }
  void charge(const Connection* connection, uint64_t bytes) override;
  void refund(const Connection* connection, uint64_t bytes) override;
  bool always_answered(const Request& head) override;
  // The budget and the client address's share: true, or false with *rejection.
  bool memory_allows(const Request& head, uint64_t bytes, Response* rejection);
  std::string_view handle(const Request& request, Response& response) override;
  // The access rules for a routed request: true, or false with *rejection.
  bool check_access(Group group, const Request& request, Response* rejection);
  HttpMetrics& metrics() override { return metrics_; }
  void connection_closing(Connection* connection) override;
  void connection_freed(Connection* connection) override;

  std::string open_listener(const std::string& text);
  void close_listeners();
  void accept(int fd);
  // The key of the share an accepted socket counts against, or nullopt
  // when its address is exempt (or unknown).
  std::optional<IpAddress> address_share(int fd) const;
  std::optional<IpAddress> share_of(IpAddress address) const;
  uint32_t connections_from(const IpAddress& share) const;
  void accept_failed(int status);
  void apply_limits(const config::HttpLimits& limits);
  void maybe_finish_shutdown();

  uv_loop_t* loop_;
  config::HttpSection config_;
  Router& router_;
  ConnectionLimits limits_;
  MemoryBudget budget_;
  int64_t max_connections_ = 1024;
  int64_t max_per_address_ = 64;
  std::vector<CidrBlock> per_address_exempt_;
  // Open connections counted against their address's share, and the key
  // they were counted under (exempt addresses are not in it).
  std::unordered_map<IpAddress, uint32_t, IpAddressHash> per_address_;
  std::unordered_map<const Connection*, IpAddress> counted_address_;
  // Bytes held (http.limits.memory_per_address) per address share, and per
  // connection with a share until it is freed (refunds come until then).
  uint64_t memory_per_address_ = 10 * 1024 * 1024;
  std::unordered_map<IpAddress, uint64_t, IpAddressHash> held_by_address_;
  std::unordered_map<const Connection*, std::pair<IpAddress, uint64_t>> held_by_connection_;
  uint64_t shutdown_timeout_ms_ = 5000;
  AccessControl access_;
  HttpMetrics metrics_;
  HttpDate date_;
  std::vector<Listener*> listeners_;
  std::vector<Listener*> closing_;  // closes not yet completed
  std::vector<std::string> listening_;
  std::unordered_set<Connection*> live_;  // until connection_freed
  size_t served_ = 0;                     // open, not rejected, not closing
  // Connections over the limits waiting for their head, in case it asks
  // for /health (Connection::start's reads_head).
  std::unordered_set<const Connection*> over_limit_readers_;
  bool shutting_down_ = false;
  bool finished_ = false;
  std::function<void()> done_;
  uint64_t last_accept_log_ms_ = 0;
  uint64_t accept_errors_unlogged_ = 0;
  std::array<char, 64 * 1024> read_buffer_;
};

}  // namespace edgemon::http
