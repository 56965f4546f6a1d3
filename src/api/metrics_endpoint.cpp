#include "api/metrics_endpoint.hpp"

#include "build_info.hpp"
#include "metrics/prometheus_text.hpp"

namespace edgemon::api {

MetricsEndpoint::MetricsEndpoint(uv_loop_t* loop, const bus::LatestRegistry& families,
                                 std::vector<LiveSection> live)
    : families_(families) {
  uv_check_init(loop, turn_end_.get());  // cannot fail on a valid loop
  turn_end_.mark_initialized();
  turn_end_.get()->data = this;
  for (auto& section : live)
    live_.push_back(CachedSection{std::move(section), 0, false, {}});
  metrics::PrometheusTextWriter writer(static_families_);
  writer.begin({"edgemon_build_info",
                "Build information of the running edgemon; the value is always 1.",
                metrics::Type::kGauge});
  writer.sample({{"version", build::kVersion},
                 {"revision", build::kRevision},
                 {"build_type", build::kBuildType},
                 {"compiler", build::kCompiler}},
                1);
}

void MetricsEndpoint::refresh() {
  if (generation_ == families_.generation() && body_) return;
  auto body = std::make_shared<std::string>();
  body->reserve(body_ ? body_->size() + 1024 : 64 * 1024);
  *body += static_families_;
  metrics::PrometheusTextWriter writer(*body);
  families_.write(writer);
  body_ = std::move(body);
  generation_ = families_.generation();
  gzip_current_ = false;  // Recompressed lazily, only if a client asks for gzip.
  gzip_tail_.reset();     // It continues the old body's compressor.
}

const std::shared_ptr<const std::string>& MetricsEndpoint::live_text() {
  if (live_text_) return live_text_;
  auto live = std::make_shared<std::string>();
  live->reserve(8192);
  render_live(*live);
  live_text_ = std::move(live);
  uv_check_start(turn_end_.get(), [](uv_check_t* check) {
    if (check->data != nullptr) static_cast<MetricsEndpoint*>(check->data)->end_turn();
  });
  return live_text_;
}

void MetricsEndpoint::end_turn() {
  live_text_.reset();
  gzip_tail_.reset();
  uv_check_stop(turn_end_.get());
}

void MetricsEndpoint::render_live(std::string& out) {
  for (CachedSection& cached : live_) {
    if (!cached.section.version) {
      metrics::PrometheusTextWriter writer(out);
      cached.section.write(writer);
      continue;
    }
    uint64_t version = cached.section.version();
    if (!cached.valid || version != cached.version) {
      cached.text.clear();
      metrics::PrometheusTextWriter writer(cached.text);
      cached.section.write(writer);
      cached.version = version;
      cached.valid = true;
    }
    out += cached.text;
  }
}

void MetricsEndpoint::handle(const http::Request& request, http::Response& response) {
  refresh();
  std::shared_ptr<const std::string> live = live_text();
  response.content_type = std::string(metrics::kPrometheusContentType);
  if (request.accepts_gzip()) {
    if (!gzip_current_) gzip_current_ = gzip_.compress(*body_);
    if (gzip_current_ && !gzip_tail_) {
      std::string tail = gzip_.finish(*live);
      if (!tail.empty()) gzip_tail_ = std::make_shared<const std::string>(std::move(tail));
    }
    if (gzip_current_ && gzip_tail_) {
      response.headers.emplace_back("Content-Encoding", "gzip");
      response.headers.emplace_back("Vary", "Accept-Encoding");
      response.add_body(gzip_.bytes());
      response.add_body(gzip_tail_);
      return;
    }
    // zlib failed (out of memory): fall through to an uncompressed answer.
  }
  response.add_body(body_);
  response.add_body(std::move(live));
}

}  // namespace edgemon::api
