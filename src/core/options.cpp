#include "core/options.hpp"

#include <algorithm>
#include <cctype>

#include "core/config_assign.hpp"

namespace edgemon::config {
namespace {

// Built on first use: registrations run during static initialisation, in
// no defined order across files.
std::vector<KindDecl>& catalog() {
  static std::vector<KindDecl> kinds;
  return kinds;
}

}  // namespace

KindRegistration::KindRegistration(KindDecl decl) {
  auto& kinds = catalog();
  auto at = std::lower_bound(kinds.begin(), kinds.end(), decl, [](const auto& a, const auto& b) {
    return std::tie(a.family, a.kind) < std::tie(b.family, b.kind);
  });
  kinds.insert(at, std::move(decl));
}

std::vector<const KindDecl*> registered_kinds(std::string_view family) {
  std::vector<const KindDecl*> out;
  for (const auto& k : catalog()) {
    if (k.family == family) out.push_back(&k);
  }
  return out;
}

const KindDecl* find_kind(std::string_view family, std::string_view kind) {
  for (const auto& k : catalog()) {
    if (k.family == family && k.kind == kind) return &k;
  }
  return nullptr;
}

Instance::Instance(const KindDecl& decl)
    : kind(decl.kind), interval(decl.default_interval), options(decl.make()) {}

Instance::Instance(const Instance& other)
    : kind(other.kind),
      name(other.name),
      interval(other.interval),
      options(other.options ? other.options->clone() : nullptr) {}

Instance& Instance::operator=(const Instance& other) {
  if (this != &other) *this = Instance(other);
  return *this;
}

std::string Instance::canonical_text() const {
  std::string out = "kind: " + kind + "\n";
  CanonicalWriter writer(out, "");
  Instance copy(*this);  // visit() takes its keys by reference to fill them
  copy.visit(writer);
  return out;
}

std::string Instance::check_instance_name(std::string_view text) {
  bool ok = text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
            });
  if (ok) return "";
  return "expected 1 to 64 of a-z, 0-9, _ and - (got '" + std::string(text) + "')";
}

const KindDecl* Instance::find_kind_of(const Instance& instance) {
  for (const auto& k : catalog()) {
    if (k.kind == instance.kind) return &k;
  }
  return nullptr;
}

std::vector<const Instance*> KindLists::of(std::string_view kind) const {
  std::vector<const Instance*> out;
  for (const auto& i : instances) {
    if (i.kind == kind) out.push_back(&i);
  }
  return out;
}

void KindLists::validate(const std::string& path, Errors& errors) const {
  std::vector<size_t> index_in_kind(instances.size());
  for (size_t i = 0; i < instances.size(); ++i) {
    const Instance& in = instances[i];
    size_t n = 0;
    for (size_t j = 0; j < i; ++j)
      n += instances[j].kind == in.kind ? 1 : 0;
    index_in_kind[i] = n;
    std::string at = path + "." + in.kind + "[" + std::to_string(n) + "]";
    if (in.name.empty()) {
      errors.push_back({"", 0, 0, at + ".name", "is required: a unique name such as 'board'"});
    }
    for (size_t j = 0; j < i && !in.name.empty(); ++j) {
      if (instances[j].name != in.name) continue;
      errors.push_back({"", 0, 0, at + ".name",
                        "'" + in.name + "' is already the name of " + path + "." +
                            instances[j].kind + "[" + std::to_string(index_in_kind[j]) +
                            "]; each needs its own"});
      break;
    }
    if (in.options != nullptr) in.options->validate(at, errors);
  }
}

SectionSet::SectionSet(std::string family) : family_(std::move(family)) {
  for (const KindDecl* decl : registered_kinds(family_)) {
    if (decl->make) entries_.push_back({decl, decl->make()});
  }
}

SectionSet::SectionSet(const SectionSet& other) : family_(other.family_) {
  for (const auto& e : other.entries_)
    entries_.push_back({e.decl, e.options->clone()});
}

SectionSet& SectionSet::operator=(const SectionSet& other) {
  if (this != &other) {
    SectionSet copy(other);
    family_ = std::move(copy.family_);
    entries_ = std::move(copy.entries_);
  }
  return *this;
}

std::string SectionSet::canonical_text() const {
  std::string out;
  for (const auto& e : entries_) {
    CanonicalWriter writer(out, e.decl->kind + ".");
    auto copy = e.options->clone();
    KeyVisitorFor<CanonicalWriter> erased(writer);
    copy->visit(erased);
  }
  return out;
}

const Options* SectionSet::find(std::string_view kind) const {
  for (const auto& e : entries_) {
    if (e.decl->kind == kind) return e.options.get();
  }
  return nullptr;
}

}  // namespace edgemon::config
