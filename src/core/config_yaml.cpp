// YAML → Config. libyaml's document loader gives us a node tree with the
// line and column of every node, which is all we need for errors that point
// at the offending key.
#include <yaml.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "core/config_assign.hpp"
#include "core/config_loader.hpp"
#include "core/read_file.hpp"

namespace edgemon::config {
namespace {

std::string_view scalar_text(const yaml_node_t* node) {
  return {reinterpret_cast<const char*>(node->data.scalar.value), node->data.scalar.length};
}

bool is_null(const yaml_node_t* node) {
  if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
    return false;
  }
  std::string_view t = scalar_text(node);
  return t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL";
}

const char* kind_name(const yaml_node_t* node) {
  switch (node->type) {
    case YAML_MAPPING_NODE:
      return "a mapping";
    case YAML_SEQUENCE_NODE:
      return "a list";
    default:
      return "a value";
  }
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// Visits a struct's declared keys against one YAML mapping.
class YamlReader {
 public:
  YamlReader(yaml_document_t* doc, yaml_node_t* mapping, std::string prefix,
             const std::string& file, Errors& errors)
      : doc_(doc), mapping_(mapping), prefix_(std::move(prefix)), file_(file), errors_(errors) {
    if (mapping_ != nullptr) {
      size_t n = static_cast<size_t>(mapping_->data.mapping.pairs.top -
                                     mapping_->data.mapping.pairs.start);
      used_.assign(n, false);
    }
  }

  template <detail::ScalarKey T, typename Constraint>
  void field(std::string_view name, T& value, std::string_view, Constraint constraint) {
    known_.push_back(name);
    yaml_node_t* node = find(name);
    if (node == nullptr || is_null(node)) return;
    if (node->type != YAML_SCALAR_NODE) {
      error(node, name, std::string("expected a value, got ") + kind_name(node));
      return;
    }
    if (std::string err = detail::assign(scalar_text(node), value, constraint); !err.empty()) {
      error(node, name, err);
    }
  }

  void field(std::string_view name, std::vector<std::string>& value, std::string_view,
             StringCheck check) {
    known_.push_back(name);
    yaml_node_t* node = find(name);
    if (node == nullptr) return;
    std::vector<std::string> items;
    if (is_null(node)) {
      value.clear();
      return;
    }
    if (node->type == YAML_SCALAR_NODE) {
      // A single value where a list is expected is taken as a one-item list.
      if (std::string err = detail::assign_item(scalar_text(node), items, check); !err.empty()) {
        error(node, name, err);
        return;
      }
    } else if (node->type == YAML_SEQUENCE_NODE) {
      for (yaml_node_item_t* it = node->data.sequence.items.start;
           it < node->data.sequence.items.top; ++it) {
        yaml_node_t* item = yaml_document_get_node(doc_, *it);
        if (item->type != YAML_SCALAR_NODE) {
          error(item, name, std::string("list items must be values, got ") + kind_name(item));
          continue;
        }
        if (std::string err = detail::assign_item(scalar_text(item), items, check); !err.empty()) {
          error(item, name, err);
        }
      }
    } else {
      error(node, name, "expected a list, got a mapping");
      return;
    }
    value = std::move(items);
  }

  // A mapping of names to values. It replaces the default as a whole, like a
  // list does, so a file can say exactly which entries exist.
  void field(std::string_view name, StringMap& value, std::string_view, StringCheck check_name) {
    known_.push_back(name);
    yaml_node_t* node = find(name);
    if (node == nullptr) return;
    if (is_null(node)) {
      value.clear();
      return;
    }
    if (node->type != YAML_MAPPING_NODE) {
      error(node, name,
            std::string("expected a mapping of names to values, got ") + kind_name(node));
      return;
    }
    StringMap entries;
    for (yaml_node_pair_t* p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         ++p) {
      yaml_node_t* key = yaml_document_get_node(doc_, p->key);
      yaml_node_t* item = yaml_document_get_node(doc_, p->value);
      if (key->type != YAML_SCALAR_NODE) {
        error(key, name, "keys must be plain names");
        continue;
      }
      std::string entry = std::string(name) + "." + std::string(scalar_text(key));
      if (entries.count(std::string(scalar_text(key))) > 0) {
        error(key, entry, "duplicate key");
        continue;
      }
      if (item->type != YAML_SCALAR_NODE) {
        error(item, entry, std::string("expected a value, got ") + kind_name(item));
        continue;
      }
      std::string_view text = is_null(item) ? std::string_view() : scalar_text(item);
      if (std::string err = detail::assign_entry(scalar_text(key), text, entries, check_name);
          !err.empty()) {
        error(key, name, err);
      }
    }
    value = std::move(entries);
  }

  // A list of sections: each item is a mapping read into a default S, so an
  // item only names the keys it changes.
  template <typename S>
  void list(std::string_view name, std::vector<S>& items, std::string_view) {
    read_list(name, items, [] { return S{}; });
  }

  // One list key per registered kind of the family; each item starts from
  // the kind's defaults.
  void kinds(KindLists& lists) {
    for (const KindDecl* decl : registered_kinds(lists.family)) {
      std::vector<Instance> of_kind;
      for (auto& i : lists.instances) {
        if (i.kind == decl->kind) of_kind.push_back(std::move(i));
      }
      std::erase_if(lists.instances, [&](const Instance& i) { return i.kind == decl->kind; });
      read_list(decl->kind, of_kind, [decl] { return Instance(*decl); });
      for (auto& i : of_kind)
        lists.instances.push_back(std::move(i));
    }
  }

  template <typename S>
  void section(std::string_view name, S& value, std::string_view) {
    known_.push_back(name);
    yaml_node_t* node = find(name);
    if (node == nullptr || is_null(node)) return;
    if (node->type != YAML_MAPPING_NODE) {
      error(node, name, std::string("expected a mapping, got ") + kind_name(node));
      return;
    }
    YamlReader child(doc_, node, prefix_ + std::string(name) + ".", file_, errors_);
    value.visit(child);
    child.finish();
  }

  // Reports keys the struct did not declare, and duplicate keys.
  void finish() {
    if (mapping_ == nullptr) return;
    size_t i = 0;
    for (yaml_node_pair_t* p = mapping_->data.mapping.pairs.start;
         p < mapping_->data.mapping.pairs.top; ++p, ++i) {
      yaml_node_t* key = yaml_document_get_node(doc_, p->key);
      if (key->type != YAML_SCALAR_NODE) {
        error(key, "", "keys must be plain names");
        continue;
      }
      std::string_view name = scalar_text(key);
      if (used_[i]) continue;
      bool declared = false;
      for (std::string_view k : known_)
        declared = declared || k == name;
      if (declared) {
        error(key, name, "duplicate key");
        continue;
      }
      std::string message = "unknown key";
      std::string_view best;
      size_t best_distance = 3;
      for (std::string_view k : known_) {
        size_t d = edit_distance(name, k);
        if (d < best_distance) {
          best_distance = d;
          best = k;
        }
      }
      if (!best.empty()) message += " (did you mean '" + std::string(best) + "'?)";
      error(key, name, message);
    }
  }

 private:
  template <typename S, typename Make>
  void read_list(std::string_view name, std::vector<S>& items, Make make) {
    known_.push_back(name);
    yaml_node_t* node = find(name);
    if (node == nullptr) return;
    if (is_null(node)) {
      items.clear();
      return;
    }
    if (node->type != YAML_SEQUENCE_NODE) {
      error(node, name, std::string("expected a list of mappings, got ") + kind_name(node));
      return;
    }
    std::vector<S> read;
    size_t index = 0;
    for (yaml_node_item_t* it = node->data.sequence.items.start; it < node->data.sequence.items.top;
         ++it, ++index) {
      yaml_node_t* item = yaml_document_get_node(doc_, *it);
      std::string path = std::string(name) + "[" + std::to_string(index) + "]";
      if (item->type != YAML_MAPPING_NODE) {
        error(item, path, std::string("list items must be mappings, got ") + kind_name(item));
        continue;
      }
      S& value = read.emplace_back(make());
      YamlReader child(doc_, item, prefix_ + path + ".", file_, errors_);
      value.visit(child);
      child.finish();
    }
    items = std::move(read);
  }

  yaml_node_t* find(std::string_view name) {
    if (mapping_ == nullptr) return nullptr;
    size_t i = 0;
    for (yaml_node_pair_t* p = mapping_->data.mapping.pairs.start;
         p < mapping_->data.mapping.pairs.top; ++p, ++i) {
      yaml_node_t* key = yaml_document_get_node(doc_, p->key);
      if (key->type == YAML_SCALAR_NODE && scalar_text(key) == name && !used_[i]) {
        used_[i] = true;
        return yaml_document_get_node(doc_, p->value);
      }
    }
    return nullptr;
  }

  void error(const yaml_node_t* node, std::string_view name, std::string message) {
    errors_.push_back(ConfigError{file_, static_cast<int>(node->start_mark.line) + 1,
                                  static_cast<int>(node->start_mark.column) + 1,
                                  prefix_ + std::string(name), std::move(message)});
  }

  yaml_document_t* doc_;
  yaml_node_t* mapping_;
  std::string prefix_;
  const std::string& file_;
  Errors& errors_;
  std::vector<bool> used_;
  std::vector<std::string_view> known_;
};

struct ParserDeleter {
  void operator()(yaml_parser_t* p) const {
    yaml_parser_delete(p);
    delete p;
  }
};
struct DocumentDeleter {
  void operator()(yaml_document_t* d) const {
    yaml_document_delete(d);
    delete d;
  }
};

// libyaml's document loader takes superlinear time on deep nesting (a
// 100,000-deep file held a reload for 25 s); the event parser is linear and
// stops at the first level too deep. No key of edgemon is nested deeper
// than a handful of levels.
std::optional<ConfigError> check_depth(std::string_view yaml, const std::string& name) {
  std::unique_ptr<yaml_parser_t, ParserDeleter> parser(new yaml_parser_t{});
  if (!yaml_parser_initialize(parser.get())) {
    return ConfigError{name, 0, 0, "", "out of memory initialising the YAML parser"};
  }
  yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(yaml.data()),
                               yaml.size());
  int depth = 0;
  while (true) {
    yaml_event_t event;
    if (!yaml_parser_parse(parser.get(), &event)) return std::nullopt;  // the loader says why
    yaml_event_type_t type = event.type;
    yaml_mark_t mark = event.start_mark;
    yaml_event_delete(&event);
    if (type == YAML_STREAM_END_EVENT) return std::nullopt;
    if (type == YAML_MAPPING_START_EVENT || type == YAML_SEQUENCE_START_EVENT) {
      if (++depth > kMaxConfigDepth) {
        return ConfigError{name, static_cast<int>(mark.line) + 1, static_cast<int>(mark.column) + 1,
                           "", "nested deeper than " + std::to_string(kMaxConfigDepth) + " levels"};
      }
    } else if (type == YAML_MAPPING_END_EVENT || type == YAML_SEQUENCE_END_EVENT) {
      --depth;
    }
  }
}

}  // namespace

