#include "ingest/alert_webhook.hpp"

#include <cjson/cJSON.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "core/utf8.hpp"

namespace edgemon::ingest {
namespace {

struct JsonDeleter {
  void operator()(cJSON* json) const { cJSON_Delete(json); }
};
using JsonPtr = std::unique_ptr<cJSON, JsonDeleter>;

// Go's time.Time{} as Unix ms: what Alertmanager writes for "no time".
constexpr int64_t kGoZeroTimeMs = -62135596800000;
// Largest integer a JSON number (a double) holds exactly.
constexpr double kMaxExactInteger = 9007199254740992.0;

const char* type_name(const cJSON* item) {
  if (cJSON_IsNull(item)) return "null";
  if (cJSON_IsBool(item)) return "a boolean";
  if (cJSON_IsNumber(item)) return "a number";
  if (cJSON_IsString(item)) return "a string";
  if (cJSON_IsArray(item)) return "an array";
  if (cJSON_IsObject(item)) return "an object";
  return "an unknown value";
}

// A member name as a path segment: `.name` when it is a plain identifier,
// else `["..."]` with quotes, backslashes and non-printable bytes escaped,
// shortened so that a hostile key cannot blow up the error message.
std::string member_segment(std::string_view name) {
  bool plain = !name.empty() && name.size() <= 64;
  for (char c : name) {
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_');
  }
  if (plain) return "." + std::string(name);
  std::string out = "[\"";
  size_t shown = std::min<size_t>(name.size(), 64);
  for (size_t i = 0; i < shown; ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (shown < name.size()) out += "...";
  return out + "\"]";
}

// A string value quoted for an error message, shortened.
std::string quoted(std::string_view value) {
  if (value.empty()) return "\"\"";
  std::string segment = member_segment(value);
  if (segment[0] == '.') return "\"" + segment.substr(1) + "\"";
  return segment.substr(1, segment.size() - 2);
}

// cJSON stops a string at its first NUL, so "a\u0000b" would silently become
// "a"; and it accepts raw NUL bytes. Both are refused before parsing.
std::string find_nul(std::string_view body) {
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == '\0') return "body: NUL byte at offset " + std::to_string(i);
    if (!in_string) {
      in_string = c == '"';
      continue;
    }
    if (c == '"') {
      in_string = false;
    } else if (c == '\\' && i + 1 < body.size()) {
      if (body.substr(i + 1, 5) == "u0000") {
        return "body: \\u0000 at offset " + std::to_string(i) + " (NUL is not allowed in strings)";
      }
      ++i;
    }
  }
  return "";
}

class Parser {
 public:
  explicit Parser(const WebhookLimits& limits) : limits_(limits) {}

  std::string message(const cJSON* root, WebhookMessage* out);

 private:
  bool fail(const std::string& path, std::string why) {
    error_ = path + ": " + std::move(why);
    return false;
  }
  bool string_member(const cJSON* object, const char* key, const std::string& path, bool required,
                     size_t max_bytes, std::string* out);
  bool check_text(const std::string& path, std::string_view text, size_t max_bytes);
  bool time_member(const cJSON* object, const char* key, const std::string& path, bool required,
                   std::optional<int64_t>* out);
  bool status_member(const cJSON* object, const std::string& path, std::string* out);
  bool pairs(const cJSON* object, const char* key, const std::string& path, bool required,
             LabelPairs* out);
  bool alert(const cJSON* item, const std::string& path, WebhookAlert* out);
  bool header(const cJSON* root, WebhookMessage* out);

  const WebhookLimits& limits_;
  std::string error_;
};

bool Parser::check_text(const std::string& path, std::string_view text, size_t max_bytes) {
  if (text.size() > max_bytes) {
    return fail(path, std::to_string(text.size()) + " bytes, at most " + std::to_string(max_bytes) +
                          " allowed");
  }
  if (!valid_utf8(text)) return fail(path, "not valid UTF-8");
  return true;
}

bool Parser::string_member(const cJSON* object, const char* key, const std::string& path,
                           bool required, size_t max_bytes, std::string* out) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(object, key);
  std::string where = path.empty() ? key : path + "." + key;
  if (item == nullptr) return required ? fail(where, "is required") : true;
  if (!cJSON_IsString(item)) {
    return fail(where, std::string("expected a string, got ") + type_name(item));
  }
  std::string_view text = item->valuestring;
  if (!check_text(where, text, max_bytes)) return false;
  out->assign(text);
  return true;
}

