#include "sources/tegrastats/tegrastats_parse.hpp"

#include <charconv>
#include <cmath>

namespace edgemon::sources::tegrastats {
namespace {

constexpr double kLowestRatedCelsius = -40;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_name_char(char c) {
  return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

// A group, engine, zone or rail name: what tegrastats prints before a value.
bool is_name(std::string_view s) {
  if (s.empty() || is_digit(s[0])) return false;
  for (char c : s)
    if (!is_name_char(c)) return false;
  return true;
}

// Whitespace-separated, and `(` starts a token of its own: IRAM prints
// `0/252kB(lfb 252kB)` with no space where RAM prints `4MB (lfb 3x4MB)`.
std::vector<std::string_view> tokens_of(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i]))
      ++i;
    size_t start = i;
    while (i < line.size() && !is_space(line[i]) && (i == start || line[i] != '('))
      ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// A finite decimal number spanning all of `s` (a sign only if allowed).
bool to_number(std::string_view s, double* out, bool allow_sign = false) {
  if (s.empty() || s[0] == '+') return false;
  if (s[0] == '-' && !allow_sign) return false;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, *out, std::chars_format::fixed);
  return ec == std::errc() && ptr == end && std::isfinite(*out);
}

bool strip_suffix(std::string_view* s, std::string_view suffix) {
  if (s->size() < suffix.size() || s->substr(s->size() - suffix.size()) != suffix) return false;
  s->remove_suffix(suffix.size());
  return true;
}

// "MB", "kB" (as tegrastats prints them: binary multiples), "GB", "B".
bool unit_bytes(std::string_view unit, double* bytes) {
  if (unit == "B")
    *bytes = 1;
  else if (unit == "kB" || unit == "KB")
    *bytes = 1024;
  else if (unit == "MB")
    *bytes = 1024.0 * 1024;
  else if (unit == "GB")
    *bytes = 1024.0 * 1024 * 1024;
  else
    return false;
  return true;
}

// "29114/30697MB": one unit for both numbers.
bool parse_use(std::string_view s, MemoryUse* out) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view total = s.substr(slash + 1);
  size_t unit_at = 0;
  while (unit_at < total.size() && (is_digit(total[unit_at]) || total[unit_at] == '.'))
    ++unit_at;
  double used = 0, size = 0, scale = 0;
  if (!to_number(s.substr(0, slash), &used) || !to_number(total.substr(0, unit_at), &size) ||
      !unit_bytes(total.substr(unit_at), &scale))
    return false;
  out->used_bytes = used * scale;
  out->total_bytes = size * scale;
  return true;
}

// "14%"
bool parse_percent(std::string_view s, double* out) {
  return strip_suffix(&s, "%") && to_number(s, out);
}

// The value of a clocked unit: `off`, `174`, `@1600`, `0%`, `1%@2133`,
// `14%@[407,407]`.
bool parse_clock_value(std::string_view s, Clocked* out) {
  if (s == "off") {
    out->off = true;
    return true;
  }
  size_t at = s.find('@');
  std::string_view load = s.substr(0, at);
  if (at == std::string_view::npos) {
    double v = 0;
    if (parse_percent(load, &v)) {
      out->load_percent = v;
      return true;
    }
    if (!to_number(load, &v)) return false;
    out->mhz.push_back(v);
    return true;
  }
  if (!load.empty()) {
    double v = 0;
    if (!parse_percent(load, &v)) return false;
    out->load_percent = v;
  }
  std::string_view freq = s.substr(at + 1);
  bool list = !freq.empty() && freq.front() == '[';
  if (list) {
    if (freq.back() != ']') return false;
    freq = freq.substr(1, freq.size() - 2);
  }
  while (true) {
    size_t comma = freq.find(',');
    if (comma != std::string_view::npos && !list) return false;
    double v = 0;
    if (!to_number(freq.substr(0, comma), &v)) return false;
    if (out->mhz.size() < kMaxEntries) out->mhz.push_back(v);
    if (comma == std::string_view::npos) return true;
    freq.remove_prefix(comma + 1);
  }
}

