// Appends batches to a spool through the real Spool class, so the
// integration tests of `edgemon spool` run against a file our own code wrote.
//
//   spool_fill FILE OUTPUT COUNT POINTS [--precision P] [--created-ms MS]
//              [--step-ms MS] [--dead STATUS] [--sync normal|full] [--per-batch]
//
// Each batch holds POINTS lines `spool_fill,output=OUTPUT,batch=K v=Ni T`.
// Batch K is created at MS + K * step (default: now, 1000). --dead moves the
// new batches straight to dead_letters with that HTTP status. Prints the ids
// added, one per line. --per-batch commits each batch in its own
// transaction, as the daemon does (bench/spool_bench.py times it that way).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "store/spool.hpp"

using namespace edgemon::store;

namespace {

int64_t arg_int(const char* text) {
  return std::strtoll(text, nullptr, 10);
}

int64_t scale_from_ms(const std::string& precision, int64_t ms) {
  if (precision == "ns") return ms * 1000000;
  if (precision == "us") return ms * 1000;
  if (precision == "s") return ms / 1000;
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fputs(
        "usage: spool_fill FILE OUTPUT COUNT POINTS [--precision P] [--created-ms MS] "
        "[--step-ms MS] [--dead STATUS] [--sync normal|full] [--per-batch]\n",
        stderr);
    return 2;
  }
  std::string precision = "ms";
  int64_t created = 0;
  int64_t step = 1000;
  int dead = 0;
  bool sync_full = false;
  bool per_batch = false;
  for (int i = 5; i < argc; ++i) {
    if (std::strcmp(argv[i], "--per-batch") == 0) {
      per_batch = true;
      continue;
    }
    if (i + 1 >= argc) break;
    if (std::strcmp(argv[i], "--sync") == 0) sync_full = std::strcmp(argv[i + 1], "full") == 0;
    if (std::strcmp(argv[i], "--precision") == 0) precision = argv[i + 1];
    if (std::strcmp(argv[i], "--created-ms") == 0) created = arg_int(argv[i + 1]);
    if (std::strcmp(argv[i], "--step-ms") == 0) step = arg_int(argv[i + 1]);
    if (std::strcmp(argv[i], "--dead") == 0) dead = static_cast<int>(arg_int(argv[i + 1]));
    ++i;
  }
  if (created == 0) {
    created = static_cast<int64_t>(std::time(nullptr)) * 1000;
  }
  SpoolOptions options;
  options.path = argv[1];
  options.sync_full = sync_full;
  std::string error;
  auto spool = Spool::open(options, nullptr, &error);
  if (!spool) {
    std::fprintf(stderr, "spool_fill: %s\n", error.c_str());
    return 1;
  }
  std::string output = argv[2];
  int64_t count = arg_int(argv[3]);
  int64_t points = arg_int(argv[4]);
  std::vector<NewBatch> batches;
  std::vector<int64_t> ids;
  for (int64_t k = 0; k < count && error.empty(); ++k) {
    NewBatch b{output, created + k * step, points, precision, ""};
    for (int64_t p = 0; p < points; ++p) {
      b.body += "spool_fill,output=" + output + ",batch=" + std::to_string(k) +
                " v=" + std::to_string(p) + "i " +
                std::to_string(scale_from_ms(precision, b.created_ms) + p) + "\n";
    }
    batches.push_back(std::move(b));
    if (per_batch) {
      std::vector<int64_t> one;
      error = spool->append(batches, &one);
      ids.insert(ids.end(), one.begin(), one.end());
      batches.clear();
    }
  }
  if (!per_batch && error.empty()) error = spool->append(batches, &ids);
  if (error.empty() && dead != 0) {
    error = spool->dead_letter(ids, dead, "spool_fill: HTTP " + std::to_string(dead));
  }
  if (!error.empty()) {
    std::fprintf(stderr, "spool_fill: %s\n", error.c_str());
    return 1;
  }
  for (int64_t id : ids)
    std::printf("%lld\n", static_cast<long long>(id));
  return 0;
}
