// The InfluxQL the hub answers on /query: the three statements the influx
// CLI's import and first commands use, recognised in any case and quoting,
// everything else reported per statement, bounds on what a client sends.
#include <string>
#include <vector>

#include "cmocka_all.hpp"
#include "ingest/influxql.hpp"

using namespace edgemon;
using ingest::InfluxqlStatement;
using Kind = InfluxqlStatement::Kind;

namespace {

std::vector<InfluxqlStatement> parsed(const char* text) {
  std::vector<InfluxqlStatement> out;
  std::string err = ingest::parse_influxql(text, &out);
  if (!err.empty()) fail_msg("'%s': %s", text, err.c_str());
  return out;
}

void the_cli_statements(void**) {
  auto s = parsed("CREATE DATABASE imported");
  assert_int_equal(s.size(), 1);
  assert_int_equal(static_cast<int>(s[0].kind), static_cast<int>(Kind::kCreateDatabase));
  assert_string_equal(s[0].database.c_str(), "imported");
  s = parsed("create database \"my \\\"db\\\"\" WITH DURATION 7d");
  assert_string_equal(s[0].database.c_str(), "my \"db\"");
  s = parsed("show databases; SHOW MEASUREMENTS;;");
  assert_int_equal(s.size(), 2);
  assert_int_equal(static_cast<int>(s[0].kind), static_cast<int>(Kind::kShowDatabases));
  assert_int_equal(static_cast<int>(s[1].kind), static_cast<int>(Kind::kShowMeasurements));
}

void everything_else_is_other(void**) {
  for (const char* q : {"SELECT * FROM cpu", "SHOW MEASUREMENTS ON x", "DROP DATABASE x",
                        "CREATE DATABASE", "CREATE DATABASE ;", "SHOW \"DATABASES\""}) {
    auto s = parsed(q);
    assert_int_equal(static_cast<int>(s[0].kind), static_cast<int>(Kind::kOther));
  }
  // A ';' inside quotes does not split.
  auto s = parsed("SELECT \"a;b\" FROM m; SHOW DATABASES");
  assert_int_equal(s.size(), 2);
  assert_string_equal(s[0].text.c_str(), "SELECT \"a;b\" FROM m");
}

void bounds_and_refusals(void**) {
  std::vector<InfluxqlStatement> out;
  assert_string_not_equal(ingest::parse_influxql("", &out).c_str(), "");
  assert_string_not_equal(ingest::parse_influxql(" ; ; ", &out).c_str(), "");
  assert_string_not_equal(ingest::parse_influxql("SELECT 'open", &out).c_str(), "");
  std::string many;
  for (int i = 0; i < 101; ++i)
    many += "SHOW DATABASES;";
  assert_string_not_equal(ingest::parse_influxql(many, &out).c_str(), "");
  std::string longer = "SELECT " + std::string(1000, 'x');
  assert_int_equal(parsed(longer.c_str())[0].text.size(), 200);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_cli_statements),
      cmocka_unit_test(everything_else_is_other),
      cmocka_unit_test(bounds_and_refusals),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
