#include "core/line_splitter.hpp"

#include <algorithm>
#include <utility>

namespace edgemon {

LineSplitter::LineSplitter(size_t max_bytes, Callback callback)
    : max_bytes_(std::max<size_t>(max_bytes, 1)), callback_(std::move(callback)) {}

void LineSplitter::feed(std::string_view data) {
  while (!data.empty()) {
    size_t newline = data.find('\n');
    bool complete = newline != std::string_view::npos;
    std::string_view part = data.substr(0, newline);
    data.remove_prefix(complete ? newline + 1 : data.size());
    if (skipping_) {
      skipping_ = !complete;
      continue;
    }
    size_t room = max_bytes_ - partial_.size();
    if (part.size() > room) {
      // Delivered at once rather than at its newline, which may never come.
      partial_.append(part.substr(0, room));
      std::string line = std::exchange(partial_, {});
      skipping_ = !complete;
      callback_(line, true);
      continue;
    }
    if (!complete) {
      partial_.append(part);
    } else if (partial_.empty()) {
      // The common case, a whole line within one read: no copy.
      callback_(part, false);
    } else {
      partial_.append(part);
      std::string line = std::exchange(partial_, {});
      callback_(line, false);
    }
  }
}

void LineSplitter::finish() {
  skipping_ = false;
  if (partial_.empty()) return;
  std::string line = std::exchange(partial_, {});
  callback_(line, false);
}

void LineSplitter::clear() {
  partial_.clear();
  skipping_ = false;
}

}  // namespace edgemon
