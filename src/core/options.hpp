#pragma once
// Options that a kind of source or output declares in its own file, and the
// catalog of those kinds. The config structs of config.hpp declare their
// keys in a template visit(V&) that the three visitors (YAML reader, key
// setter, reference writer) instantiate; a kind registered from a file that
// core knows nothing about cannot be instantiated that way. KeyVisitor is
// the same key vocabulary as virtual calls, so one declaration, written in
// the same template style, serves all three visitors through type erasure.
//
//   struct TegrastatsOptions {
//     std::string path = "/usr/bin/tegrastats";
//     template <class V> void visit(V& v) { v.field("path", path, "...", nullptr); }
//   };
//   const config::KindRegistration kTegrastats{
//       {"sources", "tegrastats", "Jetson power and load.",
//       config::make_options<TegrastatsOptions>,
//        1s}};
//
// YAML then takes `sources: {tegrastats: [{name: board, interval: 1s, path: ...}]}`.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/config_assign.hpp"
#include "core/config_error.hpp"
#include "core/config_types.hpp"

namespace edgemon::config {

// One overload per key type the config structs use; constraints as there.
class KeyVisitor {
 public:
  virtual ~KeyVisitor() = default;
  virtual void field(std::string_view name, std::string& value, std::string_view help,
                     StringCheck check) = 0;
  virtual void field(std::string_view name, int64_t& value, std::string_view help,
                     IntRange range) = 0;
  virtual void field(std::string_view name, double& value, std::string_view help,
                     DoubleRange range) = 0;
  virtual void field(std::string_view name, Duration& value, std::string_view help,
                     IntRange range) = 0;
  virtual void field(std::string_view name, ByteSize& value, std::string_view help,
                     IntRange range) = 0;
  virtual void field(std::string_view name, bool& value, std::string_view help, std::nullptr_t) = 0;
  virtual void field(std::string_view name, std::vector<std::string>& value, std::string_view help,
                     StringCheck check) = 0;
  virtual void field(std::string_view name, StringMap& value, std::string_view help,
                     StringCheck check_name) = 0;
  // A nested mapping whose keys `visit` declares.
  virtual void section(std::string_view name, std::string_view help,
                       const std::function<void(KeyVisitor&)>& visit) = 0;
};

// What a template visit(V&) is given when it runs behind a KeyVisitor.
class ErasedVisitor {
 public:
  explicit ErasedVisitor(KeyVisitor& to) : to_(to) {}

  template <typename T, typename Constraint>
  void field(std::string_view name, T& value, std::string_view help, Constraint constraint) {
    to_.field(name, value, help, constraint);
  }
  template <typename S>
  void section(std::string_view name, S& value, std::string_view help) {
    to_.section(name, help, [&value](KeyVisitor& child) {
      ErasedVisitor erased(child);
      value.visit(erased);
    });
  }

 private:
  KeyVisitor& to_;
};

// A KeyVisitor that forwards to one of the concrete template visitors.
template <typename V>
class KeyVisitorFor final : public KeyVisitor {
 public:
  explicit KeyVisitorFor(V& to) : to_(to) {}

  void field(std::string_view name, std::string& value, std::string_view help,
             StringCheck check) override {
    to_.field(name, value, help, check);
  }
  void field(std::string_view name, int64_t& value, std::string_view help,
             IntRange range) override {
    to_.field(name, value, help, range);
  }
  void field(std::string_view name, double& value, std::string_view help,
             DoubleRange range) override {
    to_.field(name, value, help, range);
  }
  void field(std::string_view name, Duration& value, std::string_view help,
             IntRange range) override {
    to_.field(name, value, help, range);
  }
  void field(std::string_view name, ByteSize& value, std::string_view help,
             IntRange range) override {
    to_.field(name, value, help, range);
  }
  void field(std::string_view name, bool& value, std::string_view help,
             std::nullptr_t none) override {
    to_.field(name, value, help, none);
  }
  void field(std::string_view name, std::vector<std::string>& value, std::string_view help,
             StringCheck check) override {
    to_.field(name, value, help, check);
  }
  void field(std::string_view name, StringMap& value, std::string_view help,
             StringCheck check_name) override {
    to_.field(name, value, help, check_name);
  }
  void section(std::string_view name, std::string_view help,
               const std::function<void(KeyVisitor&)>& visit) override {
    Nested nested{visit};
    to_.section(name, nested, help);
  }

 private:
  struct Nested {
    const std::function<void(KeyVisitor&)>& visit_keys;
    template <typename C>
    void visit(C& concrete) {
      KeyVisitorFor<C> erased(concrete);
      visit_keys(erased);
    }
  };
  V& to_;
};

// "key: value" per key, nested keys dotted: two configurations with the
// same text are the same, which is how a reload tells what changed.
class CanonicalWriter {
 public:
  CanonicalWriter(std::string& out, std::string prefix) : out_(out), prefix_(std::move(prefix)) {}

  template <typename T, typename Constraint>
  void field(std::string_view name, const T& value, std::string_view, Constraint) {
    out_ += prefix_;
    out_ += name;
    out_ += ": ";
    out_ += detail::to_yaml(value);
    out_ += '\n';
  }
  template <typename S>
  void section(std::string_view name, S& value, std::string_view) {
    CanonicalWriter child(out_, prefix_ + std::string(name) + ".");
    value.visit(child);
  }