bool Parser::time_member(const cJSON* object, const char* key, const std::string& path,
                         bool required, std::optional<int64_t>* out) {
  std::string text;
  if (!string_member(object, key, path, required, 64, &text)) return false;
  if (cJSON_GetObjectItemCaseSensitive(object, key) == nullptr) return true;
  int64_t ms = 0;
  if (!parse_rfc3339_ms(text, &ms)) {
    return fail(path + "." + key, "expected an RFC 3339 time, got " + quoted(text));
  }
  if (ms != kGoZeroTimeMs) *out = ms;
  return true;
}

bool Parser::status_member(const cJSON* object, const std::string& path, std::string* out) {
  if (!string_member(object, "status", path, true, 64, out)) return false;
  if (*out != "firing" && *out != "resolved") {
    return fail(path.empty() ? "status" : path + ".status",
                "expected \"firing\" or \"resolved\", got " + quoted(*out));
  }
  return true;
}

bool Parser::pairs(const cJSON* object, const char* key, const std::string& path, bool required,
                   LabelPairs* out) {
  const cJSON* map = cJSON_GetObjectItemCaseSensitive(object, key);
  std::string where = path + "." + key;
  if (map == nullptr) return required ? fail(where, "is required") : true;
  if (!cJSON_IsObject(map)) {
    return fail(where, std::string("expected an object, got ") + type_name(map));
  }
  size_t count = 0;
  for (const cJSON* item = map->child; item != nullptr; item = item->next) {
    if (++count > limits_.max_pairs) {
      return fail(where, "more than " + std::to_string(limits_.max_pairs) + " entries");
    }
    std::string_view name = item->string != nullptr ? item->string : "";
    std::string item_path = where + member_segment(name);
    if (name.empty()) return fail(where, "empty name");
    if (!check_text(item_path + " (name)", name, limits_.max_name_bytes)) return false;
    if (!cJSON_IsString(item)) {
      return fail(item_path, std::string("expected a string, got ") + type_name(item));
    }
    std::string_view value = item->valuestring;
    if (!check_text(item_path, value, limits_.max_value_bytes)) return false;
    out->emplace_back(name, value);
  }
  std::sort(out->begin(), out->end());
  auto dup = std::adjacent_find(out->begin(), out->end(),
                                [](const auto& a, const auto& b) { return a.first == b.first; });
  if (dup != out->end()) return fail(where + member_segment(dup->first), "appears twice");
  if (required && out->empty()) return fail(where, "expected at least one label");
  return true;
}

bool Parser::alert(const cJSON* item, const std::string& path, WebhookAlert* out) {
  if (!cJSON_IsObject(item)) {
    return fail(path, std::string("expected an object, got ") + type_name(item));
  }
  if (!status_member(item, path, &out->status)) return false;
  if (!pairs(item, "labels", path, true, &out->labels)) return false;
  if (!pairs(item, "annotations", path, false, &out->annotations)) return false;
  if (!time_member(item, "startsAt", path, true, &out->starts_at_ms)) return false;
  if (!time_member(item, "endsAt", path, false, &out->ends_at_ms)) return false;
  if (!string_member(item, "generatorURL", path, false, limits_.max_string_bytes,
                     &out->generator_url)) {
    return false;
  }
  const cJSON* fp = cJSON_GetObjectItemCaseSensitive(item, "fingerprint");
  if (fp == nullptr) {
    out->fingerprint = alert_fingerprint(out->labels);
    out->fingerprint_computed = true;
    return true;
  }
  if (!string_member(item, "fingerprint", path, true, limits_.max_fingerprint_bytes,
                     &out->fingerprint)) {
    return false;
  }
  // It becomes a primary key, a log field and a URL-ish identifier.
  bool printable = !out->fingerprint.empty();
  for (char c : out->fingerprint)
    printable = printable && c > ' ' && c != 0x7f;
  if (!printable) {
    return fail(path + ".fingerprint", "expected a non-empty string without spaces or controls");
  }
  return true;
}

