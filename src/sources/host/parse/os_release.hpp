#pragma once
// os-release(5): KEY=value lines, values optionally quoted with shell rules.
#include <array>
#include <string>
#include <string_view>

namespace edgemon::collect {

// The keys node_exporter turns into node_os_info labels, in label order.
enum OsField : size_t {
  kOsBuildId,
  kOsId,
  kOsIdLike,
  kOsImageId,
  kOsImageVersion,
  kOsName,
  kOsPrettyName,
  kOsVariant,
  kOsVariantId,
  kOsVersion,
  kOsVersionCodename,
  kOsVersionId,
  kOsFieldCount
};

// Lower-case label names ("build_id" ...) indexed by OsField.
extern const std::array<std::string_view, kOsFieldCount> kOsLabelNames;

struct OsRelease {
  std::array<std::string, kOsFieldCount> values;  // "" when the key is absent
};

// Fills *out; other keys are ignored. Returns "" or the first malformed line
// (no '=', a bad key, an unterminated quote); the valid lines still count.
std::string parse_os_release(std::string_view text, OsRelease* out);

// Decodes one shell-quoted value: "..." with \" \\ \$ \` escapes, '...'
// literal, bare words with \x escapes. Returns false when malformed.
bool unquote_shell_value(std::string_view raw, std::string* out);

// node_exporter's node_os_version: the leading "major[.minor]" of VERSION_ID
// ("22.04" -> 22.04, "12" -> 12, "rolling" -> none).
bool os_version_number(std::string_view version_id, double* out);

}  // namespace edgemon::collect
