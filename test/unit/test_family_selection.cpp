// The metric selection: the allow-/deny-list reading of new_metrics=auto,
// discovery and its limit, the rule between the file and the API, the
// bus's filtering of publications, and the metrics.json record.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "bus/bus.hpp"
#include "bus/family_selection.hpp"
#include "bus/family_selection_file.hpp"
#include "cmocka_all.hpp"
#include "metrics/snapshot.hpp"

using namespace edgemon;
using bus::FamilyChoice;
using bus::FamilySelection;
using bus::Origin;

namespace {

std::shared_ptr<const metrics::Snapshot> snapshot_of(std::initializer_list<const char*> names) {
  metrics::SnapshotRecorder recorder;
  double v = 1;
  for (const char* name : names) {
    recorder.begin({name, "help", metrics::Type::kGauge});
    recorder.sample({{"side", "a"}}, v++);
  }
  return recorder.take();
}

std::vector<std::string> family_names(const metrics::Snapshot& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.families(); ++i)
    out.push_back(s.family_name(i));
  return out;
}

void auto_is_a_deny_list_until_something_is_switched_on(void**) {
  FamilySelection s;
  (void)s.configure({{"node_load1", "false"}}, {}, "auto");
  assert_false(s.enabled("node_load1"));
  assert_true(s.enabled("node_load5"));  // discovered, enabled
  assert_int_equal(static_cast<int>(s.families().at("node_load5").origin),
                   static_cast<int>(Origin::kDiscovered));

  FamilySelection allow;
  (void)allow.configure({{"node_load1", "true"}}, {}, "auto");
  assert_true(allow.enabled("node_load1"));
  assert_false(allow.enabled("node_load5"));  // recorded disabled, never exposed silently
  assert_false(allow.families().at("node_load5").enabled);

  FamilySelection told;
  (void)told.configure({{"node_load1", "true"}}, {}, "enabled");
  assert_true(told.enabled("node_load5"));
}

void discovered_families_follow_new_metrics_as_it_is_now(void**) {
  FamilySelection s;
  (void)s.configure({}, {}, "auto");
  assert_true(s.enabled("node_load5"));
  // Switching one family on makes the list an allow-list: the others,
  // seen before or not, are off until named.
  (void)s.configure({{"node_load1", "true"}}, {}, "auto");
  assert_false(s.enabled("node_load5"));
  assert_false(s.enabled("node_load15"));
  assert_true(s.enabled("node_load1"));
  // And new_metrics: enabled brings them back.
  (void)s.configure({{"node_load1", "true"}}, {}, "enabled");
  assert_true(s.enabled("node_load5"));
  assert_true(s.enabled("node_load15"));
}

void enabled_metrics_is_converted_and_metrics_wins(void**) {
  FamilySelection s;
  (void)s.configure({{"b", "false"}}, {"a", "b"}, "auto");
  assert_true(s.enabled("a"));
  assert_false(s.enabled("b"));
  assert_false(s.enabled("c"));  // a list of what is on is an allow-list
}

void the_api_stands_until_the_file_entry_is_edited(void**) {
  FamilySelection s;
  (void)s.configure({{"x", "false"}, {"y", "false"}}, {}, "auto");
  assert_true(s.enabled("z"));
  assert_true(s.unknown({{"x", true}, {"never_seen", true}}) ==
              std::vector<std::string>{"never_seen"});
  assert_int_equal(s.apply({{"x", true}, {"z", false}}), 2);
  assert_true(s.enabled("x"));
  assert_false(s.enabled("z"));
  assert_string_equal(s.families().at("x").file_said.c_str(), "false");

  // An edit elsewhere in the file: the API's settings stand.
  auto overridden = s.configure({{"x", "false"}, {"y", "true"}}, {}, "auto");
  assert_true(overridden.empty());
  assert_true(s.enabled("x"));
  assert_false(s.enabled("z"));
  // The entry the API overrode is edited: the file wins and says so.
  overridden = s.configure({{"x", "false"}, {"y", "true"}, {"z", "true"}}, {}, "auto");
  assert_true(overridden == std::vector<std::string>{"z"});
  assert_true(s.enabled("z"));
  assert_int_equal(static_cast<int>(s.families().at("z").origin),
                   static_cast<int>(Origin::kConfig));
  // An entry taken out of the file leaves the API's setting nothing to lose to.
  overridden = s.configure({{"y", "true"}, {"z", "true"}}, {}, "auto");
  assert_true(overridden.empty());
  assert_true(s.enabled("x"));
  // A file switch taken out: the family is as if seen now (allow-list: off).
  overridden = s.configure({{"z", "true"}}, {}, "auto");
  assert_false(s.enabled("y"));
}