Errors load_yaml_string(std::string_view yaml, const std::string& name, Config* out) {
  Errors errors;
  if (yaml.size() > kMaxConfigBytes) {
    errors.push_back({name, 0, 0, "",
                      "is " + std::to_string(yaml.size()) + " bytes; a configuration is at most " +
                          std::to_string(kMaxConfigBytes) + " bytes"});
    return errors;
  }
  if (std::optional<ConfigError> deep = check_depth(yaml, name)) {
    errors.push_back(std::move(*deep));
    return errors;
  }
  std::unique_ptr<yaml_parser_t, ParserDeleter> parser(new yaml_parser_t{});
  if (!yaml_parser_initialize(parser.get())) {
    errors.push_back({name, 0, 0, "", "out of memory initialising the YAML parser"});
    return errors;
  }
  yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(yaml.data()),
                               yaml.size());
  // A stream of several documents (a config server's device-type defaults,
  // then the device's own) is applied in order, each over the last.
  while (true) {
    auto* raw_doc = new yaml_document_t{};
    if (!yaml_parser_load(parser.get(), raw_doc)) {
      delete raw_doc;
      const yaml_parser_t& p = *parser;
      std::string message =
          std::string("YAML syntax error: ") + (p.problem ? p.problem : "unknown");
      if (p.context) message += std::string(" ") + p.context;
      errors.push_back({name, static_cast<int>(p.problem_mark.line) + 1,
                        static_cast<int>(p.problem_mark.column) + 1, "", message});
      return errors;
    }
    std::unique_ptr<yaml_document_t, DocumentDeleter> doc(raw_doc);
    yaml_node_t* root = yaml_document_get_root_node(doc.get());
    // No root: the end of the stream. An empty document means all defaults.
    if (root == nullptr) return errors;
    if (is_null(root)) continue;
    if (root->type != YAML_MAPPING_NODE) {
      errors.push_back(
          {name, static_cast<int>(root->start_mark.line) + 1,
           static_cast<int>(root->start_mark.column) + 1, "",
           std::string("the top level must be a mapping of keys, got ") + kind_name(root)});
      return errors;
    }
    YamlReader reader(doc.get(), root, "", name, errors);
    out->visit(reader);
    reader.finish();
  }
}

