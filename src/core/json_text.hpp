#pragma once
// Appending JSON string literals without building a DOM: used on paths that
// write one line at a time (logging) where cJSON would allocate per field.
#include <string>
#include <string_view>

namespace edgemon {

// Appends `text` as a quoted JSON string, escaping quotes, backslashes and
// control characters. Invalid UTF-8 bytes are passed through unchanged.
void append_json_string(std::string& out, std::string_view text);

}  // namespace edgemon