 private:
  std::string& out_;
  std::string prefix_;
};

// The canonical text of a struct with a template visit(V&) (taken by value:
// visiting needs its keys by reference).
template <typename S>
std::string canonical_text(S keys) {
  std::string out;
  CanonicalWriter writer(out, "");
  keys.visit(writer);
  return out;
}

// The options of one instance of a kind, behind a uniform interface.
class Options {
 public:
  virtual ~Options() = default;
  virtual void visit(KeyVisitor& v) = 0;
  [[nodiscard]] virtual std::unique_ptr<Options> clone() const = 0;
  // Checks across keys; `path` prefixes the keys named in errors.
  virtual void validate(const std::string& path, Errors& errors) const = 0;
};

template <typename T>
concept SelfValidating = requires(const T& t, const std::string& path, Errors& errors) {
  t.validate(path, errors);
};

template <typename T>
class OptionsOf final : public Options {
 public:
  T value;

  void visit(KeyVisitor& v) override {
    ErasedVisitor erased(v);
    value.visit(erased);
  }
  std::unique_ptr<Options> clone() const override { return std::make_unique<OptionsOf>(*this); }
  void validate(const std::string& path, Errors& errors) const override {
    if constexpr (SelfValidating<T>) value.validate(path, errors);
  }
};

template <typename T>
std::unique_ptr<Options> make_options() {
  return std::make_unique<OptionsOf<T>>();
}

// A kind of source or output, as the configuration knows it.
struct KindDecl {
  std::string family;  // "sources" or "outputs": the section its instances are listed in
  std::string kind;    // the key its instances are listed under
  std::string help;
  std::function<std::unique_ptr<Options>()> make;
  // Polled kinds: an `interval` key with this default. Zero: the kind is
  // event-driven (a child's output, a socket) and has no interval key.
  Duration default_interval{0};
};

// Kept for the life of the program; declared at namespace scope in the
// kind's own file.
struct KindRegistration {
  explicit KindRegistration(KindDecl decl);
};

// The kinds of a family, sorted by kind name.
std::vector<const KindDecl*> registered_kinds(std::string_view family);
const KindDecl* find_kind(std::string_view family, std::string_view kind);

// One configured instance: `name` and, for polled kinds, `interval`, then
// the kind's own options. Copies are deep, so a Config stays a value.
struct Instance {
  std::string kind;
  std::string name;
  Duration interval{0};
  std::unique_ptr<Options> options;

  Instance() = default;
  Instance(const KindDecl& decl);
  Instance(const Instance& other);
  Instance& operator=(const Instance& other);
  Instance(Instance&&) = default;
  Instance& operator=(Instance&&) = default;

  // The kind's options struct; T must be the type its declaration makes.
  template <typename T>
  const T& as() const {
    return static_cast<const OptionsOf<T>&>(*options).value;
  }

  // Every key with its value: two instances with the same text are
  // configured identically (a reload keeps such an instance running).
  std::string canonical_text() const;

  // name, interval, then the kind's keys.
  template <typename V>
  void visit(V& v) {
    const KindDecl* decl = find_kind_of(*this);
    v.field("name", name,
            "Unique name of this instance, used in logs, /status and as the `source` label of "
            "a source's series (the `output` label of an output's). Required; 1 to 64 of a-z, "
            "0-9, _ and -.",
            check_instance_name);
    if (decl != nullptr && decl->default_interval.count() > 0) {
      v.field("interval", interval, "Time between collections of this instance.",
              IntRange{100, 86400000});
    }
    if (options != nullptr) {
      KeyVisitorFor<V> erased(v);
      options->visit(erased);
    }
  }

  static std::string check_instance_name(std::string_view text);

 private:
  static const KindDecl* find_kind_of(const Instance& instance);
};

// The instances of every kind of one family, as YAML lists them: one key
// per registered kind.
struct KindLists {
  std::string family;
  std::vector<Instance> instances;  // grouped by kind, in the order written

  // The instances of one kind.
  std::vector<const Instance*> of(std::string_view kind) const;
  // name required and unique in the family, then each kind's own checks.
  void validate(const std::string& path, Errors& errors) const;
};

// One section of options per registered kind of a family that declares
// some (collect.filesystem, collect.diskstats, ...): always present, with
// the kind's defaults until the configuration says otherwise.
class SectionSet {
 public:
  explicit SectionSet(std::string family);
  SectionSet(const SectionSet& other);
  SectionSet& operator=(const SectionSet& other);

  // The options of `kind`, which must be registered with type T.
  template <typename T>
  const T& get(std::string_view kind) const {
    return static_cast<const OptionsOf<T>&>(*find(kind)).value;
  }

  template <typename T>
  T& get_mut(std::string_view kind) {
    return static_cast<OptionsOf<T>&>(*find(kind)).value;
  }

  // Every section's keys with their values, "kind.key: value" per line.
  std::string canonical_text() const;

  template <typename V>
  void visit_sections(V& v) {
    for (auto& e : entries_) {
      View view{*e.options};
      v.section(e.decl->kind, view, e.decl->help);
    }
  }

 private:
  struct Entry {
    const KindDecl* decl;
    std::unique_ptr<Options> options;
  };
  struct View {
    Options& options;
    template <typename V>
    void visit(V& v) {
      KeyVisitorFor<V> erased(v);
      options.visit(erased);
    }
  };
  const Options* find(std::string_view kind) const;
  Options* find(std::string_view kind) {
    return const_cast<Options*>(std::as_const(*this).find(kind));
  }

  std::string family_;
  std::vector<Entry> entries_;
};

}  // namespace edgemon::config
