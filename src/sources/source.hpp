#pragma once
// The source seam. A source kind is one folder under sources/: its options
// struct, a class implementing Source, and one SourceRegistration line;
// nothing central lists kinds or their keys (see HACKING.md, "Adding a
// source").
//
// A source lives on the loop from start() to stop(): it may keep timers,
// child processes (core/child_process.hpp), HTTP requests and state across
// collections. Polled kinds (KindDecl::default_interval > 0) are asked to
// collect() on their instance's interval; event-driven ones publish when
// something happens. Either way a source publishes the whole of what it
// sees now, and a SourceSet keeps every instance whose options did not
// change across reloads -- with its children and its state.
#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "core/options.hpp"
#include "http/http_client.hpp"
#include "metrics/snapshot.hpp"
#include "store/state_store.hpp"

namespace edgemon::sources {

// What a collection, a start or a child's report came to.
struct [[nodiscard]] Status {
  std::string error;  // empty: fine

  bool ok() const { return error.empty(); }
  static Status fine() { return {}; }
  static Status failed(std::string why) { return {std::move(why)}; }
};

// Given to a source for its whole life; outlives it.
struct SourceContext {
  uv_loop_t* loop;
  http::HttpClient& http;
  // This instance's durable state ("KIND/NAME" scope of the state store):
  // offsets, discovered metrics, last-seen times. Kept across restarts of
  // edgemon, cleared when the instance is removed from the configuration.
  store::ScopedState state;
  const config::Instance& instance;
  // Replaces what this instance published before. Families are recorded
  // once and shared by every consumer.
  std::function<void(std::shared_ptr<const metrics::Snapshot>)> publish;
  // An event-driven source's health, for edgemon_source_up and /status:
  // a failed status also withdraws what it published.
  std::function<void(const Status&)> report;
};

class Source {
 public:
  virtual ~Source() = default;

  // Starts children, watches, timers. A failure is reported, not thrown,
  // and the instance keeps running (a missing binary may be installed later).
  virtual void start() {}
  // Polled kinds: gathers and publishes, then calls `done` exactly once
  // (possibly before returning). Must not block the loop. A failed status
  // withdraws what the instance published before this collection; what it
  // published during it stands (an unreachable meter's `up 0`, which must
  // not read as 0 W nor disappear).
  virtual void collect(std::function<void(Status)> done) { done(Status::fine()); }
  // Releases what start() took; `done` runs once everything is closed (a
  // child reaped). The source is destroyed after `done`.
  virtual void stop(std::function<void()> done) { done(); }
};

using SourceFactory = std::function<std::unique_ptr<Source>(SourceContext& context)>;

// One line per kind, at namespace scope in the kind's own file: declares its
// options to the configuration and its factory to the SourceSet.
class SourceRegistration {
 public:
  SourceRegistration(config::KindDecl decl, SourceFactory factory);

 private:
  config::KindRegistration config_;
};

// The factory registered for `kind`, or null.
const SourceFactory* find_source_factory(std::string_view kind);

}  // namespace edgemon::sources
