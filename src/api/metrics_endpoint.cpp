#include "api/metrics_endpoint.hpp"

#include "build_info.hpp"
#include "metrics/prometheus_text.hpp"

namespace edgemon::api {

MetricsEndpoint::MetricsEndpoint(const bus::LatestRegistry& families, std::vector<LiveSection> live)
    : families_(families) {
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
  std::string live;
  live.reserve(8192);
  render_live(live);

  response.content_type = std::string(metrics::kPrometheusContentType);
  if (request.accepts_gzip()) {
    if (!gzip_current_) gzip_current_ = gzip_.compress(*body_);
    std::string tail = gzip_current_ ? gzip_.finish(live) : std::string();
    if (!tail.empty()) {
      response.headers.emplace_back("Content-Encoding", "gzip");
      response.headers.emplace_back("Vary", "Accept-Encoding");
      response.add_body(gzip_.bytes());
      response.add_body(std::make_shared<const std::string>(std::move(tail)));
      return;
    }
    // zlib failed (out of memory): fall through to an uncompressed answer.
  }
  response.add_body(body_);
  response.add_body(std::make_shared<const std::string>(std::move(live)));
}

}  // namespace edgemon::api
