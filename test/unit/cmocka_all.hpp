#pragma once
// cmocka needs these C headers before its own.
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
// cmocka 1.1's header leaves print_error (used by fail_msg) outside its
// extern "C" block.
extern "C" {
#include <cmocka.h>
}
// clang-format on

#include <string>
#include <string_view>

// Asserts that `haystack` contains `needle`, printing both when it does not.
// Both are copied: a temporary (`a + b`) passed as either must outlive the
// statement that names it.
#define assert_contains(haystack, needle)                                                   \
  do {                                                                                      \
    std::string h_{std::string_view(haystack)};                                             \
    std::string n_{std::string_view(needle)};                                               \
    if (h_.find(n_) == std::string::npos) {                                                 \
      fail_msg("expected to find [%.*s] in:\n%.*s", static_cast<int>(n_.size()), n_.data(), \
               static_cast<int>(h_.size()), h_.data());                                     \
    }                                                                                       \
  } while (0)

#define assert_not_contains(haystack, needle)                                             \
  do {                                                                                    \
    std::string h_{std::string_view(haystack)};                                           \
    std::string n_{std::string_view(needle)};                                             \
    if (h_.find(n_) != std::string::npos) {                                               \
      fail_msg("did not expect [%.*s] in:\n%.*s", static_cast<int>(n_.size()), n_.data(), \
               static_cast<int>(h_.size()), h_.data());                                   \
    }                                                                                     \
  } while (0)
