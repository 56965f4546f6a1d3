#pragma once
// The bus's second channel: points on their way to what keeps or sends them
// (the history, the outputs, the hub's view of pushed series). A point is
// made once -- from a source's publication, a round of the host collectors
// or a body pushed to the hub -- and every consumer reads the same one.
#include <any>
#include <functional>
#include <span>
#include <string>

#include "metrics/point.hpp"

namespace edgemon::bus {

// What a consumer made of pushed points off the loop, in its own type (a
// shared_ptr, so that it moves cheaply); empty when nothing was prepared.
using Prepared = std::any;

class PointConsumer {
 public:
  // Called once with "" when the points are durable, or with why not.
  using Durable = std::function<void(const std::string& error)>;
  // Runs on the ingest parser thread: may use only what it captured.
  using Preparer = std::function<Prepared(std::span<const metrics::Point>)>;

  virtual ~PointConsumer() = default;

  // Points this daemon made, on the loop: `host` in the host schema, and
  // for a round of the host collectors the original system_metrics point.
  virtual void take_own(std::span<const metrics::Point> host,
                        std::span<const metrics::Point> system_metrics) = 0;

  // Pushed points. The preparer is taken on the loop when a request is
  // admitted, from the consumer's settings then; null when there is nothing
  // worth doing off the loop.
  virtual Preparer ingest_preparer() const { return nullptr; }
  // On the loop, with what the preparer made (empty if there was none, or
  // if the consumers changed since). Only a consumer whose makes_durable()
  // is true calls `durable`, exactly once; the others are handed the points
  // only once those have made them durable (and get a null `durable`).
  virtual void take_ingested(std::span<const metrics::Point> points, Prepared&& prepared,
                             const Durable& durable) = 0;
  virtual bool makes_durable() const { return false; }
  // Whether take_ingested() reads the points themselves, given what the
  // preparer made: if no consumer that waits for durability does, the bus
  // frees them as soon as the durable ones have them.
  virtual bool reads_points(const Prepared&) const { return true; }
};

}  // namespace edgemon::bus
