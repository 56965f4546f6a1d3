#pragma once
// Internal to the config visitors: turning one text value into a typed key,
// with its constraint checked. Shared by the YAML reader and set_key() so a
// value means the same in a file, an environment variable and a flag.
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/config_types.hpp"

namespace edgemon::config::detail {

// Keys read from one text value. Lists and maps have their own overloads in
// each visitor; this keeps the generic one from shadowing them when the
// constraint is passed as nullptr.
template <class T>
concept ScalarKey = !std::is_same_v<T, std::vector<std::string>> && !std::is_same_v<T, StringMap>;

std::string assign(std::string_view text, std::string& out, StringCheck check);
std::string assign(std::string_view text, int64_t& out, IntRange range);
std::string assign(std::string_view text, double& out, DoubleRange range);
std::string assign(std::string_view text, Duration& out, IntRange range);
std::string assign(std::string_view text, ByteSize& out, IntRange range);
std::string assign(std::string_view text, bool& out, std::nullptr_t);
// One list element.
std::string assign_item(std::string_view text, std::vector<std::string>& out, StringCheck check);
// One map entry; an existing entry of the same name is replaced.
std::string assign_entry(std::string_view name, std::string_view value, StringMap& out,
                         StringCheck check_name);

// "Range: 1 to 100." for the reference file.
std::string describe(const std::string&, StringCheck);
std::string describe(const std::vector<std::string>&, StringCheck);
std::string describe(const StringMap&, StringCheck);
std::string describe(int64_t, IntRange range);
std::string describe(double, DoubleRange range);
std::string describe(Duration, IntRange range);
std::string describe(ByteSize, IntRange range);
std::string describe(bool, std::nullptr_t);

// The value as YAML text for the reference file.
std::string to_yaml(const std::string& value);
std::string to_yaml(const std::vector<std::string>& value);
std::string to_yaml(const StringMap& value);
std::string to_yaml(int64_t value);
std::string to_yaml(double value);
std::string to_yaml(Duration value);
std::string to_yaml(ByteSize value);
std::string to_yaml(bool value);

}  // namespace edgemon::config::detail