Errors check_single_document(std::string_view yaml, const std::string& name) {
  std::unique_ptr<yaml_parser_t, ParserDeleter> parser(new yaml_parser_t{});
  if (!yaml_parser_initialize(parser.get())) {
    return {ConfigError{name, 0, 0, "", "out of memory initialising the YAML parser"}};
  }
  yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(yaml.data()),
                               yaml.size());
  int documents = 0;
  while (true) {
    yaml_event_t event;
    if (!yaml_parser_parse(parser.get(), &event)) return {};  // the loader says why
    yaml_event_type_t type = event.type;
    yaml_mark_t mark = event.start_mark;
    bool directives = type == YAML_DOCUMENT_START_EVENT &&
                      (event.data.document_start.version_directive != nullptr ||
                       event.data.document_start.tag_directives.start !=
                           event.data.document_start.tag_directives.end);
    yaml_event_delete(&event);
    if (type == YAML_STREAM_END_EVENT) return {};
    auto at = [&](std::string message) {
      return Errors{ConfigError{name, static_cast<int>(mark.line) + 1,
                                static_cast<int>(mark.column) + 1, "", std::move(message)}};
    };
    if (directives) return at("YAML directives (%YAML, %TAG) are not accepted here");
    if (type == YAML_DOCUMENT_START_EVENT && ++documents > 1) {
      return at("holds more than one YAML document; send one");
    }
  }
}

Errors load_yaml_file(const std::string& path, Config* out) {
  // A directory (or a FIFO) at the path must not read as an empty file,
  // which would load as "all defaults" and drop outputs and tokens.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return {ConfigError{path, 0, 0, "", std::string("cannot read: ") + std::strerror(errno)}};
  }
  if (!S_ISREG(st.st_mode)) {
    return {ConfigError{path, 0, 0, "", "not a regular file"}};
  }
  std::string text;
  if (std::string err = read_file(path, &text, kMaxConfigBytes); !err.empty()) {
    return {ConfigError{path, 0, 0, "",
                        "cannot read: " + err.substr(std::min(err.size(), path.size() + 2))}};
  }
  return load_yaml_string(text, path, out);
}

}  // namespace edgemon::config
