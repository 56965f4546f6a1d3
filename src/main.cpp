// edgemon command line: run | check | collect | spool | config | version.
#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "app/collect_once.hpp"
#include "app/config_import.hpp"
#include "app/config_source.hpp"
#include "app/daemon.hpp"
#include "app/spool_command.hpp"
#include "build_info.hpp"
#include "core/child_launcher.hpp"
#include "core/config_loader.hpp"
#include "core/read_file.hpp"

namespace {

using edgemon::app::ConfigSource;

constexpr const char* kUsage =
    "usage: edgemon COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  run       run the daemon (HTTP API, collection) until SIGTERM\n"
    "  check     validate a configuration file and report every error\n"
    "  collect   run the collectors once and print Prometheus text or line protocol\n"
    "  spool     inspect and manage the spool: stats, list, show, dump, purge, dead letters\n"
    "  config    print the reference configuration: every key, default and meaning\n"
    "  version   print version and build information\n"
    "\n"
    "`edgemon COMMAND --help` describes each command's options.\n";

constexpr const char* kRunUsage =
    "usage: edgemon run [-c FILE] [--listen HOST:PORT]... [--state-dir DIR]\n"
    "                   [--log-level LEVEL] [--set KEY=VALUE]...\n"
    "\n"
    "Runs the daemon. Without -c it runs on the embedded defaults: host\n"
    "collection every 15s and the HTTP API on 127.0.0.1:9110.\n"
    "\n"
    "  -c, --config FILE      YAML configuration (see `edgemon config`)\n"
    "  -l, --listen HOST:PORT listen address; repeat for several; replaces http.listen\n"
    "      --state-dir DIR    directory for local state (state_dir)\n"
    "      --log-level LEVEL  debug, info, warn or error (log.level)\n"
    "  -s, --set KEY=VALUE    set any configuration key, e.g. collect.interval=1s\n"
    "  -h, --help             this text\n"
    "\n"
    "Without -c, LOCAL_CONFIG_PATH names the file if it is set.\n"
    "Precedence: defaults < file < config server (config_server.url) <\n"
    "EDGEMON_* environment < flags.\n"
    "Signals: SIGTERM/SIGINT stop gracefully; SIGHUP reloads the configuration\n"
    "(kept unchanged if the new one is invalid) and reopens the log file.\n";

constexpr const char* kCheckUsage =
    "usage: edgemon check [-c FILE] [--set KEY=VALUE]...\n"
    "\n"
    "Validates the configuration (file, environment and flags as `run` would\n"
    "combine them) and prints every error as FILE:LINE:COLUMN: KEY: MESSAGE.\n"
    "Exits 0 when valid, 2 when not.\n";

constexpr const char* kCollectUsage =
    "usage: edgemon collect --once [-c FILE] [--set KEY=VALUE]...\n"
    "                       [--format prometheus|lp] [--schema host|system_metrics|both]\n"
    "\n"
    "Runs every enabled collector once and prints the Prometheus exposition to\n"
    "stdout. Exits 1 if a collector failed (its error goes to stderr).\n"
    "\n"
    "  --format lp   print InfluxDB line protocol (ns timestamps) instead: the\n"
    "                points an output would send, with device_id, host and tags\n"
    "  --schema S    with --format lp: host (default), system_metrics (the original\n"
    "                edge server's single point; needs two rounds for cpu, so\n"
    "                --once has none) or both\n";

// The options only `collect` takes.
struct CollectFlags {
  bool once = false;
  edgemon::app::CollectOptions options;
  bool schema_given = false;
};

bool parse_collect_flag(int opt, const char* arg, CollectFlags* flags) {
  if (opt == 'o') {
    flags->once = true;
  } else if (opt == 'F') {
    if (std::strcmp(arg, "prometheus") == 0) {
      flags->options.format = edgemon::app::CollectFormat::kPrometheus;
    } else if (std::strcmp(arg, "lp") == 0) {
      flags->options.format = edgemon::app::CollectFormat::kLineProtocol;
    } else {
      std::fprintf(stderr, "edgemon: --format expects prometheus or lp, got '%s'\n", arg);
      return false;
    }
  } else if (!edgemon::collect::parse_host_schema(arg, &flags->options.schema)) {
    std::fprintf(stderr, "edgemon: --schema expects host, system_metrics or both, got '%s'\n", arg);
    return false;
  } else {
    flags->schema_given = true;
  }
  return true;
}

bool add_set_flag(ConfigSource* source, const char* text) {
  const char* eq = std::strchr(text, '=');
  if (eq == nullptr || eq == text) {
    std::fprintf(stderr, "edgemon: --set expects KEY=VALUE, got '%s'\n", text);
    return false;
  }
  source->flags.emplace_back(std::string(text, eq), std::string(eq + 1));
  return true;
}

// Parses the options shared by run, check and collect. Returns -1 to go on,
// otherwise the exit code.
int parse_options(int argc, char** argv, const char* usage, ConfigSource* source,
                  CollectFlags* collect) {
  static const option kOptions[] = {{"config", required_argument, nullptr, 'c'},
                                    {"listen", required_argument, nullptr, 'l'},
                                    {"state-dir", required_argument, nullptr, 'S'},
                                    {"log-level", required_argument, nullptr, 'L'},
                                    {"set", required_argument, nullptr, 's'},
                                    {"once", no_argument, nullptr, 'o'},
                                    {"format", required_argument, nullptr, 'F'},
                                    {"schema", required_argument, nullptr, 'M'},
                                    {"help", no_argument, nullptr, 'h'},
                                    {nullptr, 0, nullptr, 0}};
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "c:l:s:h", kOptions, nullptr)) != -1) {
    switch (opt) {
      case 'c':
        source->path = optarg;
        break;
      case 'l':
        source->flags.emplace_back("http.listen", optarg);
        break;
      case 'S':
        source->flags.emplace_back("state_dir", optarg);
        break;
      case 'L':
        source->flags.emplace_back("log.level", optarg);
        break;
      case 's':
        if (!add_set_flag(source, optarg)) return 2;
        break;
      case 'o':
      case 'F':
      case 'M':
        if (collect == nullptr) {
          std::fputs(usage, stderr);
          return 2;
        }
        if (!parse_collect_flag(opt, optarg, collect)) return 2;
        break;
      case 'h':
        std::fputs(usage, stdout);
        return 0;
      default:
        std::fputs(usage, stderr);
        return 2;
    }
  }
  if (optind < argc) {
    std::fprintf(stderr, "edgemon: unexpected argument '%s'\n%s", argv[optind], usage);
    return 2;
  }
  // The edge power exporter's unit files name the file this way.
  if (const char* local = std::getenv("LOCAL_CONFIG_PATH");
      source->path.empty() && local != nullptr && *local != '\0') {
    source->path = local;
  }
  return -1;
}

