#include "core/config_assign.hpp"

namespace edgemon::config::detail {
namespace {

std::string out_of_range(const std::string& shown_min, const std::string& shown_max,
                         std::string_view got) {
  return "must be between " + shown_min + " and " + shown_max + " (got " + std::string(got) + ")";
}

}  // namespace

std::string assign(std::string_view text, std::string& out, StringCheck check) {
  if (check != nullptr) {
    if (std::string err = check(text); !err.empty()) return err;
  }
  out = std::string(text);
  return "";
}

std::string assign(std::string_view text, int64_t& out, IntRange range) {
  int64_t value = 0;
  if (std::string err = parse_int(text, &value); !err.empty()) return err;
  if (value < range.min || value > range.max) {
    return out_of_range(std::to_string(range.min), std::to_string(range.max), text);
  }
  out = value;
  return "";
}

std::string assign(std::string_view text, double& out, DoubleRange range) {
  double value = 0;
  if (std::string err = parse_double(text, &value); !err.empty()) return err;
  if (value < range.min || value > range.max) {
    return out_of_range(format_double(range.min), format_double(range.max), text);
  }
  out = value;
  return "";
}

std::string assign(std::string_view text, Duration& out, IntRange range) {
  Duration value{};
  if (std::string err = parse_duration(text, &value); !err.empty()) return err;
  if (value.count() < range.min || value.count() > range.max) {
    return out_of_range(format_duration(Duration(range.min)), format_duration(Duration(range.max)),
                        text);
  }
  out = value;
  return "";
}

std::string assign(std::string_view text, ByteSize& out, IntRange range) {
  ByteSize value;
  if (std::string err = parse_byte_size(text, &value); !err.empty()) return err;
  if (value.bytes < static_cast<uint64_t>(range.min) ||
      value.bytes > static_cast<uint64_t>(range.max)) {
    return out_of_range(format_byte_size(ByteSize(static_cast<uint64_t>(range.min))),
                        format_byte_size(ByteSize(static_cast<uint64_t>(range.max))), text);
  }
  out = value;
  return "";
}

std::string assign(std::string_view text, bool& out, std::nullptr_t) {
  return parse_bool(text, &out);
}

std::string assign_item(std::string_view text, std::vector<std::string>& out, StringCheck check) {
  if (check != nullptr) {
    if (std::string err = check(text); !err.empty()) return err;
  }
  out.emplace_back(text);
  return "";
}

std::string assign_entry(std::string_view name, std::string_view value, StringMap& out,
                         StringCheck check_name) {
  if (check_name != nullptr) {
    if (std::string err = check_name(name); !err.empty()) return err;
  }
  out.insert_or_assign(std::string(name), std::string(value));
  return "";
}

std::string describe(const std::string&, StringCheck) {
  return "";
}
std::string describe(const std::vector<std::string>&, StringCheck) {
  return "";
}
std::string describe(const StringMap&, StringCheck) {
  return "";
}
std::string describe(int64_t, IntRange r) {
  return "Range: " + std::to_string(r.min) + " to " + std::to_string(r.max) + ".";
}
std::string describe(double, DoubleRange r) {
  return "Range: " + format_double(r.min) + " to " + format_double(r.max) + ".";
}
std::string describe(Duration, IntRange r) {
  return "Range: " + format_duration(Duration(r.min)) + " to " + format_duration(Duration(r.max)) +
         ".";
}
std::string describe(ByteSize, IntRange r) {
  return "Range: " + format_byte_size(ByteSize(static_cast<uint64_t>(r.min))) + " to " +
         format_byte_size(ByteSize(static_cast<uint64_t>(r.max))) + ".";
}
std::string describe(bool, std::nullptr_t) {
  return "";
}

std::string to_yaml(const std::string& value) {
  // A plain null-like word would load back as "no value", and a leading '-'
  // can start a list item, so both are quoted.
  bool plain = !value.empty() && value.front() != '-' && value != "null" && value != "Null" &&
               value != "NULL";
  for (char c : value) {
    bool safe =
        std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '/' || c == '-';
    if (!safe) plain = false;
  }
  if (plain) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string to_yaml(const std::vector<std::string>& value) {
  std::string out = "[";
  for (size_t i = 0; i < value.size(); ++i) {
    if (i > 0) out += ", ";
    out += to_yaml(value[i]);
  }
  out += "]";
  return out;
}

std::string to_yaml(const StringMap& value) {
  std::string out = "{";
  for (const auto& [name, text] : value) {
    if (out.size() > 1) out += ", ";
    out += to_yaml(name) + ": " + to_yaml(text);
  }
  out += "}";
  return out;
}

std::string to_yaml(int64_t value) {
  return std::to_string(value);
}
std::string to_yaml(double value) {
  return format_double(value);
}
std::string to_yaml(Duration value) {
  return format_duration(value);
}
std::string to_yaml(ByteSize value) {
  return format_byte_size(value);
}
std::string to_yaml(bool value) {
  return value ? "true" : "false";
}

}  // namespace edgemon::config::detail
