#include "bus/bus.hpp"

namespace edgemon::bus {

void Bus::publish(const Publication& publication) {
  ++published_;
  if (selection_ != nullptr && publication.families != nullptr) {
    if (auto kept = selection_->filter(*publication.families)) {
      Publication filtered = publication;
      filtered.families = std::move(kept);
      deliver(filtered);
      return;
    }
  }
  deliver(publication);
}

void Bus::deliver(const Publication& publication) {
  for (const auto& s : subscribers_)
    s(publication);
}

void Bus::publish_points(std::span<const metrics::Point> host,
                         std::span<const metrics::Point> system_metrics) {
  if (host.empty() && system_metrics.empty()) return;
  for (PointConsumer* c : consumers_)
    c->take_own(host, system_metrics);
}

Bus::IngestPreparer Bus::ingest_preparer() const {
  std::vector<PointConsumer::Preparer> each;
  each.reserve(consumers_.size());
  for (const PointConsumer* c : consumers_)
    each.push_back(c->ingest_preparer());
  return [each = std::move(each)](std::span<const metrics::Point> points) {
    std::vector<Prepared> made(each.size());
    for (size_t i = 0; i < each.size(); ++i) {
      if (each[i]) made[i] = each[i](points);
    }
    return made;
  };
}

void Bus::publish_ingested(std::vector<metrics::Point>&& points, std::vector<Prepared>&& prepared,
                           PointConsumer::Durable durable) {
  // Prepared for other consumers than these (cannot happen once wired, but
  // a mismatch must cost a preparation on the loop, not a wrong cast).
  if (prepared.size() != consumers_.size()) prepared.assign(consumers_.size(), Prepared{});
  // The consumers that only keep points (the history, the view of pushed
  // series) get them once every one that makes them durable has: a push
  // answered "not stored" is then stored nowhere, and the client's retry
  // is not counted twice in the history's aggregates.
  struct Join {
    size_t waiting = 0;
    std::string error;
    std::vector<metrics::Point> points;
    std::vector<Prepared> prepared;
    PointConsumer::Durable done;
  };
  auto join = std::make_shared<Join>();
  join->points = std::move(points);
  join->prepared = std::move(prepared);
  join->done = std::move(durable);
  for (const PointConsumer* c : consumers_)
    join->waiting += c->makes_durable() ? 1 : 0;
  // Held until every durable consumer has been handed the points, so that
  // an answer given synchronously by the first cannot come before the
  // others took theirs.
  ++join->waiting;
  auto settle = [this, join](const std::string& error) {
    if (join->error.empty()) join->error = error;
    if (--join->waiting > 0) return;
    if (join->error.empty()) {
      for (size_t i = 0; i < consumers_.size(); ++i) {
        if (!consumers_[i]->makes_durable()) {
          consumers_[i]->take_ingested(join->points, std::move(join->prepared[i]), nullptr);
        }
      }
    }
    if (disposer_ && !join->points.empty()) disposer_(std::move(join->points));
    join->done(join->error);
  };
  bool points_wanted = false;
  for (size_t i = 0; i < consumers_.size(); ++i) {
    if (consumers_[i]->makes_durable()) {
      consumers_[i]->take_ingested(join->points, std::move(join->prepared[i]), settle);
    } else {
      points_wanted = points_wanted || consumers_[i]->reads_points(join->prepared[i]);
    }
  }
  // Points take several times their text: not held while the spools commit
  // when what the others need was prepared already.
  if (!points_wanted && disposer_) disposer_(std::move(join->points));
  if (!points_wanted) std::vector<metrics::Point>().swap(join->points);
  settle("");
}

}  // namespace edgemon::bus
