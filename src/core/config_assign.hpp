#pragma once
// Internal to the config visitors: turning one text value into a typed key,
// with its constraint checked. Shared by the YAML reader and set_key() so a
// value means the same in a file, an environment variable and a flag.
#include <string>
#include <string_view>
#include <vector>

#include "core/config_types.hpp"

namespace edgemon::config::detail {

std::string assign(std::string_view text, std::string& out, StringCheck check);
std::string assign(std::string_view text, int64_t& out, IntRange range);
std::string assign(std::string_view text, double& out, DoubleRange range);
std::string assign(std::string_view text, Duration& out, IntRange range);
std::string assign(std::string_view text, ByteSize& out, IntRange range);
std::string assign(std::string_view text, bool& out, std::nullptr_t);
// One list element.
std::string assign_item(std::string_view text, std::vector<std::string>& out, StringCheck check);

// "Range: 1 to 100." for the reference file.
std::string describe(const std::string&, StringCheck);
std::string describe(const std::vector<std::string>&, StringCheck);
std::string describe(int64_t, IntRange range);
std::string describe(double, DoubleRange range);
std::string describe(Duration, IntRange range);
std::string describe(ByteSize, IntRange range);
std::string describe(bool, std::nullptr_t);

// The value as YAML text for the reference file.
std::string to_yaml(const std::string& value);
std::string to_yaml(const std::vector<std::string>& value);
std::string to_yaml(int64_t value);
std::string to_yaml(double value);
std::string to_yaml(Duration value);
std::string to_yaml(ByteSize value);
std::string to_yaml(bool value);

}  // namespace edgemon::config::detail