constexpr const char* kConfigUsage =
    "usage: edgemon config\n"
    "       edgemon config --import FILE\n"
    "\n"
    "Prints the reference configuration: every key with its default and meaning.\n"
    "\n"
    "  --import FILE  converts the configuration of a tool edgemon replaces (the edge\n"
    "                 power exporter's config.yaml, the platform observability agent's\n"
    "                 agent_config.json) into an edgemon configuration on stdout, and\n"
    "                 lists on stderr every key it could not map and why. Exit status 1\n"
    "                 when the file is not such a configuration.\n";

int cmd_import(const char* path) {
  std::string text;
  if (std::string err = edgemon::read_file(path, &text, 1 << 20); !err.empty()) {
    std::fprintf(stderr, "edgemon config --import: %s\n", err.c_str());
    return 1;
  }
  edgemon::app::ImportedConfig imported = edgemon::app::import_config(text);
  if (!imported.error.empty()) {
    std::fprintf(stderr, "edgemon config --import: %s: %s\n", path, imported.error.c_str());
    return 1;
  }
  std::fputs(imported.yaml.c_str(), stdout);
  for (const auto& u : imported.unmapped)
    std::fprintf(stderr, "edgemon config --import: not mapped: %s\n", u.c_str());
  return 0;
}

int cmd_run(int argc, char** argv) {
  ConfigSource source;
  if (int rc = parse_options(argc, argv, kRunUsage, &source, nullptr); rc >= 0) return rc;
  return edgemon::app::run_daemon(source);
}