bool Parser::header(const cJSON* root, WebhookMessage* out) {
  std::string version;
  if (!string_member(root, "version", "", true, 16, &version)) return false;
  if (version != "4") {
    return fail("version", "unsupported webhook version " + quoted(version) +
                               " (this receiver speaks Alertmanager's version \"4\")");
  }
  if (!status_member(root, "", &out->status)) return false;
  if (!string_member(root, "receiver", "", false, limits_.max_string_bytes, &out->receiver)) {
    return false;
  }
  if (!string_member(root, "groupKey", "", false, limits_.max_string_bytes, &out->group_key)) {
    return false;
  }
  const cJSON* truncated = cJSON_GetObjectItemCaseSensitive(root, "truncatedAlerts");
  if (truncated != nullptr) {
    double v = cJSON_IsNumber(truncated) ? truncated->valuedouble : -1;
    if (!cJSON_IsNumber(truncated) || v < 0 || v > kMaxExactInteger || std::floor(v) != v) {
      return fail("truncatedAlerts", "expected a non-negative integer");
    }
    out->truncated_alerts = static_cast<int64_t>(v);
  }
  return true;
}

std::string Parser::message(const cJSON* root, WebhookMessage* out) {
  if (!cJSON_IsObject(root)) {
    return std::string("body: expected a JSON object, got ") + type_name(root);
  }
  if (!header(root, out)) return error_;
  const cJSON* alerts = cJSON_GetObjectItemCaseSensitive(root, "alerts");
  if (alerts == nullptr) return "alerts: is required";
  if (!cJSON_IsArray(alerts)) {
    return std::string("alerts: expected an array, got ") + type_name(alerts);
  }
  size_t count = static_cast<size_t>(cJSON_GetArraySize(alerts));
  if (count > limits_.max_alerts) {
    return "alerts: " + std::to_string(count) + " alerts, at most " +
           std::to_string(limits_.max_alerts) + " per notification";
  }
  out->alerts.resize(count);
  size_t i = 0;
  for (const cJSON* item = alerts->child; item != nullptr; item = item->next, ++i) {
    if (!alert(item, "alerts[" + std::to_string(i) + "]", &out->alerts[i])) return error_;
  }
  return "";
}

}  // namespace

std::string_view WebhookAlert::label(std::string_view name) const {
  for (const auto& [k, v] : labels) {
    if (k == name) return v;
  }
  return {};
}

std::string_view WebhookAlert::annotation(std::string_view name) const {
  for (const auto& [k, v] : annotations) {
    if (k == name) return v;
  }
  return {};
}

std::string parse_alert_webhook(std::string_view body, WebhookMessage* out,
                                const WebhookLimits& limits) {
  *out = WebhookMessage{};
  size_t start = body.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) {
    return "body: empty; expected Alertmanager's webhook JSON";
  }
  if (std::string e = find_nul(body); !e.empty()) return e;
  const char* end = nullptr;
  JsonPtr root(cJSON_ParseWithLengthOpts(body.data(), body.size(), &end, 0));
  if (!root) {
    size_t at = end != nullptr && end >= body.data() ? static_cast<size_t>(end - body.data()) : 0;
    return "body: invalid JSON at offset " + std::to_string(std::min(at, body.size()));
  }
  size_t rest = static_cast<size_t>(end - body.data());
  if (body.find_first_not_of(" \t\r\n", rest) != std::string_view::npos) {
    return "body: unexpected data after the JSON object at offset " + std::to_string(rest);
  }
  Parser parser(limits);
  std::string error = parser.message(root.get(), out);
  if (!error.empty()) *out = WebhookMessage{};
  return error;
}

std::string alert_fingerprint(const LabelPairs& sorted_labels) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  auto add = [&hash](std::string_view bytes) {
    for (char c : bytes) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 0x100000001b3ULL;
    }
  };
  for (const auto& [name, value] : sorted_labels) {
    add(name);
    add("\xff");
    add(value);
    add("\xff");
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

bool parse_rfc3339_ms(std::string_view text, int64_t* unix_ms) {
  Rfc3339Time t;
  if (!parse_rfc3339(text, &t)) return false;
  // Years 0000..9999 in UTC too, as Go (Alertmanager) can write them: an
  // offset must not push a time out of what format_rfc3339_ms writes back.
  constexpr int64_t kFirst = -62167219200;  // 0000-01-01T00:00:00Z
  constexpr int64_t kLast = 253402300799;   // 9999-12-31T23:59:59Z
  if (t.unix_seconds < kFirst || t.unix_seconds > kLast) return false;
  *unix_ms = t.unix_ms();
  return true;
}

}  // namespace edgemon::ingest
