// os-release(5) parsing with shell quoting, and node_os_version's number.
#include "cmocka_all.hpp"
#include "core/read_file.hpp"
#include "sources/host/parse/os_release.hpp"

using namespace edgemon::collect;

namespace {

void parses_fixture(void**) {
  std::string text;
  assert_string_equal(
      edgemon::read_file(EDGEMON_FIXTURES "/host/root/etc/os-release", &text).c_str(), "");
  OsRelease os;
  assert_string_equal(parse_os_release(text, &os).c_str(), "");
  assert_string_equal(os.values[kOsName].c_str(), "Ubuntu");
  assert_string_equal(os.values[kOsId].c_str(), "ubuntu");
  assert_string_equal(os.values[kOsIdLike].c_str(), "debian");
  assert_string_equal(os.values[kOsPrettyName].c_str(), "Ubuntu 22.04.4 LTS");
  assert_string_equal(os.values[kOsVersion].c_str(), "22.04.4 LTS (Jammy Jellyfish)");
  assert_string_equal(os.values[kOsVersionId].c_str(), "22.04");
  assert_string_equal(os.values[kOsVersionCodename].c_str(), "jammy");
  assert_string_equal(os.values[kOsBuildId].c_str(), "");
  double v = 0;
  assert_true(os_version_number(os.values[kOsVersionId], &v));
  assert_float_equal(v, 22.04, 0);
}

void shell_quoting(void**) {
  std::string out;
  assert_true(unquote_shell_value(R"("a \"quoted\" \$HOME \\ \x")", &out));
  assert_string_equal(out.c_str(), R"(a "quoted" $HOME \ \x)");
  assert_true(unquote_shell_value("'single $x \\n'", &out));
  assert_string_equal(out.c_str(), "single $x \\n");
  assert_true(unquote_shell_value(R"(bare\ word)", &out));
  assert_string_equal(out.c_str(), "bare word");
  assert_true(unquote_shell_value(R"(a"b c"'d')", &out));
  assert_string_equal(out.c_str(), "ab cd");
  assert_true(unquote_shell_value("", &out));
  assert_string_equal(out.c_str(), "");
  assert_false(unquote_shell_value(R"("unterminated)", &out));
  assert_false(unquote_shell_value("'unterminated", &out));
  assert_false(unquote_shell_value("two words", &out));
  assert_false(unquote_shell_value("trailing\\", &out));
}

void malformed_lines_are_reported_and_skipped(void**) {
  OsRelease os;
  assert_string_equal(parse_os_release("", &os).c_str(), "");
  std::string err = parse_os_release(
      "# comment\n\nNAME=\"Debian GNU/Linux\"\nnot a pair\nID=debian\nVERSION_ID=\"12\n"
      "BAD-KEY=x\n=x\nVARIANT='Edge Box'\n",
      &os);
  assert_contains(err, "line 4:");
  assert_string_equal(os.values[kOsName].c_str(), "Debian GNU/Linux");
  assert_string_equal(os.values[kOsId].c_str(), "debian");
  assert_string_equal(os.values[kOsVersionId].c_str(), "");  // unterminated quote
  assert_string_equal(os.values[kOsVariant].c_str(), "Edge Box");
  // A second parse forgets the first file's values.
  assert_string_equal(parse_os_release("ID=alpine\n", &os).c_str(), "");
  assert_string_equal(os.values[kOsName].c_str(), "");
}

void version_numbers(void**) {
  double v = 0;
  assert_true(os_version_number("12", &v));
  assert_float_equal(v, 12, 0);
  assert_true(os_version_number("3.19.1", &v));
  assert_float_equal(v, 3.19, 0);
  assert_true(os_version_number("24.", &v));
  assert_float_equal(v, 24, 0);
  assert_true(os_version_number("2023.09-beta", &v));
  assert_float_equal(v, 2023.09, 0);
  assert_false(os_version_number("rolling", &v));
  assert_false(os_version_number("", &v));
  assert_false(os_version_number(".5", &v));
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parses_fixture),
      cmocka_unit_test(shell_quoting),
      cmocka_unit_test(malformed_lines_are_reported_and_skipped),
      cmocka_unit_test(version_numbers),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
