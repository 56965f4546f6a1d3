#pragma once
// The few InfluxQL statements the hub answers on /query, so that the influx
// CLI's import (its `# DDL` section) and its first commands work against
// it: CREATE DATABASE, SHOW DATABASES, SHOW MEASUREMENTS. Anything else is
// recognised as "not answered here" and reported per statement, as InfluxDB
// reports a failing statement. Outside input: bounded, never throws.
#include <string>
#include <string_view>
#include <vector>

namespace edgemon::ingest {

struct InfluxqlStatement {
  enum class Kind { kCreateDatabase, kShowDatabases, kShowMeasurements, kOther };
  Kind kind = Kind::kOther;
  std::string database;  // kCreateDatabase: the name, unquoted
  std::string text;      // the statement as given, trimmed (at most 200 bytes)
};

// Statements are separated by ';' outside quotes; empty ones are skipped.
// At most kMaxStatements; "" or why the text is refused whole.
inline constexpr size_t kMaxInfluxqlStatements = 100;
[[nodiscard]] std::string parse_influxql(std::string_view text,
                                         std::vector<InfluxqlStatement>* out);

}  // namespace edgemon::ingest
