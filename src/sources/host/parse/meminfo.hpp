#pragma once
// /proc/meminfo: "Key:   value kB" lines; HugePages_* lines have no unit.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgemon::collect {

struct MeminfoField {
  std::string_view key;  // points into the parsed text
  uint64_t value = 0;    // bytes when `in_bytes`, else the raw number
  bool in_bytes = false;
};

// Fills *out in file order (reusing its capacity); the keys point into
// `text`, which must outlive them. Returns "" or the first malformed line.
std::string parse_meminfo(std::string_view text, std::vector<MeminfoField>* out);

// The value of `key`, or nullptr.
const MeminfoField* find_meminfo(const std::vector<MeminfoField>& fields, std::string_view key);

// node_exporter's metric name part for a key: "Active(anon)" -> "Active_anon".
// Anything outside [A-Za-z0-9_] becomes '_' so a strange key still yields a
// valid metric name. Appends to *out.
void append_meminfo_metric_key(std::string_view key, std::string* out);

}  // namespace edgemon::collect
