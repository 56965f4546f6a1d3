#pragma once
// libprotobuf-c, loaded with dlopen() by the first remote_write output (or
// the first request encoded or decoded, in the tests and tools), never
// linked: a daemon without such an output never maps it.
//
// remote_write.proto turns off protoc-c's pack/unpack helpers, which would
// call the library by name; the messages are packed and unpacked through
// these pointers with the generated descriptors instead
// (`unpack(&prometheus__write_request__descriptor, ...)`).
#include <protobuf-c/protobuf-c.h>

#include <string>

namespace edgemon::outputs {

struct ProtobufCLibrary {
  decltype(&::protobuf_c_message_get_packed_size) get_packed_size;
  decltype(&::protobuf_c_message_pack) pack;
  decltype(&::protobuf_c_message_unpack) unpack;
  decltype(&::protobuf_c_message_free_unpacked) free_unpacked;
};

// The loaded library, or null with *error saying why (libprotobuf-c1 not
// installed, say). Loads at most once; thread-safe.
const ProtobufCLibrary* protobuf_c_library(std::string* error = nullptr);

}  // namespace edgemon::outputs
