#include <cstdio>

#include "core/config_loader.hpp"

int main() {
  std::fputs(edgemon::config::render_reference_yaml().c_str(), stdout);
  return 0;
}
