#pragma once
// The text rules node_exporter applies to sysfs values, so that edgemon's
// hwmon, rapl and power_supply families keep or drop exactly the samples it
// does. Pure functions on arbitrary bytes (fuzzed by fuzz_sysfs).
#include <cstdint>
#include <string>
#include <string_view>

namespace edgemon::collect {

// Go's strconv.ParseFloat(text, 64) for what the kernel can print: an
// optional sign, decimal digits with an optional fraction and exponent, or
// inf/infinity/nan in any case. No surrounding blanks. Out of range: false.
bool parse_go_float(std::string_view text, double* out);

// Go's strconv.ParseInt(text, 0, 64): optional sign, then 0x/0o/0b or a
// leading 0 (octal) prefix or decimal, '_' allowed between digits.
bool parse_go_int(std::string_view text, int64_t* out);

// Go's strconv.ParseUint(text, 10, 64).
bool parse_go_uint(std::string_view text, uint64_t* out);

// Go's strings.ToValidUTF8(text, "\uFFFD"): each run of invalid bytes
// becomes one U+FFFD.
std::string to_valid_utf8(std::string_view text);

// Go's strings.TrimSpace for ASCII input (sysfs attributes end in '\n').
std::string_view trim_go_space(std::string_view text);

}  // namespace edgemon::collect
