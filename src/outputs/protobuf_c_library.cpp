#include "outputs/protobuf_c_library.hpp"

#include "core/shared_library.hpp"

// The default of every string field, named by protoc-c's descriptors and
// *__INIT macros: the one thing the generated code still takes from the
// library at link time. The library never reads its own copy -- it tells a
// default string from an allocated one by the descriptor's default_value,
// which points here -- so this definition keeps the binary free of any
// reference to libprotobuf-c.
const char protobuf_c_empty_string[] = "";

namespace edgemon::outputs {
namespace {

struct Loaded {
  ProtobufCLibrary library{};
  std::string error;
};

Loaded load() {
  Loaded l;
  SharedLibrary so("libprotobuf-c.so.1", "libprotobuf-c1");
  ProtobufCLibrary& p = l.library;
  if (!so.bind("protobuf_c_message_get_packed_size", &p.get_packed_size) ||
      !so.bind("protobuf_c_message_pack", &p.pack) ||
      !so.bind("protobuf_c_message_unpack", &p.unpack) ||
      !so.bind("protobuf_c_message_free_unpacked", &p.free_unpacked)) {
    l.error = so.error();
  }
  return l;
}

}  // namespace

const ProtobufCLibrary* protobuf_c_library(std::string* error) {
  static const Loaded loaded = load();
  if (!loaded.error.empty()) {
    if (error != nullptr) *error = loaded.error;
    return nullptr;
  }
  return &loaded.library;
}

}  // namespace edgemon::outputs
