#pragma once
// The one place where what sources see fans out. Two channels:
//
// - Families: a source publishes the whole of what it sees now (a snapshot
//   of families, replacing its previous one) or withdraws it; subscribers
//   are the latest-value registry behind /metrics and the renderer of
//   points (sources/own_points.hpp).
// - Points (point_consumer.hpp): this daemon's points and the points pushed
//   to the hub reach the history and the outputs, which are consumers.
//
// Loop thread only (except the ingest preparer, which is made to run
// elsewhere); publishing calls every subscriber before it returns.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bus/family_selection.hpp"
#include "bus/point_consumer.hpp"
#include "metrics/snapshot.hpp"

namespace edgemon::bus {

struct Publication {
  std::string kind;    // the source's kind, e.g. "exec"
  std::string source;  // the instance's name, unique among sources
  int64_t time_unix_ms = 0;
  // Null: the source withdrew everything it published (it stopped, or it
  // failed and its last values would look healthy).
  std::shared_ptr<const metrics::Snapshot> families;
  // Whether /metrics labels the series with `source`: yes for kinds with
  // named instances, no for the host collectors, whose families keep
  // node_exporter's exact labels.
  bool label_source = true;
};

class Bus {
 public:
  using Subscriber = std::function<void(const Publication&)>;

  void subscribe(Subscriber subscriber) { subscribers_.push_back(std::move(subscriber)); }
  // Families the selection disables are taken out of every publication
  // before any subscriber sees it (null: every family passes).
  void set_selection(FamilySelection* selection) { selection_ = selection; }
  const FamilySelection* selection() const { return selection_; }
  void publish(const Publication& publication);
  uint64_t published() const { return published_; }

  // Consumers are added while wiring, before anything is published, and
  // outlive the bus's use.
  void add_consumer(PointConsumer& consumer) { consumers_.push_back(&consumer); }
  void publish_points(std::span<const metrics::Point> host,
                      std::span<const metrics::Point> system_metrics);

  // Pushed points in two steps: the preparer (taken on the loop when a
  // request is admitted) runs every consumer's preparation on the parser
  // thread; publish_ingested() hands the results over on the loop and calls
  // `durable` once every consumer that makes points durable has said so
  // (the first error wins), at once when none does. The other consumers
  // get the points just before `durable` is called without an error, and
  // never when it is called with one.
  using IngestPreparer = std::function<std::vector<Prepared>(std::span<const metrics::Point>)>;
  IngestPreparer ingest_preparer() const;
  void publish_ingested(std::vector<metrics::Point>&& points, std::vector<Prepared>&& prepared,
                        PointConsumer::Durable durable);
  // Where pushed points go once no consumer needs them: freeing a large
  // batch on the loop cost a hub a third of its loop time, half of it
  // waiting for the allocator's lock that the threads making points hold.
  // Null: freed where they are dropped.
  using Disposer = std::function<void(std::vector<metrics::Point>&&)>;
  void set_disposer(Disposer disposer) { disposer_ = std::move(disposer); }

 private:
  void deliver(const Publication& publication);

  std::vector<Subscriber> subscribers_;
  FamilySelection* selection_ = nullptr;
  Disposer disposer_;
  std::vector<PointConsumer*> consumers_;
  uint64_t published_ = 0;
};

}  // namespace edgemon::bus
