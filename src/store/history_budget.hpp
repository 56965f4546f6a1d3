#pragma once
// Private to src/store/history*.cpp: what one write batch may still add to
// the history file before it reaches history.max_bytes.
//
// The cap holds *before* a write for whatever could make retention delete
// stored data to make room: a new series (its row in `series`, its two
// indexes, its first rows in raw and the three aggregate tables) or a new
// device is added only while the pages in use, measured once when the batch
// begins, plus what the batch has added so far, plus the newcomer itself,
// stay within max_bytes. Otherwise a client inventing series names could
// push the file far past the cap in one burst, and the retention pass that
// follows would delete the oldest rows -- the legitimate ones -- to make room
// for its rows.
//
// Values of series the file already holds are always stored: their growth
// is the history doing its job, and retention trims it oldest first as
// before. Their estimate is spent from the batch's room all the same, so a
// batch does not admit newcomers into room its own values take.
//
// Sizes are estimates, not measured per row (a page count per value would
// cost the hot path more than the insert), and deliberately high (about
// twice what a flood of new series measures): a batch stops admitting a
// little before the cap rather than after it, and the next batch measures
// again, so an estimate's error never accumulates. A file grows by whole
// pages, though: the last newcomer admitted may open a fresh page in each
// B-tree it touches (nine, and an interior page here and there) where
// its bytes alone would have fit, so a batch also leaves kPageSlackBytes
// unspent. Whatever the estimates, a batch that begins with the file within
// that slack of the cap admits nothing new.
#include <cstddef>
#include <cstdint>
#include <limits>

namespace edgemon::store::history_sql {

// Measured with test/tools/history_fill and dbstat: a raw row takes ~24
// bytes, an aggregate row ~60, both at the fill of B-trees in use.
inline constexpr int64_t kRawRowBytes = 32;
inline constexpr int64_t kAggregateRowBytes = 80;
// 16 pages of SQLite's default 4 KiB.
inline constexpr int64_t kPageSlackBytes = 64 * 1024;

// A new series: the key is stored in the series row and in its UNIQUE index,
// and its device, measurement and field again in series_by_name; index pages
// filled by keys in no particular order are about two thirds full. Plus the
// row ids and record headers of the three.
inline constexpr int64_t series_bytes(size_t key_bytes) {
  return 192 + 4 * static_cast<int64_t>(key_bytes);
}

// A new device: the name in its row and its primary-key index, the tags in
// the row.
inline constexpr int64_t device_bytes(size_t name_bytes, size_t tags_bytes) {
  return 96 + 3 * static_cast<int64_t>(name_bytes + tags_bytes);
}

class SizeBudget {
 public:
  // No cap.
  SizeBudget() = default;
  // `used_bytes`: the pages in use when the batch begins.
  SizeBudget(int64_t max_bytes, int64_t used_bytes)
      : room_(max_bytes - used_bytes - kPageSlackBytes) {}

  bool fits(int64_t bytes) const { return bytes <= room_; }
  void spend(int64_t bytes) { room_ -= bytes; }

 private:
  // Far from overflowing: a batch spends at most a few bytes per byte of it.
  int64_t room_ = std::numeric_limits<int64_t>::max() / 2;
};

}  // namespace edgemon::store::history_sql
