// The non-YAML visitors over the Config declarations: set-by-path (for
// environment variables and flags), the reference-file printer, and the
// checks that span several keys.
#include <algorithm>
#include <cctype>
#include <initializer_list>

#include "core/config_assign.hpp"
#include "core/config_loader.hpp"
#include "core/log.hpp"
#include "core/text.hpp"

namespace edgemon::config {

std::string check_log_level(std::string_view text) {
  log::Level level;
  if (log::parse_level(text, &level)) return "";
  return "expected one of debug, info, warn, error (got '" + std::string(text) + "')";
}

std::string collector_names() {
  std::string list;
  for (const KindDecl* k : registered_kinds("collectors"))
    list += (list.empty() ? "" : ", ") + k->kind;
  return list;
}

std::string check_collector_name(std::string_view text) {
  if (find_kind("collectors", text) != nullptr) return "";
  return "no collector named '" + std::string(text) + "' (known: " + collector_names() + ")";
}

namespace {

bool one_of(std::string_view text, std::initializer_list<std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), text) != allowed.end();
}

bool only_chars(std::string_view text, std::string_view extra) {
  return std::all_of(text.begin(), text.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || extra.find(c) != std::string_view::npos;
  });
}

}  // namespace

std::string check_tag_name(std::string_view text) {
  std::string got = " (got '" + std::string(text) + "')";
  if (text.empty()) return "tag names must not be empty";
  if (!only_chars(text, "_.-")) return "tag names may only use A-Z, a-z, 0-9, _, . and -" + got;
  if (text.front() == '_') return "tag names starting with _ are reserved by InfluxDB" + got;
  if (one_of(text, {"device_id", "host", "time"})) {
    return "'" + std::string(text) + "' is set by edgemon itself and cannot be a tag here";
  }
  return "";
}

std::string check_metric_name(std::string_view text) {
  bool valid = !text.empty() && !std::isdigit(static_cast<unsigned char>(text.front())) &&
               only_chars(text, "_:") && text.size() <= 200;
  if (valid) return "";
  return "metric names are 1 to 200 of A-Z, a-z, 0-9, _ and :, not starting with a digit (got '" +
         std::string(text) + "')";
}

std::string check_new_metrics(std::string_view text) {
  if (one_of(text, {"auto", "enabled", "disabled"})) return "";
  return "expected one of auto, enabled, disabled (got '" + std::string(text) + "')";
}

std::string check_tag_value(std::string_view text) {
  if (text.empty()) return "tag values must not be empty (InfluxDB drops empty tags)";
  if (text.find_first_of("\r\n") != std::string_view::npos) {
    return "tag values must not contain line breaks";
  }
  if (text.size() > 256) {
    return "tag values are at most 256 bytes (got " + std::to_string(text.size()) + ")";
  }
  return "";
}

std::string check_spool_sync(std::string_view text) {
  if (one_of(text, {"normal", "full"})) return "";
  return "expected normal or full (got '" + std::string(text) + "')";
}

