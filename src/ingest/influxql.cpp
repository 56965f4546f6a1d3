#include "ingest/influxql.hpp"

#include <cctype>

namespace edgemon::ingest {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

// The next word (letters, digits, _) or quoted identifier of `s`, consumed.
// Quoted: "..." with \" and \\ escapes; false when unterminated.
bool next_token(std::string_view* s, std::string* token, bool* quoted) {
  *s = trim(*s);
  token->clear();
  *quoted = false;
  if (s->empty()) return true;
  if (s->front() == '"') {
    *quoted = true;
    for (size_t i = 1; i < s->size(); ++i) {
      char c = (*s)[i];
      if (c == '\\' && i + 1 < s->size()) {
        token->push_back((*s)[++i]);
      } else if (c == '"') {
        s->remove_prefix(i + 1);
        return true;
      } else {
        token->push_back(c);
      }
    }
    return false;
  }
  size_t n = 0;
  while (n < s->size() &&
         (std::isalnum(static_cast<unsigned char>((*s)[n])) || (*s)[n] == '_' || (*s)[n] == '-')) {
    ++n;
  }
  if (n == 0) n = 1;  // punctuation: a token of its own
  token->assign(s->substr(0, n));
  s->remove_prefix(n);
  return true;
}

bool keyword(const std::string& token, bool quoted, std::string_view word) {
  if (quoted || token.size() != word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(token[i])) != word[i]) return false;
  }
  return true;
}

InfluxqlStatement classify(std::string_view text) {
  InfluxqlStatement st;
  st.text = std::string(text.substr(0, 200));
  std::string_view rest = text;
  std::string a, b;
  bool qa = false, qb = false;
  if (!next_token(&rest, &a, &qa) || !next_token(&rest, &b, &qb)) return st;
  if (keyword(a, qa, "SHOW") && keyword(b, qb, "DATABASES") && trim(rest).empty()) {
    st.kind = InfluxqlStatement::Kind::kShowDatabases;
  } else if (keyword(a, qa, "SHOW") && keyword(b, qb, "MEASUREMENTS") && trim(rest).empty()) {
    st.kind = InfluxqlStatement::Kind::kShowMeasurements;
  } else if (keyword(a, qa, "CREATE") && keyword(b, qb, "DATABASE")) {
    std::string name;
    bool quoted = false;
    // Retention clauses (WITH DURATION ...) are accepted and ignored: the
    // hub keeps nothing by database.
    if (next_token(&rest, &name, &quoted) && !name.empty() &&
        (quoted || std::isalnum(static_cast<unsigned char>(name[0])) || name[0] == '_')) {
      st.kind = InfluxqlStatement::Kind::kCreateDatabase;
      st.database = name.substr(0, 200);
    }
  }
  return st;
}

}  // namespace

std::string parse_influxql(std::string_view text, std::vector<InfluxqlStatement>* out) {
  out->clear();
  size_t start = 0;
  char quote = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    char c = i < text.size() ? text[i] : ';';
    if (quote != 0) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
      if (i < text.size()) continue;
      return "unterminated quote";
    }
    if (c == '"' || c == '\'') {
      quote = c;
      continue;
    }
    if (c != ';') continue;
    std::string_view statement = trim(text.substr(start, i - start));
    start = i + 1;
    if (statement.empty()) continue;
    if (out->size() == kMaxInfluxqlStatements) {
      return "more than " + std::to_string(kMaxInfluxqlStatements) + " statements";
    }
    out->push_back(classify(statement));
  }
  if (out->empty()) return "empty query";
  return "";
}

}  // namespace edgemon::ingest
