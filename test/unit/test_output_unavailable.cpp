// An output whose kind cannot run in this process (OutputKind::unavailable():
// a library it loads on demand is missing) is failing with why from the
// moment it is made, and sends nothing -- not even a batch an earlier run
// spooled for it -- while an output of the same kind that can run sends it.
#include <uv.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/config.hpp"
#include "core/loop_close.hpp"
#include "http/http_client.hpp"
#include "outputs/influxdb_output.hpp"
#include "outputs/spooled_output.hpp"
#include "store/spool_worker.hpp"
// Last: cmocka's fail() macro breaks later standard headers.
#include "loop_helpers.hpp"

using namespace edgemon;
using namespace std::chrono_literals;

namespace {

constexpr const char* kWhy =
    "cannot load libedgemon-test.so.1 (Debian package libedgemon-test1): not installed";

// A real kind, as it would be on a machine without the library it needs.
class MissingLibraryKind final : public outputs::OutputKind {
 public:
  explicit MissingLibraryKind(std::shared_ptr<const OutputKind> real) : real_(std::move(real)) {}
  std::string_view type() const override { return real_->type(); }
  std::string display_url() const override { return real_->display_url(); }
  metrics::Precision precision() const override { return real_->precision(); }
  std::unique_ptr<outputs::RowEncoder> make_encoder() const override {
    return real_->make_encoder();
  }
  void join_rows(std::span<store::Batch> rows, std::string* body) const override {
    real_->join_rows(rows, body);
  }
  std::optional<outputs::RowCut> cut_row(std::string_view row, int64_t max_items) const override {
    return real_->cut_row(row, max_items);
  }
  outputs::ContentCoding compress(std::string_view body, std::string* wire) const override {
    return real_->compress(body, wire);
  }
  http::ClientRequest request(std::string_view precision) const override {
    return real_->request(precision);
  }
  outputs::WriteOutcome classify(const http::ClientResponse& response) const override {
    return real_->classify(response);
  }
  std::string describe_failure(const http::ClientResponse& response) const override {
    return real_->describe_failure(response);
  }
  std::string unavailable() const override { return kWhy; }

 private:
  std::shared_ptr<const OutputKind> real_;
};

outputs::OutputSpec spec(bool available) {
  config::InfluxOutputConfig c;
  c.name = "o";
  // Nothing listens on port 1: a request is answered at once, with an error.
  c.url = "http://127.0.0.1:1";
  c.database = "db";
  c.retry_initial = 600s;
  c.retry_max = 3600s;
  outputs::OutputSpec s = outputs::influxdb_spec(c);
  if (!available) s.kind = std::make_shared<MissingLibraryKind>(s.kind);
  return s;
}

// Makes an output over a spool holding one old batch for it, hands it the
// queue, and runs the loop until it has failed a request or `wait_ms` passed.
outputs::OutputStats run_output(bool available, int wait_ms) {
  test::TempDir dir("edgemon-unavailable");
  uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  outputs::OutputStats stats;
  {
    http::HttpClient client(&loop);
    store::SpoolWorker spool(&loop);
    std::string error = "not opened";
    spool.open(store::SpoolOptions{dir.file("spool.db")},
               [&](std::string e, store::OpenReport) { error = std::move(e); });
    assert_true(test::run_until(&loop, [&] { return error != "not opened"; }));
    assert_string_equal(error.c_str(), "");
    bool appended = false;
    spool.call<std::string>(
        [](store::Spool* s) {
          std::vector<store::NewBatch> batches{{"o", 1000, 1, "ms", "m v=1 1000\n"}};
          return s->append(batches);
        },
        [&](std::string&& e) {
          error = std::move(e);
          appended = true;
        });
    assert_true(test::run_until(&loop, [&] { return appended; }));
    assert_string_equal(error.c_str(), "");

    outputs::SpooledOutput output(&loop, client, spool, spec(available), nullptr);
    if (!available) {
      // From the start, before anything was queued or sent.
      assert_int_equal(output.stats().state, outputs::OutputState::kFailing);
      assert_string_equal(output.stats().last_error.c_str(), kWhy);
    }
    output.set_spool_ready(true);
    store::QueueStats queue;
    queue.output = "o";
    queue.batches = 1;
    queue.points = 1;
    queue.oldest_created_ms = 1000;  // long due
    output.queue_changed(queue);
    test::run_until(
        &loop, [&] { return output.stats().failed_requests > 0; }, wait_ms);
    stats = output.stats();
  }
  assert_int_equal(close_loop(&loop), 0);
  return stats;
}

void an_output_that_can_run_sends_the_spooled_batch(void**) {
  // The control: the same set-up does send (and fails, as nothing listens).
  outputs::OutputStats s = run_output(true, 5000);
  assert_int_equal(s.failed_requests, 1);
  assert_int_equal(s.state, outputs::OutputState::kRetrying);
}

void an_unavailable_output_is_failing_with_why_and_sends_nothing(void**) {
  outputs::OutputStats s = run_output(false, 500);
  assert_int_equal(s.failed_requests, 0);
  assert_int_equal(s.sent_batches, 0);
  assert_int_equal(s.state, outputs::OutputState::kFailing);
  assert_string_equal(s.last_error.c_str(), kWhy);
  assert_int_equal(s.queue.batches, 1);  // kept in the spool
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(an_output_that_can_run_sends_the_spooled_batch),
      cmocka_unit_test(an_unavailable_output_is_failing_with_why_and_sends_nothing),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
