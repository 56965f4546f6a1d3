// The non-YAML visitors over the Config declarations: set-by-path (for
// environment variables and flags), the reference-file printer, and the
// checks that span several keys.
#include <algorithm>

#include "collect/collector.hpp"
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

std::string check_collector_name(std::string_view text) {
  auto names = collect::registered_collector_names();
  if (std::find(names.begin(), names.end(), text) != names.end()) return "";
  std::string list;
  for (const auto& n : names)
    list += (list.empty() ? "" : ", ") + n;
  return "no collector named '" + std::string(text) + "' (known: " + list + ")";
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
  KeySetter(std::string_view path, std::string_view text, bool append)
      : path_(path), text_(text), append_(append) {}

  template <typename T, typename Constraint>
  requires(!std::is_same_v<T, std::vector<std::string>>) void field(std::string_view name, T& value,
                                                                    std::string_view,
                                                                    Constraint constraint) {
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

  template <typename S>
  void section(std::string_view name, S& value, std::string_view) {
    if (path_.size() <= name.size() || path_.substr(0, name.size()) != name ||
        path_[name.size()] != '.') {
      return;
    }
    KeySetter child(path_.substr(name.size() + 1), text_, append_);
    value.visit(child);
    found_ = found_ || child.found_;
    if (!child.error_.empty()) error_ = child.error_;
  }

  bool found() const { return found_; }
  const std::string& error() const { return error_; }

 private:
  bool matches(std::string_view name) const { return path_ == name; }

  std::string_view path_;
  std::string_view text_;
  bool append_;
  bool found_ = false;
  std::string error_;
};

// Prints every key with its help, constraint and default value.
class ReferenceWriter {
 public:
  explicit ReferenceWriter(std::string& out, int depth = 0) : out_(out), depth_(depth) {}

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
    ReferenceWriter child(out_, depth_ + 1);
    value.visit(child);
  }

 private:
  void indent() { out_.append(static_cast<size_t>(depth_) * 2, ' '); }

  // Wraps help text at 80 columns as YAML comments.
  void comment(std::string_view help, const std::string& extra) {
    if (out_.size() > 0 && out_.back() == '\n' &&
        !(out_.size() > 1 && out_[out_.size() - 2] == ':')) {
      out_ += "\n";
    }
    std::string text(help);
    if (!extra.empty()) text += " " + extra;
    size_t width = 78 - static_cast<size_t>(depth_) * 2;
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
      {"EDGEMON_LOG_LEVEL", "log.level", false},
      {"EDGEMON_LOG_FILE", "log.file", false},
      {"EDGEMON_LISTEN", "http.listen", false},
      {"EDGEMON_API_TOKEN", "http.access.write.tokens", true},
      {"EDGEMON_INTERVAL", "collect.interval", false},
      {"EDGEMON_PROCFS", "collect.procfs", false},
      {"EDGEMON_SYSFS", "collect.sysfs", false},
      {"EDGEMON_ROOTFS", "collect.rootfs", false},
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

Errors validate(const Config& config) {
  Errors errors;
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
           (o.append ? " (adds to the list)" : "") + "\n";
  }
  out +=
      "# (lists in environment variables are comma-separated).\n"
      "#\n"
      "# This file is generated by `edgemon config` from the daemon's own key\n"
      "# table; a test keeps the two identical.\n";
  Config defaults;
  ReferenceWriter writer(out);
  defaults.visit(writer);
  return out;
}

}  // namespace edgemon::config
