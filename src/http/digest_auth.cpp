#include "http/digest_auth.hpp"

#include <uv.h>

#include <cctype>
#include <cstdio>
#include <random>

namespace edgemon::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool is_token_char(char c) {
  // RFC 7230 tchar.
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Walks one WWW-Authenticate value: scheme tokens and their auth-params.
class ChallengeReader {
 public:
  explicit ChallengeReader(std::string_view text) : text_(text) {}

  void skip_separators() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == ',')) {
      ++pos_;
    }
  }
  void skip_spaces() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t'))
      ++pos_;
  }
  bool done() const { return pos_ >= text_.size(); }

  std::string_view token() {
    size_t start = pos_;
    while (pos_ < text_.size() && is_token_char(text_[pos_]))
      ++pos_;
    return text_.substr(start, pos_ - start);
  }

  // After a token: is it a parameter name (followed by '=')? Does not move.
  bool at_equals() const {
    size_t p = pos_;
    while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t'))
      ++p;
    return p < text_.size() && text_[p] == '=';
  }

  // After a parameter name: '=' and a token or a quoted-string.
  bool value(std::string* out) {
    skip_spaces();
    if (pos_ >= text_.size() || text_[pos_] != '=') return false;
    ++pos_;
    skip_spaces();
    out->clear();
    if (pos_ < text_.size() && text_[pos_] == '"') {
      ++pos_;
      while (pos_ < text_.size() && text_[pos_] != '"') {
        if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
        *out += text_[pos_++];
      }
      if (pos_ >= text_.size()) return false;  // unterminated
      ++pos_;
      return true;
    }
    *out = std::string(token());
    return !out->empty();
  }

  size_t position() const { return pos_; }
  void skip_one() { ++pos_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

bool qop_has_auth(std::string_view list) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string_view item =
        list.substr(start, comma == std::string_view::npos ? list.npos : comma - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
      item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
      item.remove_suffix(1);
    if (iequals(item, "auth")) return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

struct Candidate {
  DigestChallenge challenge;
  std::string refusal;  // "" when usable
};

// Reads the challenges of one header value, appending the Digest ones.
void read_challenges(std::string_view text, std::vector<Candidate>& out) {
  ChallengeReader r(text);
  Candidate* current = nullptr;
  bool saw_nonce = false;
  auto finish = [&] {
    if (current != nullptr && current->refusal.empty() && !saw_nonce) {
      current->refusal = "the Digest challenge has no nonce";
    }
  };
  while (true) {
    r.skip_separators();
    if (r.done()) break;
    size_t before = r.position();
    std::string_view name = r.token();
    if (name.empty()) {
      r.skip_one();  // a stray byte: not ours to judge, go on
      continue;
    }
    if (!r.at_equals()) {
      // A new challenge's scheme.
      finish();
      current = nullptr;
      if (iequals(name, "Digest")) {
        out.emplace_back();
        current = &out.back();
        saw_nonce = false;
      }
      continue;
    }
    std::string value;
    if (!r.value(&value)) {
      if (current != nullptr) current->refusal = "a malformed Digest challenge";
      if (r.position() == before) r.skip_one();
      continue;
    }
    if (current == nullptr) continue;  // a parameter of another scheme
    DigestChallenge& c = current->challenge;
    if (iequals(name, "realm")) {
      c.realm = value;
    } else if (iequals(name, "nonce")) {
      c.nonce = value;
      saw_nonce = !value.empty();
    } else if (iequals(name, "opaque")) {
      c.opaque = value;
      c.has_opaque = true;
    } else if (iequals(name, "qop")) {
      c.qop_auth = qop_has_auth(value);
      if (!c.qop_auth) current->refusal = "the server offers only qop=" + value;
    } else if (iequals(name, "stale")) {
      c.stale = iequals(value, "true");
    } else if (iequals(name, "algorithm")) {
      if (iequals(value, "SHA-256")) {
        c.algorithm = DigestAlgorithm::kSha256;
      } else if (iequals(value, "MD5")) {
        c.algorithm = DigestAlgorithm::kMd5;
      } else {
        current->refusal = "unsupported digest algorithm " + value;
      }
    } else if (iequals(name, "userhash") && iequals(value, "true")) {
      current->refusal = "the server asks for userhash, which is not supported";
    }
  }
  finish();
}

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

std::optional<DigestChallenge> parse_digest_challenge(const std::vector<std::string>& values,
                                                      std::string* error) {
  std::vector<Candidate> candidates;
  for (const std::string& v : values)
    read_challenges(v, candidates);
  const Candidate* best = nullptr;
  for (const Candidate& c : candidates) {
    if (!c.refusal.empty()) continue;
    if (best == nullptr || (c.challenge.algorithm == DigestAlgorithm::kSha256 &&
                            best->challenge.algorithm != DigestAlgorithm::kSha256)) {
      best = &c;
    }
  }
  if (best != nullptr) return best->challenge;
  if (error != nullptr) {
    *error = candidates.empty() ? "the server asks for authentication but offers no Digest "
                                  "challenge"
                                : candidates.front().refusal;
  }
  return std::nullopt;
}

std::optional<std::string> DigestSession::authorization(std::string_view method,
                                                        std::string_view uri,
                                                        std::string_view cnonce,
                                                        std::string* error) {
  if (!challenge_) {
    if (error != nullptr) *error = "no digest challenge received yet";
    return std::nullopt;
  }
  const DigestChallenge& c = *challenge_;
  auto hash = [&](const std::string& text) { return hex_digest(c.algorithm, text, error); };
  auto ha1 = hash(username_ + ":" + c.realm + ":" + password_);
  auto ha2 = hash(std::string(method) + ":" + std::string(uri));
  if (!ha1 || !ha2) return std::nullopt;
  ++nonce_count_;
  char nc[9];
  std::snprintf(nc, sizeof nc, "%08x", nonce_count_);
  std::optional<std::string> response =
      c.qop_auth
          ? hash(*ha1 + ":" + c.nonce + ":" + nc + ":" + std::string(cnonce) + ":auth:" + *ha2)
          : hash(*ha1 + ":" + c.nonce + ":" + *ha2);
  if (!response) return std::nullopt;

  std::string h = "Authorization: Digest username=" + quoted(username_) +
                  ", realm=" + quoted(c.realm) + ", nonce=" + quoted(c.nonce) +
                  ", uri=" + quoted(uri) +
                  ", algorithm=" + (c.algorithm == DigestAlgorithm::kSha256 ? "SHA-256" : "MD5");
  if (c.qop_auth) {
    h += ", qop=auth, nc=";
    h += nc;
    h += ", cnonce=" + quoted(cnonce);
  }
  h += ", response=" + quoted(*response);
  if (c.has_opaque) h += ", opaque=" + quoted(c.opaque);
  return h;
}

std::string random_cnonce() {
  unsigned char bytes[16];
  // uv_random without a loop is synchronous: getrandom(2), non-blocking
  // once the kernel pool is initialised, which it is long after boot.
  if (uv_random(nullptr, nullptr, bytes, sizeof bytes, 0, nullptr) != 0) {
    std::random_device fallback;
    for (unsigned char& b : bytes)
      b = static_cast<unsigned char>(fallback());
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

}  // namespace edgemon::http
