#pragma once
// Text forms for `edgemon spool`: what operators read and scripts parse.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "core/rfc3339.hpp"
#include "store/spool.hpp"

namespace edgemon::app {

int64_t now_ms();

// A point in time as an operator writes it: RFC 3339, Unix seconds, or a
// duration meaning that long before now (2h, 7d). Returns "" or the error.
[[nodiscard]] std::string parse_point_in_time(std::string_view text, int64_t now, int64_t* out_ms);
// RFC 3339 in UTC with milliseconds, e.g. 2025-01-31T12:00:00.250Z.
using edgemon::format_rfc3339_ms;
// A coarse age for people: 45s, 12m30s, 3h5m, 2d4h.
std::string format_age(int64_t ms);

std::string stats_text(const std::string& path, int64_t file_bytes,
                       const std::vector<store::QueueStats>& stats, int64_t now);
std::string stats_json(const std::string& path, int64_t file_bytes,
                       const std::vector<store::QueueStats>& stats, int64_t now);

std::string batch_header();
std::string batch_line(const store::Batch& b);
std::string batch_details(const store::Batch& b);
// One line of JSON; with the body if `with_body`.
std::string batch_json(const store::Batch& b, bool with_body);

std::string dead_letter_header();
std::string dead_letter_line(const store::DeadLetter& d);
std::string dead_letter_details(const store::DeadLetter& d);

// "3 batches (15000 points, 123456 bytes)".
std::string removed_text(const store::Removed& r, const char* one, const char* many);

// Writes a line-protocol body, ending it with a newline if it lacks one so
// that two bodies never run into one line.
void write_body(std::string_view body, FILE* out);

}  // namespace edgemon::app
