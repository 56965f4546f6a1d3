// Replays a fuzz target's corpus (every file under the directories given) as
// a plain regression test, so a normal build runs each parser over every
// input the fuzzer ever found interesting. `make fuzz` links the same target
// with libFuzzer instead.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int replay(const std::string& path, int* count) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "replay: cannot stat %s\n", path.c_str());
    return 1;
  }
  if (S_ISDIR(st.st_mode)) {
    DIR* dir = opendir(path.c_str());
    if (dir == nullptr) return 1;
    std::vector<std::string> entries;
    while (dirent* e = readdir(dir)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") entries.push_back(path + "/" + name);
    }
    closedir(dir);
    int rc = 0;
    for (const auto& entry : entries)
      rc |= replay(entry, count);
    return rc;
  }
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(data.data(), data.size());
  ++*count;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int count = 0;
  int rc = 0;
  for (int i = 1; i < argc; ++i)
    rc |= replay(argv[i], &count);
  if (count == 0) {
    std::fprintf(stderr, "replay: no corpus files found\n");
    return 1;
  }
  std::printf("replayed %d inputs\n", count);
  return rc;
}
