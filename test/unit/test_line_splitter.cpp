// LineSplitter: lines split across reads, a line of exactly the limit kept
// whole, a longer one cut once however many reads it spans, and the
// unterminated last line delivered by finish().
#include <string>
#include <vector>

#include "cmocka_all.hpp"
#include "core/line_splitter.hpp"

using edgemon::LineSplitter;

namespace {

struct Lines {
  std::vector<std::string> text;
  std::vector<bool> cut;
  LineSplitter splitter(size_t max) {
    return LineSplitter(max, [this](std::string_view l, bool c) {
      text.emplace_back(l);
      cut.push_back(c);
    });
  }
};

void lines_across_reads(void**) {
  Lines seen;
  LineSplitter s = seen.splitter(100);
  s.feed("one\ntw");
  s.feed("o\n\nthr");
  s.feed("ee");
  assert_int_equal(seen.text.size(), 3);
  s.finish();
  assert_int_equal(seen.text.size(), 4);
  const char* expected[] = {"one", "two", "", "three"};
  for (int i = 0; i < 4; ++i) {
    assert_string_equal(seen.text[i].c_str(), expected[i]);
    assert_false(seen.cut[i]);
  }
  s.finish();  // nothing more
  assert_int_equal(seen.text.size(), 4);
}

void exactly_the_limit_is_whole(void**) {
  Lines seen;
  LineSplitter s = seen.splitter(4);
  s.feed("ab");
  s.feed("cd");
  s.feed("\nefgh\n");
  assert_int_equal(seen.text.size(), 2);
  assert_string_equal(seen.text[0].c_str(), "abcd");
  assert_string_equal(seen.text[1].c_str(), "efgh");
  assert_false(seen.cut[0]);
  assert_false(seen.cut[1]);
}

void longer_lines_cut_once(void**) {
  Lines seen;
  LineSplitter s = seen.splitter(4);
  s.feed("abc");
  s.feed("defg");
  s.feed("hij");
  s.feed("klm\nnext\nlonger-in-one-read\nend");
  s.finish();
  const char* expected[] = {"abcd", "next", "long", "end"};
  const bool cut[] = {true, false, true, false};
  assert_int_equal(seen.text.size(), 4);
  for (int i = 0; i < 4; ++i) {
    assert_string_equal(seen.text[i].c_str(), expected[i]);
    assert_int_equal(seen.cut[i], cut[i]);
  }
}

void clear_forgets_the_partial_line(void**) {
  Lines seen;
  LineSplitter s = seen.splitter(4);
  s.feed("abcdef");  // cut, now skipping to the newline
  s.clear();
  s.feed("xy\n");
  assert_int_equal(seen.text.size(), 2);
  assert_string_equal(seen.text[1].c_str(), "xy");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lines_across_reads),
      cmocka_unit_test(exactly_the_limit_is_whole),
      cmocka_unit_test(longer_lines_cut_once),
      cmocka_unit_test(clear_forgets_the_partial_line),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
