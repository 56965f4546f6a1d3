#pragma once
// Cuts a byte stream into lines for readers that want whole lines: a child's
// stdout, later a followed log file. A line longer than the limit is cut at
// the limit and the rest of it skipped, so a writer that never sends a
// newline cannot grow our memory without bound.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace edgemon {

class LineSplitter {
 public:
  // `line` is without its newline and valid only during the call; `cut`
  // says the line was longer than max_bytes and this is its beginning.
  using Callback = std::function<void(std::string_view line, bool cut)>;

  LineSplitter(size_t max_bytes, Callback callback);

  void feed(std::string_view data);
  // End of the stream: an unterminated last line is still a line.
  void finish();
  // Forgets a partial line without delivering it.
  void clear();

 private:
  size_t max_bytes_;
  Callback callback_;
  std::string partial_;
  // The current line was cut: what follows up to its newline is dropped.
  bool skipping_ = false;
};

}  // namespace edgemon
