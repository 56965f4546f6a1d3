#pragma once
// Numbers as text for the answers edgemon writes (JSON, line protocol,
// Prometheus exposition): the exact bytes std::to_chars writes, appended
// without the detours that showed in profiles.
#include <charconv>
#include <concepts>
#include <string>

namespace edgemon {

// Room for any double or integer text: "-2.2250738585072014e-308" is 24.
inline constexpr size_t kNumberTextMax = 32;

// Writes std::to_chars's shortest round-trip text of `v` at `first` (room
// for kNumberTextMax bytes) and returns its end. Values with at most three
// decimals below 1e9 -- counts, bytes, percentages, temperatures: most of
// what is stored -- are written directly, four to ten times cheaper than
// the general algorithm, which every other value goes through.
char* format_double(char* first, double v);

inline void append_double(std::string& out, double v) {
  char buf[kNumberTextMax];
  out.append(buf, static_cast<size_t>(format_double(buf, v) - buf));
}

template <std::integral T>
void append_integer(std::string& out, T v) {
  char buf[kNumberTextMax];
  char* end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  // (pointer, length): append(first, last) would take the iterator
  // overload, a replace() several times slower for a few bytes.
  out.append(buf, static_cast<size_t>(end - buf));
}

}  // namespace edgemon
