#pragma once
// The config server's documents (a hub with config_server.serve): each
// device's configuration and each device type's defaults, every change a new
// version, and what each device last reported of itself, in a SQLite file of
// their own (configs.db in the state directory).
//
// A deletion is a version too (a row without a body), so that a version
// number, and the ETag made of it, is never given to two different
// documents.
//
// Synchronous and not thread-safe: the daemon uses it from its own worker
// thread (api/config_server_endpoints.cpp), never from the loop.
// Schema (documented in the README; operators read it with sqlite3):
//   documents(scope 'device'|'device_type', name, version, body NULL when
//             deleted, updated_ms, updated_by, PRIMARY KEY (scope, name, version))
//   reports(device_id PRIMARY KEY, body JSON, received_ms)
//   meta(key, value)            -- schema_version
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite_statement.hpp"

struct sqlite3;

namespace edgemon::store {

enum class ConfigScope { kDevice, kDeviceType };
std::string_view scope_name(ConfigScope scope);

struct ConfigVersion {
  int64_t version = 0;
  bool deleted = false;
  std::string body;  // empty when deleted, or when only listed
  int64_t bytes = 0;
  int64_t updated_ms = 0;
  std::string updated_by;
};

struct ConfigListed {
  ConfigScope scope = ConfigScope::kDevice;
  std::string name;
  ConfigVersion current;  // without its body
};

struct DeviceReport {
  std::string body;
  int64_t received_ms = 0;
};

// A conditional change that found another version than the one it expected.
struct ConfigConflict {
  int64_t current_version = 0;  // 0: none stored
};

class ConfigStore {
 public:
  // Reports kept at most; one from a further device is refused, so that a
  // fleet token cannot grow the file without end.
  static constexpr int64_t kMaxReports = 10000;

  // Opens or creates the file. A file that is not a usable config store is
  // left alone and reported: it holds operators' work, which is not ours to
  // move aside.
  static std::unique_ptr<ConfigStore> open(const std::string& path, std::string* error);
  ~ConfigStore();
  ConfigStore(const ConfigStore&) = delete;
  ConfigStore& operator=(const ConfigStore&) = delete;

  // The newest version, deleted or not; nullopt when none was ever stored.
  [[nodiscard]] std::string latest(ConfigScope scope, std::string_view name,
                                   std::optional<ConfigVersion>* out);
  [[nodiscard]] std::string version(ConfigScope scope, std::string_view name, int64_t version,
                                    std::optional<ConfigVersion>* out);
  // Newest first, without bodies.
  [[nodiscard]] std::string versions(ConfigScope scope, std::string_view name,
                                     std::vector<ConfigVersion>* out);
  // Every document whose newest version is not a deletion, without bodies.
  [[nodiscard]] std::string list(std::vector<ConfigListed>* out);

  // Stores `body` (nullopt: deletes) as the next version, keeping the newest
  // `keep` versions. `expected` (If-Match) makes the change conditional on
  // the newest version being that one (0: none stored yet); on a mismatch
  // nothing changes and *conflict says what is stored.
  [[nodiscard]] std::string put(ConfigScope scope, std::string_view name,
                                const std::optional<std::string>& body, std::string_view updated_by,
                                int64_t now_ms, std::optional<int64_t> expected, int64_t keep,
                                int64_t* new_version, std::optional<ConfigConflict>* conflict);

  // Replaces the device's report; a device not yet known is refused (with
  // *refused_full) once max_reports devices have one.
  [[nodiscard]] std::string put_report(std::string_view device, std::string_view body,
                                       int64_t now_ms, bool* refused_full);
  void set_max_reports(int64_t max_reports) { max_reports_ = max_reports; }
  [[nodiscard]] std::string report(std::string_view device, std::optional<DeviceReport>* out);

 private:
  ConfigStore() = default;
  sqlite3_stmt* statement(const char* sql, std::string* error);
  std::string failed(std::string_view what);

  sqlite3* db_ = nullptr;
  int64_t max_reports_ = kMaxReports;
  std::vector<std::pair<const char*, StatementPtr>> statements_;
};

}  // namespace edgemon::store
