#include "ingest/ingested_series.hpp"

#include <algorithm>
#include <type_traits>

namespace edgemon::ingest {
namespace {

constexpr uint64_t kExpiryEveryMs = 10000;

bool numeric(const metrics::FieldValue& value, double* out) {
  return std::visit(
      [out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return false;
        } else {
          *out = static_cast<double>(v);
          return true;
        }
      },
      value);
}

}  // namespace

std::string prometheus_name(std::string_view text, bool label) {
  std::string out;
  out.reserve(text.size() + 1);
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || (c == ':' && !label);
    out.push_back(ok ? c : '_');
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out.insert(out.begin(), '_');
  // Label names starting with "__" are reserved for Prometheus itself.
  if (label && out.starts_with("__")) out.insert(out.begin(), 'x');
  return out;
}

void IngestedSeries::configure(bool enabled, size_t max_series, int64_t expire_ms) {
  enabled_ = enabled;
  max_series_ = max_series;
  expire_ms_ = expire_ms;
  if (!enabled_) {
    families_.clear();
    series_ = 0;
  }
  ++version_;
}

void IngestedSeries::update(std::span<const metrics::Point> points, uint64_t now_ms) {
  if (!enabled_) return;
  std::vector<std::pair<std::string, std::string>> labels;
  for (const auto& p : points) {
    labels.clear();
    for (const auto& t : p.tags)
      labels.emplace_back(prometheus_name(t.key, true), t.value);
    std::sort(labels.begin(), labels.end());
    // Two tags that map to one label name would make a duplicate label.
    labels.erase(std::unique(labels.begin(), labels.end(),
                             [](const auto& a, const auto& b) { return a.first == b.first; }),
                 labels.end());
    std::string key;
    for (const auto& [n, v] : labels)
      key += n + "=" + v + ",";
    std::string prefix = "edgemon_pushed_" + prometheus_name(p.measurement, false) + "_";
    for (const auto& f : p.fields) {
      double value = 0;
      if (!numeric(f.value, &value)) continue;
      Family& family = families_[prefix + prometheus_name(f.key, false)];
      auto it = family.find(key);
      if (it == family.end()) {
        if (series_ >= max_series_) {
          ++dropped_points_;
          continue;
        }
        it = family.emplace(key, Series{labels, 0, 0}).first;
        ++series_;
      }
      it->second.value = value;
      it->second.updated_ms = now_ms;
    }
  }
  ++version_;
  if (now_ms - last_expiry_ms_ >= kExpiryEveryMs) expire(now_ms);
}

void IngestedSeries::expire(uint64_t now_ms) {
  last_expiry_ms_ = now_ms;
  for (auto f = families_.begin(); f != families_.end();) {
    std::erase_if(f->second, [&](const auto& entry) {
      bool old = now_ms - entry.second.updated_ms > static_cast<uint64_t>(expire_ms_);
      if (old) --series_;
      return old;
    });
    f = f->second.empty() ? families_.erase(f) : std::next(f);
  }
}

void IngestedSeries::write_metrics(metrics::MetricSink& sink) const {
  using metrics::Type;
  sink.begin(
      {"edgemon_ingest_series", "Series of pushed points exposed on /metrics.", Type::kGauge});
  sink.sample(static_cast<double>(series_));
  sink.begin({"edgemon_ingest_series_dropped_points_total",
              "Pushed field values not exposed because ingest.max_series was reached (they are "
              "still stored and forwarded).",
              Type::kCounter});
  sink.sample(static_cast<double>(dropped_points_));
  std::vector<metrics::Label> labels;
  for (const auto& [name, family] : families_) {
    sink.begin({name, "Latest value pushed to this hub.", Type::kGauge});
    for (const auto& [key, s] : family) {
      labels.clear();
      for (const auto& [n, v] : s.labels)
        labels.push_back({n, v});
      sink.sample(metrics::Labels(labels.data(), labels.size()), s.value);
    }
  }
}

}  // namespace edgemon::ingest