// "53.062C" after the `@` of `cpu@53.062C`.
bool parse_celsius(std::string_view s, double* out) {
  return strip_suffix(&s, "C") && to_number(s, out, true);
}

// "3205mW/3205mW" (JetPack 5+) or "3056/3056" (JetPack 4 and older).
bool parse_rail_value(std::string_view s, Rail* out) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view cur = s.substr(0, slash), avg = s.substr(slash + 1);
  bool milliwatts = strip_suffix(&cur, "mW");
  if (strip_suffix(&avg, "mW") != milliwatts) return false;
  return to_number(cur, &out->instant_mw) && to_number(avg, &out->average_mw);
}

bool is_timestamp(std::string_view date, std::string_view time) {
  auto shaped = [](std::string_view s, std::string_view shape) {
    if (s.size() != shape.size()) return false;
    for (size_t i = 0; i < s.size(); ++i)
      if (shape[i] == '9' ? !is_digit(s[i]) : s[i] != shape[i]) return false;
    return true;
  };
  return shaped(date, "99-99-9999") && shaped(time, "99:99:99");
}

class LineParser {
 public:
  LineParser(std::string_view line, TegrastatsLine* out) : tokens_(tokens_of(line)), out_(*out) {}

  // How many groups were recognised.
  unsigned run() {
    if (tokens_.size() >= 2 && is_timestamp(tokens_[0], tokens_[1])) {
      out_.has_timestamp = true;
      next_ = 2;
    }
    while (next_ < tokens_.size())
      group();
    return groups_;
  }

 private:
  std::string_view peek(size_t ahead = 0) const {
    return next_ + ahead < tokens_.size() ? tokens_[next_ + ahead] : std::string_view();
  }
  std::string_view take() { return next_ < tokens_.size() ? tokens_[next_++] : std::string_view(); }

  void malformed(std::string_view group, std::string_view expected, std::string_view got) {
    if (out_.malformed_groups++ == 0) {
      out_.first_malformed.assign(group).append(": expected ").append(expected).append(", got '");
      out_.first_malformed.append(got.substr(0, 64)).append("'");
    }
  }

  template <typename T>
  void keep(std::vector<T>& into, T value) {
    if (into.size() < kMaxEntries)
      into.push_back(std::move(value));
    else
      ++out_.dropped_entries;
  }

  void group() {
    std::string_view key = take();
    if (key == "RAM" || key == "SWAP" || key == "IRAM") return memory(key);
    // AGX Xavier also has a rail named CPU (`CPU 311/311`).
    if ((key == "CPU" || key == "cpu") && peek().substr(0, 1) != "[" &&
        peek().find('/') != std::string_view::npos)
      return rail(key, take());
    if (key == "CPU" || key == "cpu") return cpus(key);
    if (key == "MTS") return mts();
    size_t at = key.find('@');
    if (at != std::string_view::npos && at > 0 && key.back() == 'C') return temperature(key, at);
    if (is_name(key) && !peek().empty()) {
      std::string_view value = peek();
      if (value.find('/') != std::string_view::npos) return rail(key, take());
      Clocked c;
      if (parse_clock_value(value, &c)) {
        ++next_;
        return clocked(key, std::move(c));
      }
      // A known keyword whose value is damaged is worth a word; an unknown
      // name before a non-value is just a token we do not know.
      if (key == "EMC_FREQ" || key == "GR3D_FREQ" || key == "EMC" || key == "GR3D") {
        ++next_;
        return malformed(key, "LOAD%@MHZ", value);
      }
    }
    unknown(key);
  }

  void unknown(std::string_view token) {
    if (out_.unknown_tokens++ == 0) out_.first_unknown = token;
  }

  // `RAM 29114/30697MB (lfb 3x4MB)`, `SWAP 4915/15348MB (cached 1MB)`,
  // `IRAM 0/252kB(lfb 252kB)`; the parenthesis is optional.
  void memory(std::string_view key) {
    MemoryUse use;
    std::string_view value = take();
    if (!parse_use(value, &use)) return malformed(key, "USED/TOTAL with a unit (MB, kB)", value);
    ++groups_;
    (key == "RAM" ? out_.ram : key == "SWAP" ? out_.swap : out_.iram) = use;
    if (peek() == "(lfb" || peek() == "(cached") {
      next_ += 2;  // free-block and swap-cache details: not exported
    }
  }