int cmd_check(int argc, char** argv) {
  ConfigSource source;
  if (int rc = parse_options(argc, argv, kCheckUsage, &source, nullptr); rc >= 0) return rc;
  edgemon::config::Config config;
  auto errors = source.load(&config);
  if (!errors.empty()) {
    edgemon::app::print_errors(errors);
    std::fprintf(stderr, "%zu error%s\n", errors.size(), errors.size() == 1 ? "" : "s");
    return 2;
  }
  std::printf("%s: OK\n", source.path.empty() ? "(embedded defaults)" : source.path.c_str());
  return 0;
}

int cmd_collect(int argc, char** argv) {
  ConfigSource source;
  CollectFlags flags;
  if (int rc = parse_options(argc, argv, kCollectUsage, &source, &flags); rc >= 0) return rc;
  if (!flags.once) {
    std::fputs("edgemon: collect needs --once (continuous collection is `edgemon run`)\n", stderr);
    return 2;
  }
  if (flags.schema_given && flags.options.format != edgemon::app::CollectFormat::kLineProtocol) {
    std::fputs("edgemon: --schema needs --format lp\n", stderr);
    return 2;
  }
  return edgemon::app::collect_once(source, flags.options);
}

bool wants_help(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  // A child process on its way to exec (core/child_launcher.hpp): nothing
  // else of edgemon may run in it.
  if (argc >= 2 && std::strcmp(argv[1], edgemon::kChildLauncherCommand) == 0) {
    return edgemon::run_child_launcher(argc - 2, argv + 2);
  }
  // Without /proc the children still run, only without the die-with-us guard.
  edgemon::set_child_launcher_to_self();
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string command = argv[1];
  int sub_argc = argc - 1;
  char** sub_argv = argv + 1;
  if (command == "run") return cmd_run(sub_argc, sub_argv);
  if (command == "check") return cmd_check(sub_argc, sub_argv);
  if (command == "collect") return cmd_collect(sub_argc, sub_argv);
  if (command == "spool") return edgemon::app::spool_command(sub_argc, sub_argv);
  if (command == "config" && sub_argc == 3 && std::strcmp(sub_argv[1], "--import") == 0) {
    return cmd_import(sub_argv[2]);
  }
  if (command == "config" || command == "version") {
    if (wants_help(sub_argc, sub_argv)) {
      std::fputs(command == "config" ? kConfigUsage : "usage: edgemon version\n", stdout);
      return 0;
    }
    // An option these do not take is a mistake to report, not to ignore.
    if (sub_argc > 1) {
      std::fprintf(stderr, "edgemon %s: takes no arguments (got '%s'); see --help\n",
                   command.c_str(), sub_argv[1]);
      return 2;
    }
    if (command == "config") {
      std::fputs(edgemon::config::render_reference_yaml().c_str(), stdout);
    } else {
      std::printf("edgemon %s (revision %s, %s build, %s)\n", edgemon::build::kVersion,
                  edgemon::build::kRevision, edgemon::build::kBuildType, edgemon::build::kCompiler);
    }
    return 0;
  }
  if (command == "-h" || command == "--help" || command == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (command == "--version" || command == "-V") {
    std::printf("edgemon %s\n", edgemon::build::kVersion);
    return 0;
  }
  std::fprintf(stderr, "edgemon: unknown command '%s'\n\n%s", command.c_str(), kUsage);
  return 2;
}
