#include "sources/host/parse/meminfo.hpp"

#include "sources/host/parse/scan.hpp"

namespace edgemon::collect {

std::string parse_meminfo(std::string_view text, std::vector<MeminfoField>* out) {
  out->clear();
  return scan::parse_lines(text, "expected \"Key: number [kB]\"", [out](std::string_view line) {
    size_t colon = line.find(':');
    MeminfoField f;
    f.key = scan::trim(line.substr(0, colon == std::string_view::npos ? 0 : colon));
    std::string_view rest = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    std::string_view number, unit, extra;
    bool ok = !f.key.empty() && scan::next_field(&rest, &number) && scan::to_u64(number, &f.value);
    if (ok && scan::next_field(&rest, &unit)) {
      ok = unit == "kB" && f.value <= UINT64_MAX / 1024 && !scan::next_field(&rest, &extra);
      f.value *= 1024;
      f.in_bytes = true;
    }
    if (ok) out->push_back(f);
    return ok;
  });
}

const MeminfoField* find_meminfo(const std::vector<MeminfoField>& fields, std::string_view key) {
  for (const MeminfoField& f : fields)
    if (f.key == key) return &f;
  return nullptr;
}

void append_meminfo_metric_key(std::string_view key, std::string* out) {
  for (char c : key) {
    if (c == ')') continue;
    bool word =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out->push_back(word ? c : '_');
  }
}

}  // namespace edgemon::collect