  // `CPU [3%@729,off,...]`, or the oldest `cpu [17%,13%]@408` with one
  // frequency for the cluster.
  void cpus(std::string_view key) {
    std::string_view list = take();
    size_t close = list.find(']');
    if (list.empty() || list[0] != '[' || close == std::string_view::npos)
      return malformed(key, "[LOAD%@MHZ,...]", list);
    std::optional<double> shared_mhz;
    std::string_view after = list.substr(close + 1);
    if (!after.empty()) {
      double v = 0;
      if (after[0] != '@' || !to_number(after.substr(1), &v))
        return malformed(key, "[...]@MHZ", list);
      shared_mhz = v;
    }
    std::string_view items = list.substr(1, close - 1);
    std::vector<CpuCore> cores;
    while (close > 1) {  // `[]`: no cores
      size_t comma = items.find(',');
      std::string_view item = items.substr(0, comma);
      CpuCore core;
      if (item != "off") {
        Clocked c;
        if (!parse_clock_value(item, &c) || c.off || !c.load_percent || c.mhz.size() > 1)
          return malformed(key, "LOAD%@MHZ or off for each core", item);
        core.online = true;
        core.load_percent = c.load_percent;
        core.mhz = c.mhz.empty() ? shared_mhz : std::optional<double>(c.mhz[0]);
      }
      if (cores.size() < kMaxEntries)
        cores.push_back(core);
      else
        ++out_.dropped_entries;
      if (comma == std::string_view::npos) break;
      items.remove_prefix(comma + 1);
    }
    ++groups_;
    out_.cpus = std::move(cores);
  }

  // `MTS fg 0% bg 0%` (Denver/Carmel): recognised so its tokens are not
  // counted as unknown; not exported.
  void mts() {
    double v = 0;
    if (peek() != "fg" || !parse_percent(peek(1), &v) || peek(2) != "bg" ||
        !parse_percent(peek(3), &v))
      return malformed("MTS", "fg N% bg N%", peek());
    next_ += 4;
    ++groups_;
  }

  // `cpu@53.062C`, `@` at `at`.
  void temperature(std::string_view token, size_t at) {
    std::string_view name = token.substr(0, at);
    Temperature t{name, 0, Reading::kValid};
    if (!is_name(name) || !parse_celsius(token.substr(at + 1), &t.celsius)) return unknown(token);
    ++groups_;
    if (name == "PMIC" || name == "pmic")
      t.reading = Reading::kPlaceholder;
    else if (t.celsius < kLowestRatedCelsius)
      t.reading = Reading::kOffline;
    keep(out_.temperatures, t);
  }

  void rail(std::string_view name, std::string_view value) {
    Rail r{name, 0, 0};
    if (!parse_rail_value(value, &r)) return malformed(name, "CURRENT/AVERAGE in mW", value);
    ++groups_;
    keep(out_.rails, r);
  }

  void clocked(std::string_view key, Clocked c) {
    ++groups_;
    std::string_view name = key;
    strip_suffix(&name, "_FREQ");
    c.name = name;
    if (name == "EMC")
      out_.emc = std::move(c);
    else if (name == "GR3D")
      out_.gpu = std::move(c);
    else
      keep(out_.engines, std::move(c));
  }

  std::vector<std::string_view> tokens_;
  TegrastatsLine& out_;
  size_t next_ = 0;
  unsigned groups_ = 0;
};

}  // namespace

std::string parse_tegrastats_line(std::string_view line, TegrastatsLine* out) {
  *out = TegrastatsLine{};
  if (LineParser(line, out).run() > 0) return "";
  if (out->malformed_groups > 0) return out->first_malformed;
  std::string why = "no tegrastats group (RAM, CPU, a rail, a temperature...) in '";
  return why.append(line.substr(0, 64)).append("'");
}

}  // namespace edgemon::sources::tegrastats
