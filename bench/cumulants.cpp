// Benchmark of the Feynman-diagram generator (prints figures; not a test): every connected vacuum
// diagram of a theory with cubic and quartic vertices up to 4, 5 and 6 loops — wall time and the
// number of isomorphism classes (each generated, deduplicated by canonical form and given its
// automorphism count).
#include <fmt/format.h>

#include <chrono>
#include <map>

#include "diagrams/feynman.hpp"

using namespace flowaction::diagrams;

int main() {
  const FeynmanRules rules{{3, 4}, false};
  fmt::print("vacuum diagrams with cubic and quartic vertices (connected, up to isomorphism)\n");
  fmt::print("{:>6} {:>10} {:>10}\n", "loops", "diagrams", "seconds");
  for (int loops = 4; loops <= 6; ++loops) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<FeynmanDiagram> d = feynman_diagrams(0, loops, rules);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print("{:>6} {:>10} {:>10.3f}\n", loops, d.size(), s);
  }
  return 0;
}
