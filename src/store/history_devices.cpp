#include "store/history_devices.hpp"

#include <cjson/cJSON.h>

#include <algorithm>
#include <memory>
#include <unordered_map>

#include "store/history_batch.hpp"

namespace edgemon::store {
namespace {

std::vector<metrics::Tag> tags_without_device(const metrics::Point& point) {
  std::vector<metrics::Tag> out;
  out.reserve(point.tags.size());
  for (const auto& t : point.tags) {
    if (t.key != "device_id") out.push_back(t);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const metrics::Tag& a, const metrics::Tag& b) { return a.key < b.key; });
  size_t bytes = 0;
  size_t kept = 0;
  while (kept < out.size() &&
         bytes + out[kept].key.size() + out[kept].value.size() <= kMaxDeviceTagBytes) {
    bytes += out[kept].key.size() + out[kept].value.size();
    ++kept;
  }
  out.resize(kept);
  return out;
}

std::vector<metrics::Tag> parse_tags(const std::string& json) {
  std::vector<metrics::Tag> out;
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> root(cJSON_Parse(json.c_str()), cJSON_Delete);
  if (!root || !cJSON_IsObject(root.get())) return out;
  for (cJSON* item = root->child; item != nullptr; item = item->next) {
    if (cJSON_IsString(item) && item->string != nullptr) {
      out.push_back({item->string, item->valuestring});
    }
  }
  return out;
}

}  // namespace

std::string_view device_of(const metrics::Point& point) {
  for (const auto& t : point.tags) {
    if (t.key == "device_id" && !t.value.empty()) return t.value;
  }
  return "unknown";
}

std::string tags_json(std::span<const metrics::Tag> tags) {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  pairs.reserve(tags.size());
  for (const auto& t : tags)
    pairs.emplace_back(t.key, t.value);
  return canonical_tags(std::move(pairs));
}

std::vector<DeviceSighting> sightings(std::span<const metrics::Point> points) {
  std::vector<DeviceSighting> out;
  std::vector<size_t> last;  // index in `points` of each device's last point
  std::unordered_map<std::string_view, size_t> index;
  size_t current = 0;  // consecutive points mostly come from one device
  for (size_t i = 0; i < points.size(); ++i) {
    std::string_view device = device_of(points[i]);
    if (out.empty() || out[current].device != device) {
      auto [it, added] = index.try_emplace(device, out.size());
      if (added) {
        out.push_back({std::string(device), {}, 0});
        last.push_back(i);
      }
      current = it->second;
    }
    ++out[current].points;
    last[current] = i;
  }
  for (size_t d = 0; d < out.size(); ++d)
    out[d].tags = tags_without_device(points[last[d]]);
  return out;
}

DeviceRegistry::Device* DeviceRegistry::find_or_add(std::string_view name, int64_t now_ms) {
  auto it = devices_.find(name);
  if (it == devices_.end()) {
    if (devices_.size() >= max_devices_) {
      ++refused_;
      return nullptr;
    }
    it = devices_.emplace(std::string(name), Device{}).first;
    it->second.first_seen_ms = now_ms;
  }
  return &it->second;
}

void DeviceRegistry::observe(DeviceSighting&& seen, int64_t now_ms) {
  Device* d = find_or_add(seen.device, now_ms);
  if (d == nullptr) return;
  d->tags = std::move(seen.tags);
  d->last_seen_ms = std::max(d->last_seen_ms, now_ms);
  d->points += seen.points;
  mark(*d);
}

void DeviceRegistry::load(std::span<const DeviceRow> rows) {
  for (const DeviceRow& row : rows) {
    auto it = devices_.find(row.device);
    if (it == devices_.end()) {
      if (devices_.size() >= max_devices_) break;
      Device d;
      d.tags = parse_tags(row.tags_json);
      d.first_seen_ms = row.first_seen_ms;
      d.last_seen_ms = row.last_seen_ms;
      d.points = row.points;
      devices_.emplace(row.device, std::move(d));
      continue;
    }
    Device& d = it->second;
    d.first_seen_ms = std::min(d.first_seen_ms, row.first_seen_ms);
    d.last_seen_ms = std::max(d.last_seen_ms, row.last_seen_ms);
    d.points += row.points;
    mark(d);
  }
}

std::vector<DeviceRow> DeviceRegistry::take_dirty() {
  std::vector<DeviceRow> out;
  out.reserve(dirty_);
  for (auto& [name, d] : devices_) {
    if (!d.dirty) continue;
    d.dirty = false;
    out.push_back({name, tags_json(d.tags), d.first_seen_ms, d.last_seen_ms, d.points});
  }
  dirty_ = 0;
  return out;
}

void DeviceRegistry::mark_all_dirty() {
  for (auto& [name, d] : devices_)
    mark(d);
}

size_t DeviceRegistry::forget_before(int64_t cutoff_ms) {
  return std::erase_if(devices_, [&](const auto& entry) {
    const Device& d = entry.second;
    if (d.last_seen_ms >= cutoff_ms) return false;
    if (d.dirty) --dirty_;
    return true;
  });
}

size_t DeviceRegistry::active(int64_t now_ms, int64_t window_ms) const {
  size_t n = 0;
  for (const auto& [name, d] : devices_)
    n += now_ms - d.last_seen_ms <= window_ms ? 1 : 0;
  return n;
}

}  // namespace edgemon::store
