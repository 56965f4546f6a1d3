#pragma once
// Fake sysfs trees for the power collectors' tests: a temporary directory
// filled from a tree file (test/fixtures/sysfs/power-tree.txt format:
// "<path>\t<content>" or "<path>\t-> <symlink target>"), removed again by
// the destructor.
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cmocka_all.hpp"
#include "core/read_file.hpp"

class SysfsTree {
 public:
  SysfsTree() {
    char tmpl[] = "/tmp/edgemon-sysfs-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    root_ = tmpl;
    // Readable by an unprivileged user too (the EACCES test drops root).
    chmod(root_.c_str(), 0755);
  }
  ~SysfsTree() {
    nftw(
        root_.c_str(), [](const char* p, const struct stat*, int, FTW*) { return remove(p); }, 16,
        FTW_DEPTH | FTW_PHYS);
  }
  SysfsTree(const SysfsTree&) = delete;
  SysfsTree& operator=(const SysfsTree&) = delete;

  const std::string& root() const { return root_; }
  // What collect.sysfs is set to: the tree's sys/.
  std::string sysfs() const { return root_ + "/sys"; }

  void load(const std::string& tree_file) {
    std::string text;
    assert_string_equal(edgemon::read_file(tree_file, &text).c_str(), "");
    std::string_view rest = text;
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      if (line.empty() || line.front() == '#') continue;
      size_t tab = line.find('\t');
      assert_true(tab != std::string_view::npos);
      std::string path(line.substr(0, tab));
      std::string_view content = line.substr(tab + 1);
      if (content.starts_with("-> "))
        link(path, std::string(content.substr(3)));
      else
        write(path, std::string(content) + "\n");
    }
  }

  void write(const std::string& relative, std::string_view content) const {
    make_parents(relative);
    std::string full = root_ + "/" + relative;
    FILE* f = fopen(full.c_str(), "w");
    assert_non_null(f);
    fwrite(content.data(), 1, content.size(), f);
    fclose(f);
  }

  void link(const std::string& relative, const std::string& target) const {
    make_parents(relative);
    assert_int_equal(symlink(target.c_str(), (root_ + "/" + relative).c_str()), 0);
  }

  void remove_file(const std::string& relative) const {
    assert_int_equal(remove((root_ + "/" + relative).c_str()), 0);
  }

 private:
  void make_parents(const std::string& relative) const {
    for (size_t slash = relative.find('/'); slash != std::string::npos;
         slash = relative.find('/', slash + 1))
      mkdir((root_ + "/" + relative.substr(0, slash)).c_str(), 0755);
  }

  std::string root_;
};
