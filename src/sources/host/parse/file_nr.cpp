#include "sources/host/parse/file_nr.hpp"

#include "sources/host/parse/scan.hpp"

namespace edgemon::collect {

std::string parse_file_nr(std::string_view text, FileNr* out) {
  std::string_view line, a, u, m;
  if (!scan::next_line(&text, &line) || !scan::next_field(&line, &a) ||
      !scan::next_field(&line, &u) || !scan::next_field(&line, &m))
    return "expected 3 fields";
  if (!scan::to_u64(a, &out->allocated) || !scan::to_u64(u, &out->unused) ||
      !scan::to_u64(m, &out->maximum))
    return "malformed number";
  return "";
}

}  // namespace edgemon::collect
