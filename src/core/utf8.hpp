#pragma once
// UTF-8 validation for text that arrives from outside (ingest bodies, agent
// payloads): InfluxDB stores names and strings as UTF-8, and a stray byte
// that slipped into the spool would make every later batch fail upstream.
#include <cstddef>
#include <string>
#include <string_view>

namespace edgemon {

// Well-formed UTF-8 as RFC 3629 defines it: no overlong forms, no UTF-16
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF. NUL is allowed.
bool valid_utf8(std::string_view text);

// The longest prefix of `text` with at most `max_bytes` bytes that does not
// end inside a multi-byte character (for truncating names in messages).
std::string_view utf8_truncate(std::string_view text, size_t max_bytes);

// Outside text for an error message or a JSON answer: cut at `max_bytes`
// (with "..." when cut), control bytes -- and every high byte when the text
// is not UTF-8 -- written as \xNN, so the result is always printable UTF-8.
std::string printable(std::string_view text, size_t max_bytes);

}  // namespace edgemon
