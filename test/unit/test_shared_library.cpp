// Libraries loaded on demand (core/shared_library.hpp): what an operator
// reads when one is missing, and the libraries of remote_write loading here.
#include <cstring>
#include <string>

#include "core/shared_library.hpp"
#include "core/snappy_library.hpp"
#include "outputs/protobuf_c_library.hpp"
// Last: cmocka's macros clash with names in <ios>.
#include "cmocka_all.hpp"

using namespace edgemon;

namespace {

void a_missing_library_is_named_with_its_debian_package(void**) {
  SharedLibrary so("libedgemon-test-absent.so.7", "libedgemon-test-absent7");
  size_t (*length)(const char*) = nullptr;
  assert_false(so.bind("strlen", &length));
  assert_null(length);
  assert_contains(so.error(),
                  "cannot load libedgemon-test-absent.so.7 (Debian package "
                  "libedgemon-test-absent7): ");
  // dlerror()'s own words follow, for the operator to see what went wrong.
  assert_contains(so.error(), "libedgemon-test-absent.so.7: cannot open shared object file");
}

void a_missing_symbol_is_named(void**) {
  SharedLibrary so("libc.so.6", "libc6");
  size_t (*length)(const char*) = nullptr;
  assert_true(so.bind("strlen", &length));
  assert_int_equal(length("four"), 4);
  assert_string_equal(so.error().c_str(), "");
  void (*nothing)() = nullptr;
  assert_false(so.bind("edgemon_no_such_symbol", &nothing));
  assert_string_equal(so.error().c_str(), "libc.so.6 lacks edgemon_no_such_symbol");
}

// The build machine has them (the tests of remote_write need them too); a
// loader that named a wrong soname or symbol would fail here first.
void the_remote_write_libraries_load(void**) {
  std::string error;
  assert_non_null(snappy_library(&error));
  assert_non_null(outputs::protobuf_c_library(&error));
  assert_string_equal(error.c_str(), "");
  // Once: the same bound functions every time.
  assert_ptr_equal(snappy_library(), snappy_library());
  assert_ptr_equal(outputs::protobuf_c_library(), outputs::protobuf_c_library());
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_missing_library_is_named_with_its_debian_package),
      cmocka_unit_test(a_missing_symbol_is_named),
      cmocka_unit_test(the_remote_write_libraries_load),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
