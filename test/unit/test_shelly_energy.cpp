// A plug's energy counter made monotonic: a reboot of the plug (its count
// back to 0) continues the total instead of resetting it, and the total
// survives a restart of edgemon through the state text -- including a
// reboot of the plug while edgemon was down.
#include <string>

#include "cmocka_all.hpp"
#include "sources/shelly/energy_counter.hpp"

using edgemon::sources::shelly::EnergyCounter;

namespace {

void counts_through_a_plug_reboot(void**) {
  EnergyCounter c;
  assert_true(c.update(1000) == 1000);
  assert_false(c.take_offset_changed());
  assert_true(c.update(1500) == 1500);
  // The plug rebooted: its count starts again.
  assert_true(c.update(20) == 1520);
  assert_true(c.take_offset_changed());
  assert_false(c.take_offset_changed());
  assert_true(c.update(100) == 1600);
  // Twice.
  assert_true(c.update(0) == 1600);
  assert_true(c.take_offset_changed());
  assert_true(c.update(5) == 1605);
  // Unchanged is not a reboot.
  assert_true(c.update(5) == 1605);
  assert_false(c.take_offset_changed());
}

void rounding_is_not_a_reboot(void**) {
  EnergyCounter c;
  c.update(155484226.8);
  // One unit of the plug's last printed digit less: held, not a reboot
  // (which would double the total).
  assert_true(c.update(155484226.8 - 3) == 155484226.8);
  assert_false(c.take_offset_changed());
  assert_true(c.update(155484300) == 155484300);
  // Just beyond that is a reboot.
  assert_true(c.update(155484300 - 3.7) == 155484300 + 155484300 - 3.7);
  assert_true(c.take_offset_changed());
}

void survives_an_edgemon_restart(void**) {
  EnergyCounter before;
  before.update(3000);
  before.update(10);  // offset 3000
  before.update(250.125);
  std::string state = before.to_state();

  EnergyCounter after;
  assert_true(after.restore(state));
  assert_true(after.total() == 3250.125);
  // The plug kept counting while edgemon was down.
  assert_true(after.update(300) == 3300);

  // The plug rebooted while edgemon was down: what it had counted until the
  // last saved state is kept.
  EnergyCounter rebooted;
  assert_true(rebooted.restore(state));
  assert_true(rebooted.update(40) == 3000 + 250.125 + 40);
  assert_true(rebooted.take_offset_changed());
}

void damaged_state_starts_from_zero(void**) {
  for (const char* bad : {"", "12", "x 3", "1 2 3", "-5 3", "1 nan", "1 inf", "1e999 1"}) {
    EnergyCounter c;
    assert_false(c.restore(bad));
    assert_true(c.total() == 0);
  }
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(counts_through_a_plug_reboot),
      cmocka_unit_test(rounding_is_not_a_reboot),
      cmocka_unit_test(survives_an_edgemon_restart),
      cmocka_unit_test(damaged_state_starts_from_zero),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
