// /query's q comes from any client the ingest allowlist admits. Arbitrary
// bytes give statements within the parser's bounds or a short error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ingest/influxql.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<edgemon::ingest::InfluxqlStatement> out;
  std::string error = edgemon::ingest::parse_influxql(text, &out);
  if (!error.empty()) {
    if (error.size() > 100 || out.size() > edgemon::ingest::kMaxInfluxqlStatements) std::abort();
    return 0;
  }
  if (out.empty() || out.size() > edgemon::ingest::kMaxInfluxqlStatements) std::abort();
  for (const auto& st : out) {
    if (st.text.empty() || st.text.size() > 200 || st.database.size() > 200) std::abort();
    bool create = st.kind == edgemon::ingest::InfluxqlStatement::Kind::kCreateDatabase;
    if (create == st.database.empty()) std::abort();
  }
  return 0;
}
