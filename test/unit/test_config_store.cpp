// The config server's store: versions that only grow (a deletion is one),
// pruning to versions_kept, conditional writes, the report cap, a reopen
// that keeps everything, and a file that is not ours left alone.
#include <cstdlib>
#include <fstream>

#include "app/config_source.hpp"
#include "cmocka_all.hpp"
#include "store/config_store.hpp"

using namespace edgemon::store;

namespace {

struct Dir {
  std::string path;
  Dir() {
    char tmpl[] = "/tmp/edgemon-config-store-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~Dir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string file(const char* name) const { return path + "/" + name; }
};

std::unique_ptr<ConfigStore> open_ok(const std::string& path) {
  std::string error;
  auto store = ConfigStore::open(path, &error);
  if (!store) fail_msg("open %s: %s", path.c_str(), error.c_str());
  return store;
}

int64_t put_ok(ConfigStore& store, ConfigScope scope, const char* name,
               std::optional<std::string> body, std::optional<int64_t> expected = std::nullopt,
               int64_t keep = 20) {
  int64_t version = 0;
  std::optional<ConfigConflict> conflict;
  std::string err = store.put(scope, name, body, "test", 1000, expected, keep, &version, &conflict);
  if (!err.empty()) fail_msg("put: %s", err.c_str());
  if (conflict) fail_msg("unexpected conflict at %lld", (long long)conflict->current_version);
  return version;
}

void versions_grow_and_deletion_is_one(void**) {
  Dir dir;
  auto store = open_ok(dir.file("configs.db"));
  assert_int_equal(put_ok(*store, ConfigScope::kDevice, "dev1", "a: 1\n"), 1);
  assert_int_equal(put_ok(*store, ConfigScope::kDevice, "dev1", "a: 2\n"), 2);
  // Same name, other scope: its own numbering.
  assert_int_equal(put_ok(*store, ConfigScope::kDeviceType, "dev1", "t: 1\n"), 1);
  std::optional<ConfigVersion> latest;
  assert_true(store->latest(ConfigScope::kDevice, "dev1", &latest).empty());
  assert_true(latest && latest->version == 2 && latest->body == "a: 2\n");
  assert_int_equal(put_ok(*store, ConfigScope::kDevice, "dev1", std::nullopt), 3);
  assert_true(store->latest(ConfigScope::kDevice, "dev1", &latest).empty());
  assert_true(latest && latest->deleted && latest->body.empty());
  // Stored again after a deletion: the number goes on, never reused.
  assert_int_equal(put_ok(*store, ConfigScope::kDevice, "dev1", "a: 3\n"), 4);
  std::optional<ConfigVersion> old;
  assert_true(store->version(ConfigScope::kDevice, "dev1", 1, &old).empty());
  assert_true(old && old->body == "a: 1\n" && old->updated_by == "test");
  std::vector<ConfigListed> listed;
  assert_true(store->list(&listed).empty());
  assert_int_equal(listed.size(), 2);
  assert_int_equal(listed[0].current.version, 4);
  assert_int_equal(listed[0].scope, ConfigScope::kDevice);
  // Everything survives a reopen.
  store.reset();
  store = open_ok(dir.file("configs.db"));
  assert_true(store->latest(ConfigScope::kDevice, "dev1", &latest).empty());
  assert_true(latest && latest->version == 4 && latest->body == "a: 3\n");
}

void old_versions_are_pruned(void**) {
  Dir dir;
  auto store = open_ok(dir.file("configs.db"));
  for (int i = 1; i <= 5; ++i)
    put_ok(*store, ConfigScope::kDevice, "d", "v: " + std::to_string(i) + "\n", std::nullopt, 2);
  std::vector<ConfigVersion> versions;
  assert_true(store->versions(ConfigScope::kDevice, "d", &versions).empty());
  assert_int_equal(versions.size(), 2);
  assert_int_equal(versions[0].version, 5);
  assert_int_equal(versions[1].version, 4);
  assert_int_equal(versions[0].bytes, 5);
}

void conditional_writes_refuse_a_stale_version(void**) {
  Dir dir;
  auto store = open_ok(dir.file("configs.db"));
  // 0: create only.
  assert_int_equal(put_ok(*store, ConfigScope::kDevice, "d", "a: 1\n", 0), 1);
  int64_t version = 0;
  std::optional<ConfigConflict> conflict;
  assert_true(
      store->put(ConfigScope::kDevice, "d", "a: 2\n", "t", 1, 0, 20, &version, &conflict).empty());
  assert_true(conflict && conflict->current_version == 1);
  assert_int_equal(put_ok(*store, ConfigScope::kDevice, "d", "a: 2\n", 1), 2);
  assert_true(
      store->put(ConfigScope::kDevice, "d", "a: 3\n", "t", 1, 1, 20, &version, &conflict).empty());
  assert_true(conflict && conflict->current_version == 2);
  std::optional<ConfigVersion> latest;
  assert_true(store->latest(ConfigScope::kDevice, "d", &latest).empty());
  assert_string_equal(latest->body.c_str(), "a: 2\n");
}

void reports_are_replaced_and_capped(void**) {
  Dir dir;
  auto store = open_ok(dir.file("configs.db"));
  bool full = true;
  assert_true(store->put_report("dev1", "{\"a\":1}", 5, &full).empty());
  assert_false(full);
  assert_true(store->put_report("dev1", "{\"a\":2}", 6, &full).empty());
  std::optional<DeviceReport> report;
  assert_true(store->report("dev1", &report).empty());
  assert_true(report && report->body == "{\"a\":2}" && report->received_ms == 6);
  assert_true(store->report("dev2", &report).empty());
  assert_false(report.has_value());
  // Full: known devices still report, new ones are refused.
  store->set_max_reports(2);
  assert_true(store->put_report("dev2", "{}", 7, &full).empty());
  assert_false(full);
  assert_true(store->put_report("dev3", "{}", 8, &full).empty());
  assert_true(full);
  assert_true(store->report("dev3", &report).empty());
  assert_false(report.has_value());
  assert_true(store->put_report("dev1", "{\"a\":3}", 9, &full).empty());
  assert_false(full);
}

void a_foreign_file_is_left_alone(void**) {
  Dir dir;
  std::string path = dir.file("configs.db");
  {
    std::ofstream f(path);
    f << "not a database at all, but an operator's precious notes";
  }
  std::string error;
  assert_null(ConfigStore::open(path, &error).get());
  assert_contains(error, "config store");
  std::ifstream f(path);
  std::string kept((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  assert_contains(kept, "precious notes");
}

// What a hub refuses to store: the checks of `edgemon check`, and the
// agent's own config_server section.
void served_documents_are_checked_like_edgemon_check(void**) {
  using edgemon::app::check_served_document;
  assert_true(
      check_served_document("collect: {interval: 5s}\nmetrics: {node_load1: false}\n", "device d")
          .empty());
  auto errors = check_served_document("collect:\n  interval: 1ms\n  diable: [x]\n", "device d");
  assert_int_equal(errors.size(), 2);
  errors = check_served_document("config_server: {url: http://other:1}\n", "device d");
  assert_int_equal(errors.size(), 1);
  assert_string_equal(errors[0].key.c_str(), "config_server");
  errors = check_served_document("device_id: someone-else\n", "device d");
  assert_int_equal(errors.size(), 1);
  assert_string_equal(errors[0].key.c_str(), "device_id");
  // Cross-key checks too: a body limit over the memory budget.
  errors = check_served_document(
      "http:\n  limits:\n    memory_budget: 1MiB\n    max_body_bytes: 2MiB\n", "device d");
  assert_int_equal(errors.size(), 1);
  assert_string_equal(errors[0].key.c_str(), "http.limits.max_body_bytes");
}

}  // namespace

int main() {
  const CMUnitTest tests[] = {
      cmocka_unit_test(versions_grow_and_deletion_is_one),
      cmocka_unit_test(old_versions_are_pruned),
      cmocka_unit_test(conditional_writes_refuse_a_stale_version),
      cmocka_unit_test(reports_are_replaced_and_capped),
      cmocka_unit_test(a_foreign_file_is_left_alone),
      cmocka_unit_test(served_documents_are_checked_like_edgemon_check),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
