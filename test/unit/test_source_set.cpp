// The source seam: instances of a kind registered here (a "probe" that runs
// a child and counts its collections in the durable state), run by a
// SourceSet across reloads, with their publications in the /metrics
// registry.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "bus/latest_registry.hpp"
#include "cmocka_all.hpp"
#include "core/child_launcher.hpp"
#include "core/child_process.hpp"
#include "core/config_loader.hpp"
#include "loop_helpers.hpp"
#include "metrics/prometheus_text.hpp"
#include "sources/source.hpp"
#include "sources/source_set.hpp"

using namespace edgemon;
using edgemon::test::run_until;
using edgemon::test::TestLoop;
using namespace std::chrono_literals;

namespace {

struct ProbeOptions {
  std::string flavour = "plain";
  int64_t fail = 0;
  template <class V>
  void visit(V& v) {
    v.field("flavour", flavour, "Changing it makes the instance restart.", nullptr);
    v.field("fail", fail, "1: every collection fails; 2: fails after publishing probe_up 0.",
            config::IntRange{0, 2});
  }
};

int g_stops = 0;

ChildOptions sleeper() {
  ChildOptions o;
  o.name = "probe";
  o.argv = {"sleep", "60"};
  return o;
}

class Probe final : public sources::Source {
 public:
  explicit Probe(sources::SourceContext& c) : c_(c), child_(c.loop, sleeper(), {}) {}
  void start() override { child_.start(); }
  void collect(std::function<void(sources::Status)> done) override {
    int64_t fail = c_.instance.as<ProbeOptions>().fail;
    if (fail == 2) {
      metrics::SnapshotRecorder r;
      r.begin({"probe_up", "Whether the probed thing answered.", metrics::Type::kGauge});
      r.sample(0);
      c_.publish(r.take());
    }
    if (fail != 0) {
      done(sources::Status::failed("probe told to fail"));
      return;
    }
    auto before = c_.state.get("count");
    int64_t count = before ? std::stoll(*before) + 1 : 1;
    (void)c_.state.put("count", std::to_string(count));
    ++collections_;
    metrics::SnapshotRecorder r;
    r.begin({"probe_count", "Collections so far, kept in the state.", metrics::Type::kCounter});
    r.sample(static_cast<double>(count));
    r.begin({"probe_child_pid", "The child's pid.", metrics::Type::kGauge});
    r.sample(static_cast<double>(child_.status().pid));
    c_.publish(r.take());
    done(sources::Status::fine());
  }
  void stop(std::function<void()> done) override {
    ++g_stops;
    child_.stop(std::move(done));
  }

 private:
  sources::SourceContext& c_;
  ChildProcess child_;
  int collections_ = 0;
};

const sources::SourceRegistration kProbe{
    {"sources", "probe", "A test source.", config::make_options<ProbeOptions>, 50ms},
    [](sources::SourceContext& c) { return std::make_unique<Probe>(c); }};

config::Config load(const std::string& yaml) {
  config::Config c;
  config::Errors errors = config::load_yaml_string(yaml, "test.yaml", &c);
  for (const auto& e : errors)
    fprintf(stderr, "%s\n", e.to_string().c_str());
  assert_int_equal(errors.size(), 0);
  errors = config::validate(c);
  assert_int_equal(errors.size(), 0);
  return c;
}

// What the registry would put in /metrics.
std::string exposition(const bus::LatestRegistry& registry) {
  std::string out;
  metrics::PrometheusTextWriter writer(out);
  registry.write(writer);
  return out;
}

// The value of the first line starting with `series` (-1 if absent).
double value_of(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + series.size() + 2, nullptr);
}

struct Fixture {
  TestLoop l;
  http::HttpClient http{&l.loop};
  store::StateStore state{&l.loop};
  bus::Bus bus;
  bus::LatestRegistry registry;
  sources::SourceSet set{&l.loop, http, state, bus};
  int withdrawals = 0;
  Fixture() {
    bus.subscribe([this](const bus::Publication& p) {
      registry.on_publication(p);
      if (!p.families) ++withdrawals;
    });
  }
  ~Fixture() {
    bool stopped = false;
    set.stop([&] { stopped = true; });
    assert_true(run_until(&l.loop, [&] { return stopped; }));
  }
  std::string text() { return "\n" + exposition(registry); }
  double count(const char* source) {
    return value_of(text(), std::string("probe_count{source=\"") + source + "\"}");
  }
  double pid(const char* source) {
    return value_of(text(), std::string("probe_child_pid{source=\"") + source + "\"}");
  }
};

const char* kOne =
    "sources:\n"
    "  probe:\n"
    "    - name: one\n"
    "      interval: 100ms\n";

void unchanged_instance_keeps_running(void**) {
  Fixture f;
  config::Config c = load(kOne);
  f.set.configure(c.sources.kinds);
  assert_true(run_until(&f.l.loop, [&] { return f.pid("one") > 0 && f.count("one") >= 2; }));
  double pid = f.pid("one");
  int stops = g_stops;
  // A reload that reads the same options from a fresh configuration.
  config::Config again = load(kOne);
  f.set.configure(again.sources.kinds);
  double count = f.count("one");
  assert_true(run_until(&f.l.loop, [&] { return f.count("one") >= count + 2; }));
  assert_int_equal(g_stops, stops);
  assert_true(f.pid("one") == pid);
  assert_int_equal(kill(static_cast<pid_t>(pid), 0), 0);
  assert_int_equal(f.set.running(), 1);
}

