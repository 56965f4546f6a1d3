// `edgemon spool`: argument parsing, locating the file, and the commands.
// Reading commands open the file read-only (WAL lets them read beside a
// writing daemon); changing ones open it read-write and wait for the daemon's
// short transactions. None of them ever repairs or moves the file: that is
// the daemon's decision at its start.
#include "app/spool_command.hpp"

#include <getopt.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "app/config_source.hpp"
#include "app/identity.hpp"
#include "app/spool_print.hpp"
#include "core/config_types.hpp"
#include "store/spool.hpp"

namespace edgemon::app {
namespace {

using store::Spool;

constexpr int kFailed = 1;
constexpr int kUsage = 2;
// Operators' commands may wait this long for the daemon's write lock.
constexpr int kBusyTimeoutMs = 5000;
// Rows fetched per page by the streaming commands (list, dump).
constexpr int64_t kPage = 256;

constexpr const char* kSpoolUsage =
    "usage: edgemon spool [-c FILE | --spool FILE] COMMAND [ARGUMENTS] [OPTIONS]\n"
    "\n"
    "Inspects and manages the spool, the SQLite file where every batch waits until\n"
    "its output has accepted it. Safe beside a running daemon: reading commands\n"
    "open the file read-only; changing ones wait (up to 5s) for the daemon's short\n"
    "transactions.\n"
    "\n"
    "Commands:\n"
    "  stats [--json]                      per output: queued batches, points, bytes,\n"
    "                                      age of the oldest, dead letters; file size\n"
    "  list [--output N] [--after ID] [--limit N]\n"
    "                                      queued batches, oldest first, one per line\n"
    "  show ID                             one queued batch: metadata, then its body\n"
    "  dump [--output N] [--format lp|json]\n"
    "                                      every queued body, oldest first: the line\n"
    "                                      protocol as is, or one JSON object per line\n"
    "  purge [--output N] [--before TIME]  delete queued batches (all, of one output,\n"
    "                                      or created before TIME)\n"
    "  dead-letter [list] [--output N] [--after ID] [--limit N]\n"
    "  dead-letter show ID\n"
    "  dead-letter retry [ID...] [--output N]\n"
    "                                      put dead letters (all, or these) back at\n"
    "                                      the end of their output's queue\n"
    "  dead-letter purge [ID...] [--output N]\n"
    "                                      delete dead letters (all, or these)\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE      find the spool as the daemon would: spool.path, else\n"
    "                         spool.db in the state directory\n"
    "      --spool FILE       the spool file itself\n"
    "      --state-dir DIR    state directory (state_dir)\n"
    "  -s, --set KEY=VALUE    set any configuration key\n"
    "  -o, --output NAME      only the batches of this output\n"
    "      --after ID         start after this batch (or dead letter) id\n"
    "      --limit N          at most N lines\n"
    "      --format lp|json   dump format (default lp)\n"
    "      --before TIME      RFC 3339 (2025-01-31T12:00:00Z), Unix seconds, or a\n"
    "                         duration meaning that long ago (2h, 7d)\n"
    "      --json             stats as one JSON object\n"
    "  -h, --help             this text\n"
    "\n"
    "Exit status: 0 done, 1 failed (no spool, no such id, database error), 2 usage.\n";

struct Args {
  ConfigSource source;
  std::string spool;
  std::string output;
  int64_t limit = 0;
  int64_t after = 0;
  std::string format = "lp";
  std::string before;
  bool json = false;
  std::string given;               // option codes seen, checked against the command
  std::vector<std::string> words;  // the command and its arguments
};

int usage_error(const std::string& message) {
  std::fprintf(stderr, "edgemon spool: %s\n(see `edgemon spool --help`)\n", message.c_str());
  return kUsage;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "edgemon spool: %s\n", message.c_str());
  return kFailed;
}

bool parse_count(const char* text, int64_t* out) {
  return config::parse_int(text, out).empty() && *out >= 0;
}

bool parse_id(const std::string& text, int64_t* out) {
  return config::parse_int(text, out).empty() && *out > 0;
}

// Returns -1 to go on, else the exit code.
int parse_args(int argc, char** argv, Args* a) {
  static const option kOptions[] = {{"config", required_argument, nullptr, 'c'},
                                    {"set", required_argument, nullptr, 's'},
                                    {"state-dir", required_argument, nullptr, 'S'},
                                    {"spool", required_argument, nullptr, 'P'},
                                    {"output", required_argument, nullptr, 'o'},
                                    {"limit", required_argument, nullptr, 'n'},
                                    {"after", required_argument, nullptr, 'a'},
                                    {"format", required_argument, nullptr, 'f'},
                                    {"before", required_argument, nullptr, 'b'},
                                    {"json", no_argument, nullptr, 'j'},
                                    {"help", no_argument, nullptr, 'h'},
                                    {nullptr, 0, nullptr, 0}};
  optind = 1;
  opterr = 0;
  int opt;
  while ((opt = getopt_long(argc, argv, "c:s:o:h", kOptions, nullptr)) != -1) {
    a->given += static_cast<char>(opt);
    switch (opt) {
      case 'c':
        a->source.path = optarg;
        break;
      case 'S':
        a->source.flags.emplace_back("state_dir", optarg);
        break;
      case 'P':
        a->spool = optarg;
        break;
      case 'o':
        a->output = optarg;
        break;
      case 'f':
        a->format = optarg;
        break;
      case 'b':
        a->before = optarg;
        break;
      case 'j':
        a->json = true;
        break;
      case 'h':
        std::fputs(kSpoolUsage, stdout);
        return 0;
      case 's': {
        const char* eq = std::strchr(optarg, '=');
        if (eq == nullptr || eq == optarg) return usage_error("--set expects KEY=VALUE");
        a->source.flags.emplace_back(std::string(static_cast<const char*>(optarg), eq),
                                     std::string(eq + 1));
        break;
      }
      case 'n':
        if (!parse_count(optarg, &a->limit)) return usage_error("--limit expects a count");
        break;
      case 'a':
        if (!parse_count(optarg, &a->after)) return usage_error("--after expects an id");
        break;
      default:
        return usage_error(std::string("unknown option or missing value: ") + argv[optind - 1]);
    }
  }
  for (int i = optind; i < argc; ++i)
    a->words.emplace_back(argv[i]);
  if (a->words.empty())
    return usage_error(
        "which command? stats, list, show, dump, purge, "
        "dead-letter");
  return -1;
}

// Options a command accepts besides the ones that locate the spool.
int check_options(const Args& a, const std::string& command, const char* allowed) {
  for (char c : a.given) {
    if (std::strchr("csSPh", c) != nullptr || std::strchr(allowed, c) != nullptr) continue;
    return usage_error("this option does not apply to " + command);
  }
  return -1;
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Returns -1 and the opened spool, else the exit code.
int open_spool(const Args& a, bool write, std::unique_ptr<Spool>* out) {
  std::string path = a.spool;
  if (path.empty()) {
    config::Config config;
    auto errors = a.source.load(&config);
    if (!errors.empty()) {
      print_errors(errors);
      return kUsage;
    }
    path = spool_path(config);
  }
  if (!file_exists(path)) return fail("no spool at " + path);
  store::SpoolOptions options;
  options.path = path;
  options.read_only = !write;
  options.repair = false;
  options.busy_timeout_ms = kBusyTimeoutMs;
  std::string error;
  *out = Spool::open(options, nullptr, &error);
  if (*out == nullptr) return fail(error);
  return -1;
}

int cmd_stats(Spool& spool, const Args& a) {
  std::vector<store::QueueStats> stats;
  if (std::string e = spool.stats(&stats); !e.empty()) return fail(e);
  if (a.json) {
    std::fputs(stats_json(spool.path(), spool.file_bytes(), stats, now_ms()).c_str(), stdout);
  } else {
    std::fputs(stats_text(spool.path(), spool.file_bytes(), stats, now_ms()).c_str(), stdout);
  }
  return 0;
}

int cmd_list(Spool& spool, const Args& a) {
  std::fputs(batch_header().c_str(), stdout);
  int64_t after = a.after;
  int64_t left = a.limit > 0 ? a.limit : -1;
  std::vector<store::Batch> page;
  while (left != 0) {
    int64_t want = left < 0 || left > kPage ? kPage : left;
    if (std::string e = spool.list(a.output, after, want, &page); !e.empty()) return fail(e);
    for (const auto& b : page)
      std::fputs(batch_line(b).c_str(), stdout);
    if (static_cast<int64_t>(page.size()) < want) break;
    after = page.back().id;
    if (left > 0) left -= want;
  }
  return 0;
}

int cmd_show(Spool& spool, const Args& a) {
  int64_t id = 0;
  if (a.words.size() != 2 || !parse_id(a.words[1], &id)) return usage_error("show expects an ID");
  store::Batch b;
  bool found = false;
  if (std::string e = spool.get(id, &b, &found); !e.empty()) return fail(e);
  if (!found) return fail("no batch " + a.words[1] + " in " + spool.path());
  std::fputs(batch_details(b).c_str(), stdout);
  std::fputs("\n", stdout);
  write_body(b.body, stdout);
  return 0;
}

// Streams every body, reading one at a time: a backlog of any size passes
// through a few hundred KiB of memory.
int cmd_dump(Spool& spool, const Args& a) {
  if (a.format != "lp" && a.format != "json") return usage_error("--format is lp or json");
  bool json = a.format == "json";
  int64_t after = 0;
  int64_t unreadable = 0;
  std::string first_precision;
  std::string printed_precision;
  bool mixed = false;
  std::vector<store::Batch> page;
  for (;;) {
    if (std::string e = spool.list(a.output, after, kPage, &page); !e.empty()) return fail(e);
    for (const auto& listed : page) {
      store::Batch b;
      bool found = false;
      if (std::string e = spool.get(listed.id, &b, &found); !e.empty()) {
        std::fprintf(stderr, "edgemon spool: skipped %s\n", e.c_str());
        ++unreadable;
        continue;
      }
      if (!found) continue;  // sent by the daemon since it was listed
      if (first_precision.empty()) first_precision = b.precision;
      mixed = mixed || b.precision != first_precision;
      if (!json && b.precision != printed_precision) {
        // Timestamps carry no unit: without it, influxd reads milliseconds
        // as nanoseconds and the points land in 1970. InfluxDB and `influx
        // -import` skip lines that start with '#'.
        std::printf("# edgemon spool dump: timestamps below are in precision=%s (send with "
                    "/write?precision=%s, or influx -import -precision %s)\n",
                    b.precision.c_str(), b.precision.c_str(), b.precision.c_str());
        printed_precision = b.precision;
      }
      if (json) {
        std::fputs(batch_json(b, true).c_str(), stdout);
      } else {
        write_body(b.body, stdout);
      }
    }
    if (static_cast<int64_t>(page.size()) < kPage) break;
    after = page.back().id;
  }
  if (mixed && !json) {
    std::fputs(
        "edgemon spool: note: the batches have different precisions; dump one output at "
        "a time (--output) to write them back with the right one\n",
        stderr);
  }
  if (std::fflush(stdout) != 0) return fail("write: " + std::string(std::strerror(errno)));
  return unreadable > 0 ? kFailed : 0;
}

int cmd_purge(Spool& spool, const Args& a, int64_t before_ms) {
  store::Removed removed;
  if (std::string e = spool.purge(a.output, before_ms, &removed); !e.empty()) return fail(e);
  std::printf("purged %s\n", removed_text(removed, "batch", "batches").c_str());
  // Give the space back now rather than at the daemon's next reclaim.
  if (std::string e = spool.reclaim_space(); !e.empty()) {
    std::fprintf(stderr, "edgemon spool: reclaiming space: %s\n", e.c_str());
  }
  return 0;
}

int dead_letter_list(Spool& spool, const Args& a) {
  std::fputs(dead_letter_header().c_str(), stdout);
  int64_t after = a.after;
  int64_t left = a.limit > 0 ? a.limit : -1;
  std::vector<store::DeadLetter> page;
  while (left != 0) {
    int64_t want = left < 0 || left > kPage ? kPage : left;
    if (std::string e = spool.list_dead_letters(a.output, after, want, false, &page); !e.empty()) {
      return fail(e);
    }
    for (const auto& d : page)
      std::fputs(dead_letter_line(d).c_str(), stdout);
    if (static_cast<int64_t>(page.size()) < want) break;
    after = page.back().id;
    if (left > 0) left -= want;
  }
  return 0;
}

int dead_letter_show(Spool& spool, const Args& a) {
  int64_t id = 0;
  if (a.words.size() != 3 || !parse_id(a.words[2], &id)) {
    return usage_error("dead-letter show expects an ID");
  }
  std::vector<store::DeadLetter> found;
  if (std::string e = spool.list_dead_letters(a.output, id - 1, 1, true, &found); !e.empty()) {
    return fail(e);
  }
  if (found.empty() || found[0].id != id) {
    return fail("no dead letter " + a.words[2] + " in " + spool.path());
  }
  std::fputs(dead_letter_details(found[0]).c_str(), stdout);
  std::fputs("\n", stdout);
  write_body(found[0].body, stdout);
  return 0;
}

// retry or purge: the given ids, or all (of --output).
int dead_letter_change(Spool& spool, const Args& a, bool retry) {
  std::vector<int64_t> ids;
  for (size_t i = 2; i < a.words.size(); ++i) {
    int64_t id = 0;
    if (!parse_id(a.words[i], &id)) return usage_error("not a dead letter id: " + a.words[i]);
    ids.push_back(id);
  }
  store::Removed done;
  std::string e = retry ? spool.retry_dead_letters(a.output, ids, &done)
                        : spool.purge_dead_letters(a.output, ids, &done);
  if (!e.empty()) return fail(e);
  std::printf("%s %s\n", retry ? "requeued" : "purged",
              removed_text(done, "dead letter", "dead letters").c_str());
  if (!ids.empty() && done.batches < static_cast<int64_t>(ids.size())) {
    return fail(std::to_string(static_cast<int64_t>(ids.size()) - done.batches) +
                " of the given ids are not dead letters" +
                (a.output.empty() ? "" : " of output " + a.output));
  }
  return 0;
}

int run_dead_letter(const Args& a) {
  std::string action = a.words.size() > 1 ? a.words[1] : "list";
  bool changes = action == "retry" || action == "purge";
  if (action == "list" || action == "show" || changes) {
    const char* allowed = action == "list" ? "ona" : "o";
    if (int rc = check_options(a, "dead-letter " + action, allowed); rc >= 0) return rc;
  } else {
    return usage_error("dead-letter takes list, show, retry or purge, not '" + action + "'");
  }
  if (action == "list" && a.words.size() > 2) return usage_error("dead-letter list takes no ID");
  std::unique_ptr<Spool> spool;
  if (int rc = open_spool(a, changes, &spool); rc >= 0) return rc;
  if (action == "list") return dead_letter_list(*spool, a);
  if (action == "show") return dead_letter_show(*spool, a);
  return dead_letter_change(*spool, a, action == "retry");
}

struct Command {
  const char* name;
  const char* allowed;  // option codes besides the locating ones
  bool writes;
  size_t max_words;  // the command word included
};

constexpr Command kCommands[] = {
    {"stats", "j", false, 1}, {"list", "ona", false, 1}, {"show", "", false, 2},
    {"dump", "of", false, 1}, {"purge", "ob", true, 1},
};

int run(const Args& a) {
  const std::string& name = a.words[0];
  if (name == "dead-letter") return run_dead_letter(a);
  const Command* command = nullptr;
  for (const Command& c : kCommands) {
    if (name == c.name) command = &c;
  }
  if (command == nullptr) return usage_error("unknown command '" + name + "'");
  if (int rc = check_options(a, name, command->allowed); rc >= 0) return rc;
  if (a.words.size() > command->max_words) {
    return usage_error("unexpected argument '" + a.words[command->max_words] + "'");
  }
  int64_t before_ms = 0;
  if (!a.before.empty()) {
    if (std::string e = parse_point_in_time(a.before, now_ms(), &before_ms); !e.empty()) {
      return usage_error("--before: " + e);
    }
  }
  std::unique_ptr<Spool> spool;
  if (int rc = open_spool(a, command->writes, &spool); rc >= 0) return rc;
  if (name == "stats") return cmd_stats(*spool, a);
  if (name == "list") return cmd_list(*spool, a);
  if (name == "show") return cmd_show(*spool, a);
  if (name == "dump") return cmd_dump(*spool, a);
  return cmd_purge(*spool, a, before_ms);
}

}  // namespace

int spool_command(int argc, char** argv) {
  Args a;
  if (int rc = parse_args(argc, argv, &a); rc >= 0) return rc;
  return run(a);
}

}  // namespace edgemon::app