void the_record_is_bounded(void**) {
  FamilySelection s;
  (void)s.configure({}, {}, "disabled");
  for (size_t i = 0; i < FamilySelection::kMaxFamilies; ++i)
    (void)s.enabled("f" + std::to_string(i));
  uint64_t version = s.version();
  assert_false(s.enabled("one_too_many"));
  assert_int_equal(s.families().size(), FamilySelection::kMaxFamilies);
  assert_int_equal(s.unrecorded(), 1);
  assert_int_equal(s.version(), version);
  assert_int_equal(s.disabled(), FamilySelection::kMaxFamilies);
}

void the_bus_filters_every_subscriber(void**) {
  FamilySelection s;
  (void)s.configure({{"off", "false"}}, {}, "auto");
  bus::Bus b;
  b.set_selection(&s);
  std::vector<std::string> seen;
  const metrics::Snapshot* delivered = nullptr;
  b.subscribe([&](const bus::Publication& p) {
    if (p.families == nullptr) return;
    seen = family_names(*p.families);
    delivered = p.families.get();
  });
  auto all_on = snapshot_of({"a", "b"});
  b.publish({"exec", "x", 0, all_on, true});
  assert_true(seen == (std::vector<std::string>{"a", "b"}));
  assert_ptr_equal(delivered, all_on.get());  // nothing disabled: no copy
  b.publish({"exec", "x", 0, snapshot_of({"a", "off", "b"}), true});
  assert_true(seen == (std::vector<std::string>{"a", "b"}));
  // A withdrawal passes as it is.
  bool withdrawn = false;
  b.subscribe([&](const bus::Publication& p) { withdrawn = p.families == nullptr; });
  b.publish({"exec", "x", 0, nullptr, true});
  assert_true(withdrawn);
}

void the_record_round_trips_and_a_broken_one_is_kept_aside(void**) {
  bus::FamilyChoices choices;
  choices["a"] = {true, Origin::kDiscovered, ""};
  choices["b"] = {false, Origin::kApi, "true"};
  choices["c"] = {false, Origin::kConfig, ""};
  bus::FamilyChoices back;
  assert_string_equal(bus::parse_family_choices(bus::family_choices_json(choices), &back).c_str(),
                      "");
  assert_int_equal(back.size(), 3);
  assert_false(back.at("b").enabled);
  assert_int_equal(static_cast<int>(back.at("b").origin), static_cast<int>(Origin::kApi));
  assert_string_equal(back.at("b").file_said.c_str(), "true");

  assert_string_not_equal(bus::parse_family_choices("[]", &back).c_str(), "");
  assert_string_not_equal(
      bus::parse_family_choices(R"({"families":{"a":{"enabled":1,"origin":"api"}}})", &back)
          .c_str(),
      "");
  assert_string_not_equal(bus::parse_family_choices(
                              R"({"families":{"a":{"enabled":true,"origin":"elsewhere"}}})", &back)
                              .c_str(),
                          "");

  char dir[] = "/tmp/edgemon-selection-XXXXXX";
  assert_non_null(mkdtemp(dir));
  std::string path = std::string(dir) + "/metrics.json";
  assert_string_equal(bus::load_family_choices(path, &back).c_str(), "");  // missing: empty
  assert_true(back.empty());
  std::ofstream(path) << "{broken";
  std::string err = bus::load_family_choices(path, &back);
  assert_contains(err, "kept as");
  struct stat st;
  assert_int_equal(stat((path + ".bad").c_str(), &st), 0);
  assert_int_not_equal(stat(path.c_str(), &st), 0);
  std::remove((path + ".bad").c_str());
  rmdir(dir);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(auto_is_a_deny_list_until_something_is_switched_on),
      cmocka_unit_test(discovered_families_follow_new_metrics_as_it_is_now),
      cmocka_unit_test(enabled_metrics_is_converted_and_metrics_wins),
      cmocka_unit_test(the_api_stands_until_the_file_entry_is_edited),
      cmocka_unit_test(the_record_is_bounded),
      cmocka_unit_test(the_bus_filters_every_subscriber),
      cmocka_unit_test(the_record_round_trips_and_a_broken_one_is_kept_aside),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