void changed_instance_restarts_and_keeps_state(void**) {
  Fixture f;
  f.set.configure(load(kOne).sources.kinds);
  assert_true(run_until(&f.l.loop, [&] { return f.pid("one") > 0 && f.count("one") >= 2; }));
  double pid = f.pid("one");
  int stops = g_stops;
  std::string changed = std::string(kOne) + "      flavour: spicy\n";
  f.set.configure(load(changed).sources.kinds);
  assert_int_equal(g_stops, stops + 1);
  double count = f.count("one");
  assert_true(run_until(&f.l.loop, [&] { return f.pid("one") > 0 && f.pid("one") != pid; }));
  // The old child is gone; the durable count went on from where it was.
  assert_true(run_until(&f.l.loop, [&] { return kill(static_cast<pid_t>(pid), 0) != 0; }));
  assert_true(f.count("one") > count);
  // The old instance was withdrawn once, when the reload stopped it; its
  // stopping later did not take its successor's series away.
  assert_int_equal(f.withdrawals, 1);
}

void removed_instance_withdraws_and_forgets(void**) {
  Fixture f;
  std::string two = std::string(kOne) + "    - name: two\n      interval: 100ms\n";
  f.set.configure(load(two).sources.kinds);
  assert_true(run_until(&f.l.loop, [&] { return f.count("one") > 0 && f.count("two") > 0; }));
  // One family, two sources: one HELP line.
  std::string text = f.text();
  assert_int_equal(text.find("# HELP probe_count"), text.rfind("# HELP probe_count"));
  f.set.configure(load(kOne).sources.kinds);
  // Withdrawn at once; the state goes once the source has stopped.
  assert_int_equal(f.withdrawals, 1);
  assert_true(f.count("two") < 0);
  assert_true(f.count("one") > 0);
  assert_true(run_until(&f.l.loop, [&] { return !f.state.get("probe/two", "count").has_value(); }));
  assert_true(f.state.get("probe/one", "count").has_value());
}

void failing_instance_withdraws_its_series(void**) {
  Fixture f;
  f.set.configure(load(kOne).sources.kinds);
  assert_true(run_until(&f.l.loop, [&] { return f.count("one") > 0; }));
  f.set.configure(load(std::string(kOne) + "      fail: 1\n").sources.kinds);
  assert_true(run_until(&f.l.loop, [&] {
    auto s = f.set.statuses();
    return s.size() == 1 && !s[0].up && s[0].failures > 0;
  }));
  assert_true(f.count("one") < 0);
  std::string health;
  metrics::PrometheusTextWriter writer(health);
  f.set.write_metrics(writer);
  assert_non_null(strstr(health.c_str(), "edgemon_source_up{kind=\"probe\",source=\"one\"} 0"));
}

// A meter that cannot be reached says so (probe_up 0) and fails: what it
// said stands, what it published before is gone, and its health is down.
void failing_instance_keeps_what_it_published_while_failing(void**) {
  Fixture f;
  f.set.configure(load(kOne).sources.kinds);
  assert_true(run_until(&f.l.loop, [&] { return f.count("one") > 0; }));
  f.set.configure(load(std::string(kOne) + "      fail: 2\n").sources.kinds);
  assert_true(run_until(&f.l.loop, [&] {
    auto s = f.set.statuses();
    return s.size() == 1 && !s[0].up && s[0].failures > 0;
  }));
  assert_true(f.count("one") < 0);
  assert_true(value_of(f.text(), "probe_up{source=\"one\"}") == 0);
}

void instance_options_are_checked(void**) {
  config::Config c;
  config::Errors errors = config::load_yaml_string(
      "sources:\n  probe:\n    - name: one\n      interval: 10ms\n      flavor: x\n"
      "    - name: one\n",
      "t.yaml", &c);
  assert_int_equal(errors.size(), 2);
  assert_non_null(strstr(errors[0].to_string().c_str(), "sources.probe[0].interval"));
  assert_non_null(strstr(errors[1].to_string().c_str(), "did you mean 'flavour'"));
  errors = config::validate(c);
  assert_int_equal(errors.size(), 1);
  assert_non_null(strstr(errors[0].to_string().c_str(), "already the name"));
  // Flags reach an instance's keys as they reach list items.
  config::Config d;
  assert_string_equal(config::set_key(&d, "sources.probe.0.flavour", "sweet").c_str(), "");
  assert_string_equal(config::set_key(&d, "sources.probe.0.name", "flagged").c_str(), "");
  assert_int_equal(d.sources.kinds.instances.size(), 1);
  assert_string_equal(d.sources.kinds.instances[0].as<ProbeOptions>().flavour.c_str(), "sweet");
  // The reference file documents the kind's keys.
  std::string reference = config::render_reference_yaml();
  assert_non_null(strstr(reference.c_str(), "#    flavour: plain"));
}

}  // namespace

int main() {
  set_child_launcher(EDGEMON_BIN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(unchanged_instance_keeps_running),
      cmocka_unit_test(changed_instance_restarts_and_keeps_state),
      cmocka_unit_test(removed_instance_withdraws_and_forgets),
      cmocka_unit_test(failing_instance_withdraws_its_series),
      cmocka_unit_test(failing_instance_keeps_what_it_published_while_failing),
      cmocka_unit_test(instance_options_are_checked),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
