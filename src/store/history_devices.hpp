#pragma once
// Every device whose points came through this edgemon (its own and, on a
// hub, every agent's): the tags of its latest point, when it was first and
// last seen, how many points it sent. Lives on the loop thread, updated by
// History::add(); persisted in the history file so /devices survives a
// restart, or kept in memory only when history is disabled.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/point.hpp"
#include "store/history_db.hpp"

namespace edgemon::store {

// The device a point belongs to: its device_id tag, "unknown" without one.
std::string_view device_of(const metrics::Point& point);

// The tags the registry keeps of a device, in bytes of key and value: a
// device describes itself in a few short tags; beyond this, tags (in key
// order) are left out, so that a client cannot make the registry hold its
// series keys for every device name it invents.
inline constexpr size_t kMaxDeviceTagBytes = 1024;

// The points of one device among points received together: how many, and
// the tags of the last one (sorted by key, without device_id, at most
// kMaxDeviceTagBytes of them).
struct DeviceSighting {
  std::string device;
  std::vector<metrics::Tag> tags;
  int64_t points = 0;
};

// One sighting per device of `points`, in order of first appearance. Pure:
// the hub computes it on the thread pool.
std::vector<DeviceSighting> sightings(std::span<const metrics::Point> points);

class DeviceRegistry {
 public:
  struct Device {
    std::vector<metrics::Tag> tags;  // sorted by key, without device_id
    int64_t first_seen_ms = 0;
    int64_t last_seen_ms = 0;
    int64_t points = 0;
    bool dirty = false;  // changed since last persisted
  };
  using Map = std::map<std::string, Device, std::less<>>;

  // Devices beyond this many are not registered (counted in refused()).
  void set_max_devices(size_t max) { max_devices_ = max; }
  // Counts the points of one device received at now_ms; its tags become
  // those of the sighting.
  void observe(DeviceSighting&& seen, int64_t now_ms);
  // Devices read back from the history file at start. Points counted since
  // start are added to the stored count; the newer tags win.
  void load(std::span<const DeviceRow> rows);
  // The devices changed since the last call, as rows to persist.
  std::vector<DeviceRow> take_dirty();
  bool has_dirty() const { return dirty_ > 0; }
  void mark_all_dirty();

  const Map& devices() const { return devices_; }
  size_t size() const { return devices_.size(); }
  size_t active(int64_t now_ms, int64_t window_ms) const;
  // Forgets devices last seen before `cutoff_ms` (the history's
  // aggregate_retention: nothing of theirs is kept any longer); returns how
  // many.
  size_t forget_before(int64_t cutoff_ms);
  uint64_t refused() const { return refused_; }

 private:
  Device* find_or_add(std::string_view name, int64_t now_ms);
  void mark(Device& d) {
    if (!d.dirty) ++dirty_;
    d.dirty = true;
  }

  Map devices_;
  size_t max_devices_ = 100000;
  size_t dirty_ = 0;
  uint64_t refused_ = 0;
};

// The tags as the canonical JSON object history stores.
std::string tags_json(std::span<const metrics::Tag> tags);

}  // namespace edgemon::store