// Empty passes the output checks: validate() reports a missing required key
// by name, and the commented example in the reference file stays loadable.
std::string check_output_name(std::string_view text) {
  if (text.size() <= 64 && only_chars(text, "_-") &&
      std::none_of(text.begin(), text.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return "";
  }
  return "expected 1 to 64 of a-z, 0-9, _ and - (got '" + std::string(text) + "')";
}

std::string check_http_url(std::string_view text, std::string_view example) {
  if (text.empty()) return "";
  std::string_view rest = text;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else {
    return "expected an http:// or https:// URL such as " + std::string(example) + " (got '" +
           std::string(text) + "')";
  }
  if (rest.empty() || rest.front() == '/' || rest.front() == ':') return "the URL has no host";
  if (text.find('#') != std::string_view::npos) return "the URL must not have a fragment";
  if (text.find_first_of(" \t\r\n") != std::string_view::npos) {
    return "the URL must not contain spaces or line breaks";
  }
  return "";
}

std::string check_output_url(std::string_view text) {
  if (std::string err = check_http_url(text, "http://127.0.0.1:8086"); !err.empty()) return err;
  if (text.find('?') != std::string_view::npos) {
    return "the URL must not have a query string or fragment; database, org and bucket are keys "
           "of their own";
  }
  return "";
}

std::string check_precision(std::string_view text) {
  if (one_of(text, {"ns", "us", "ms", "s"})) return "";
  return "expected ns, us, ms or s (got '" + std::string(text) + "')";
}

std::string check_output_schema(std::string_view text) {
  if (one_of(text, {"host", "system_metrics", "both"})) return "";
  return "expected host, system_metrics or both (got '" + std::string(text) + "')";
}

std::string ConfigError::to_string() const {
  std::string out;
  if (!file.empty()) {
    out += file;
    if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
    out += ": ";
  }
  if (!key.empty()) out += key + ": ";
  out += message;
  return out;
}

namespace {

// Walks the declarations to one dotted key and assigns text to it.
class KeySetter {
 public:
  // `prefix` is the path already walked, for messages.
  KeySetter(std::string_view path, std::string_view text, bool append, std::string prefix = "")
      : path_(path), text_(text), append_(append), prefix_(std::move(prefix)) {}

  template <detail::ScalarKey T, typename Constraint>
  void field(std::string_view name, T& value, std::string_view, Constraint constraint) {
    if (!matches(name)) return;
    found_ = true;
    error_ = detail::assign(text_, value, constraint);
  }

  void field(std::string_view name, std::vector<std::string>& value, std::string_view,
             StringCheck check) {
    if (!matches(name)) return;
    found_ = true;
    std::vector<std::string> items = append_ ? value : std::vector<std::string>{};
    std::string_view rest = text_;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view item = trim(rest.substr(0, comma));
      if (!item.empty()) {
        if (std::string err = detail::assign_item(item, items, check); !err.empty()) {
          error_ = err;
          return;
        }
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    value = std::move(items);
  }

  // "name=value,name2=value2" sets the whole map (or adds to it when
  // appending); "tags.name" sets one entry.
  void field(std::string_view name, StringMap& value, std::string_view, StringCheck check_name) {
    if (std::string_view entry = below(name); !entry.empty()) {
      found_ = true;
      error_ = detail::assign_entry(entry, text_, value, check_name);
      return;
    }
    if (!matches(name)) return;
    found_ = true;
    StringMap entries = append_ ? value : StringMap{};
    std::string_view rest = text_;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view pair = trim(rest.substr(0, comma));
      if (!pair.empty()) {
        size_t equals = pair.find('=');
        if (equals == std::string_view::npos) {
          error_ =
              "expected NAME=VALUE pairs separated by commas (got '" + std::string(pair) + "')";
          return;
        }
        std::string err = detail::assign_entry(trim(pair.substr(0, equals)),
                                               trim(pair.substr(equals + 1)), entries, check_name);
        if (!err.empty()) {
          error_ = err;
          return;
        }
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    value = std::move(entries);
  }

  // Items are addressed as "name.INDEX.key"; INDEX equal to the list's size
  // adds a default item, so flags alone can describe a whole list.
  template <typename S>
  void list(std::string_view name, std::vector<S>& items, std::string_view) {
    set_in_list(name, items, [] { return S{}; });
  }

  // Instances of a kind are addressed like list items: "KIND.INDEX.key".
  void kinds(KindLists& lists) {
    for (const KindDecl* decl : registered_kinds(lists.family)) {
      if (below(decl->kind).empty() && !matches(decl->kind)) continue;
      std::vector<Instance> of_kind;
      for (auto& i : lists.instances) {
        if (i.kind == decl->kind) of_kind.push_back(i);
      }
      set_in_list(decl->kind, of_kind, [decl] { return Instance(*decl); });
      if (!error_.empty()) return;
      std::erase_if(lists.instances, [&](const Instance& i) { return i.kind == decl->kind; });
      for (auto& i : of_kind)
        lists.instances.push_back(std::move(i));
    }
  }

  template <typename S>
  void section(std::string_view name, S& value, std::string_view) {
    std::string_view rest = below(name);
    if (rest.empty()) return;
    KeySetter child(rest, text_, append_, prefix_ + std::string(name) + ".");
    value.visit(child);
    found_ = found_ || child.found_;
    if (!child.error_.empty()) error_ = child.error_;
  }

  bool found() const { return found_; }
  const std::string& error() const { return error_; }

 private:
  template <typename S, typename Make>
  void set_in_list(std::string_view name, std::vector<S>& items, Make make) {
    std::string_view rest = below(name);
    if (rest.empty()) {
      if (!matches(name)) return;
      found_ = true;
      error_ = "set the keys of one item instead, as " + prefix_ + std::string(name) + ".INDEX.KEY";
      return;
    }
    found_ = true;
    size_t dot = rest.find('.');
    std::string_view index_text = rest.substr(0, dot);
    int64_t index = -1;
    if (dot == std::string_view::npos || parse_int(index_text, &index) != "" || index < 0 ||
        index_text.find_first_not_of("0123456789") != std::string_view::npos) {
      error_ = "expected " + prefix_ + std::string(name) + ".INDEX.KEY with INDEX counting from 0";
      return;
    }
    auto i = static_cast<size_t>(index);
    if (i > items.size()) {
      error_ = "item " + std::to_string(i) + " does not exist; the list has " +
               std::to_string(items.size()) + " (use index " + std::to_string(items.size()) +
               " to add one)";
      return;
    }
    bool added = i == items.size();
    if (added) items.push_back(make());
    KeySetter child(rest.substr(dot + 1), text_, append_,
                    prefix_ + std::string(name) + "." + std::to_string(i) + ".");
    items[i].visit(child);
    error_ = child.found_ ? child.error_ : "no such key";
    if (added && !error_.empty()) items.pop_back();
  }

  bool matches(std::string_view name) const { return path_ == name; }

  // What follows "name." in the path, or "" when the path is not below name.
  std::string_view below(std::string_view name) const {
    if (path_.size() <= name.size() + 1 || path_.substr(0, name.size()) != name ||
        path_[name.size()] != '.') {
      return {};
    }
    return path_.substr(name.size() + 1);
  }

  std::string_view path_;
  std::string_view text_;
  bool append_;
  std::string prefix_;
  bool found_ = false;
  std::string error_;
};

// Prints every key with its help, constraint and default value.
class ReferenceWriter {
 public:
  // `margin` is the width of what the caller will put before every line.
  explicit ReferenceWriter(std::string& out, int depth = 0, int margin = 0)
      : out_(out), depth_(depth), margin_(margin) {}

  template <typename T, typename Constraint>
  void field(std::string_view name, const T& value, std::string_view help, Constraint c) {
    comment(help, detail::describe(value, c));
    indent();
    out_ += name;
    out_ += ": ";
    out_ += detail::to_yaml(value);
    out_ += "\n";
  }

  template <typename S>
  void section(std::string_view name, S& value, std::string_view help) {
    comment(help, "");
    indent();
    out_ += name;
    out_ += ":\n";
    ReferenceWriter child(out_, depth_ + 1, margin_);
    value.visit(child);
  }

  // Lists of sections are empty by default. The file shows `name: []`, which
  // loads as the default, and then one commented-out item with every key, so
  // each key is still documented where an operator would write it.
  template <typename S>
  void list(std::string_view name, const std::vector<S>&, std::string_view help) {
    S item{};
    example_list(name, item, help);
  }

  // Each kind of the family as a list, with its help.
  void kinds(const KindLists& lists) {
    for (const KindDecl* decl : registered_kinds(lists.family)) {
      Instance item(*decl);
      example_list(decl->kind, item, decl->help);
    }
  }

 private:
  template <typename S>
  void example_list(std::string_view name, S& item, std::string_view help) {
    comment(help, "Each item takes the keys of the commented-out example below.");
    indent();
    out_ += name;
    out_ += ": []\n";
    std::string example;
    ReferenceWriter child(example, 0, margin_ + depth_ * 2 + 5);
    item.visit(child);
    bool first = true;
    std::string_view rest = example;
    while (!rest.empty()) {
      size_t end = rest.find('\n');
      std::string_view line = rest.substr(0, end);
      indent();
      out_ += "#";
      if (!line.empty()) {
        out_ += first ? "  - " : "    ";
        out_ += line;
        first = false;
      }
      out_ += "\n";
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
  }

  void indent() { out_.append(static_cast<size_t>(depth_) * 2, ' '); }

  // Wraps help text at 80 columns as YAML comments.
  void comment(std::string_view help, const std::string& extra) {
    if (out_.size() > 0 && out_.back() == '\n' &&
        !(out_.size() > 1 && out_[out_.size() - 2] == ':')) {
      out_ += "\n";
    }
    std::string text(help);
    if (!extra.empty()) text += " " + extra;
    size_t width = 78 - static_cast<size_t>(depth_ * 2 + margin_);
    std::string_view rest = text;
    while (!rest.empty()) {
      size_t take = rest.size();
      if (take > width) {
        take = rest.rfind(' ', width);
        if (take == std::string_view::npos || take == 0) take = width;
      }
      indent();
      out_ += "# ";
      out_ += rest.substr(0, take);
      out_ += "\n";
      rest.remove_prefix(take);
      while (!rest.empty() && rest.front() == ' ')
        rest.remove_prefix(1);
    }
  }

  std::string& out_;
  int depth_;
  int margin_;
};

}  // namespace

std::string set_key(Config* config, std::string_view path, std::string_view text, bool append) {
  KeySetter setter(path, text, append);
  config->visit(setter);
  if (!setter.found()) return "no such key";
  return setter.error();
}

const std::vector<EnvironmentOverride>& environment_overrides() {
  static const std::vector<EnvironmentOverride> kOverrides = {
      {"EDGEMON_DEVICE_ID", "device_id", false},
      {"EDGEMON_STATE_DIR", "state_dir", false},
      {"EDGEMON_TAGS", "tags", true},
      {"EDGEMON_SPOOL_PATH", "spool.path", false},
      {"EDGEMON_LOG_LEVEL", "log.level", false},
      {"EDGEMON_LOG_FILE", "log.file", false},
      {"EDGEMON_LISTEN", "http.listen", false},
      {"EDGEMON_API_TOKEN", "http.access.write.tokens", true},
      {"EDGEMON_INTERVAL", "collect.interval", false},
      {"EDGEMON_PROCFS", "collect.procfs", false},
      {"EDGEMON_SYSFS", "collect.sysfs", false},
      {"EDGEMON_ROOTFS", "collect.rootfs", false},
      // The edge power exporter's names, so its unit files keep working.
      {"CONFIG_SERVER_URL", "config_server.url", false},
      {"CONFIG_TIMEOUT", "config_server.timeout", false},
  };
  return kOverrides;
}

Errors apply_environment(Config* config, const char* (*getenv_fn)(const char*)) {
  Errors errors;
  for (const auto& o : environment_overrides()) {
    const char* value = getenv_fn(o.variable);
    if (value == nullptr) continue;
    if (std::string err = set_key(config, o.key, value, o.append); !err.empty()) {
      errors.push_back({std::string("environment ") + o.variable, 0, 0, o.key, err});
    }
  }
  return errors;
}

namespace {

void validate_output(const InfluxOutputConfig& o, const std::string& path, Errors& errors) {
  auto add = [&](const char* key, std::string message) {
    errors.push_back({"", 0, 0, path + "." + key, std::move(message)});
  };
  auto check = [&](const char* key, std::string_view value, StringCheck fn) {
    if (std::string err = fn(value); !err.empty()) add(key, err);
  };
  if (o.name.empty()) {
    add("name", "is required: a unique name such as 'local' or 'cloud'");
  } else {
    check("name", o.name, check_output_name);
  }
  if (o.url.empty()) {
    add("url", "is required, e.g. http://127.0.0.1:8086");
  } else {
    check("url", o.url, check_output_url);
  }
  check("precision", o.precision, check_precision);
  check("schema", o.schema, check_output_schema);
  if (o.version == 1) {
    if (o.database.empty()) add("database", "is required when version is 1");
    if (!o.org.empty()) add("org", "is only used with version 2 (use database)");
    if (!o.bucket.empty()) add("bucket", "is only used with version 2 (use database)");
  } else if (o.version == 2) {
    if (o.org.empty()) add("org", "is required when version is 2");
    if (o.bucket.empty()) add("bucket", "is required when version is 2");
    if (!o.database.empty()) add("database", "is only used with version 1 (use bucket)");
    if (!o.retention_policy.empty()) {
      add("retention_policy", "is only used with version 1 (a bucket has its own retention)");
    }
    if (!o.username.empty())
      add("username", "is only used with version 1; version 2 takes a token");
  } else {
    add("version", "must be 1 or 2 (got " + std::to_string(o.version) + ")");
  }
  if (!o.token.empty() && !o.username.empty()) {
    add("username", "set either token or username/password, not both");
  }
  if (!o.password.empty() && o.username.empty()) add("password", "needs a username");
  if (o.retry_initial > o.retry_max) {
    add("retry_initial", "is longer than retry_max (" + format_duration(o.retry_max) + ")");
  }
  if (o.max_age.count() != 0 && o.max_age < std::chrono::minutes(1)) {
    add("max_age", "must be 0 (no limit) or at least 1m (got " + format_duration(o.max_age) + ")");
  }
}

void validate_outputs(const OutputsSection& outputs, Errors& errors) {
  for (size_t i = 0; i < outputs.influxdb.size(); ++i) {
    const InfluxOutputConfig& o = outputs.influxdb[i];
    std::string path = "outputs.influxdb[" + std::to_string(i) + "]";
    validate_output(o, path, errors);
    for (size_t j = 0; j < i; ++j) {
      if (!o.name.empty() && outputs.influxdb[j].name == o.name) {
        errors.push_back({"", 0, 0, path + ".name",
                          "'" + o.name + "' is already the name of outputs.influxdb[" +
                              std::to_string(j) + "]; each output needs its own"});
        break;
      }
    }
  }
}

// Output names are unique across kinds: they name queues in the spool.
void validate_output_names(const OutputsSection& outputs, Errors& errors) {
  std::vector<std::string> typed;
  for (const auto& o : outputs.influxdb)
    typed.push_back(o.name);
  for (const auto& h : outputs.hub)
    typed.push_back(h.name);
  for (const auto& i : outputs.kinds.instances) {
    if (!i.name.empty() && std::find(typed.begin(), typed.end(), i.name) != typed.end()) {
      errors.push_back({"", 0, 0, "outputs." + i.kind,
                        "'" + i.name + "' is already the name of another output"});
    }
  }
}

void validate_tags(const StringMap& tags, Errors& errors) {
  for (const auto& [name, value] : tags) {
    std::string err = check_tag_name(name);
    if (err.empty()) err = check_tag_value(value);
    if (!err.empty()) errors.push_back({"", 0, 0, "tags." + name, err});
  }
}

void validate_metric_switches(const StringMap& metrics, Errors& errors) {
  for (const auto& [name, value] : metrics) {
    if (value != "true" && value != "false") {
      errors.push_back(
          {"", 0, 0, "metrics." + name, "expected true or false (got '" + value + "')"});
    }
  }
}

}  // namespace

Errors validate(const Config& config) {
  Errors errors;
  validate_tags(config.tags, errors);
  validate_metric_switches(config.metrics, errors);
  if (std::string err = check_spool_sync(config.spool.sync); !err.empty()) {
    errors.push_back({"", 0, 0, "spool.sync", err});
  }
  validate_outputs(config.outputs, errors);
  config.outputs.kinds.validate("outputs", errors);
  validate_output_names(config.outputs, errors);
  config.sources.kinds.validate("sources", errors);
  validate_hub_parts(config, errors);
  if (config.http.listen.empty()) {
    errors.push_back({"", 0, 0, "http.listen", "at least one listen address is needed"});
  }
  std::vector<std::string> seen;
  for (const auto& l : config.http.listen) {
    if (std::find(seen.begin(), seen.end(), l) != seen.end()) {
      errors.push_back({"", 0, 0, "http.listen", "'" + l + "' is listed twice"});
    }
    seen.push_back(l);
  }
  auto check_burst = [&](const AccessGroup& g, const char* key) {
    if (g.rate > 0 && g.burst < 1) {
      errors.push_back({"", 0, 0, key,
                        "burst must be at least 1 when a rate is set (a bucket of 0 admits none)"});
    }
  };
  check_burst(config.http.access.read, "http.access.read.burst");
  check_burst(config.http.access.write, "http.access.write.burst");
  return errors;
}

std::string render_reference_yaml() {
  std::string out =
      "# edgemon configuration: every key with its default value.\n"
      "#\n"
      "# Every key is optional; an empty file (or none at all) runs on these\n"
      "# defaults. Check a file with `edgemon check -c FILE`. Durations take\n"
      "# ms, s, m, h or d; sizes take KiB, MiB, GiB (or KB, MB, GB).\n"
      "#\n"
      "# Environment variables override the file, and command-line flags\n"
      "# override both:\n";
  for (const auto& o : environment_overrides()) {
    out += "#   " + std::string(o.variable) + " -> " + o.key +
           (o.append ? " (adds to the file's entries)" : "") + "\n";
  }
  out +=
      "# Lists in environment variables are comma-separated, tags are\n"
      "# NAME=VALUE pairs: EDGEMON_TAGS=location=lab,zone=a.\n"
      "#\n"
      "# This file is generated by `edgemon config` from the daemon's own key\n"
      "# table; a test keeps the two identical.\n";
  Config defaults;
  ReferenceWriter writer(out);
  defaults.visit(writer);
  return out;
}

}  // namespace edgemon::config
