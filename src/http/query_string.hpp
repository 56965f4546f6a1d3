#pragma once
// application/x-www-form-urlencoded query strings: `a=1&b=x%20y`.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edgemon::http {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Percent-decodes names and values ('+' is a space). nullopt on a malformed
// escape (`%G1`, a `%` at the end), so a bad URL is refused, not guessed.
std::optional<QueryParams> parse_query(std::string_view query);

// One name or value; false on a malformed escape. A URL's path and
// userinfo keep '+' as it is (plus_is_space false).
bool percent_decode(std::string_view text, std::string* out, bool plus_is_space = true);
// One path segment or query value for a URL we send: everything but RFC
// 3986's unreserved characters is %XX-escaped.
std::string percent_encode(std::string_view text);

// The first value of `name`, or nullptr.
const std::string* find_param(const QueryParams& params, std::string_view name);

}  // namespace edgemon::http
