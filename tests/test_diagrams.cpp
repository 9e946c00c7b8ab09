// Diagram classes against brute force: every labelled diagram enumerated and sorted into its
// class, and the closed forms of DESIGN §4.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <numeric>

#include "diagrams/diagram.hpp"

using namespace flowaction::diagrams;

namespace {

// All set partitions of {0..n-1}, as block lists.
void set_partitions(int n, std::vector<std::vector<std::vector<int>>>& out) {
  std::vector<std::vector<int>> blocks;
  auto rec = [&](auto&& self, int e) -> void {
    if (e == n) {
      out.push_back(blocks);
      return;
    }
    for (std::size_t b = 0; b < blocks.size(); ++b) {  // by index: the recursion grows blocks
      blocks[b].push_back(e);
      self(self, e + 1);
      blocks[b].pop_back();
    }
    blocks.push_back({e});
    self(self, e + 1);
    blocks.pop_back();
  };
  rec(rec, 0);
}

std::uint64_t fact(int n) {
  return n <= 1 ? 1 : n * fact(n - 1);
}

std::vector<int> least_rotation(std::vector<int> s) {
  std::vector<int> best = s;
  for (std::size_t i = 0; i < s.size(); ++i) {
    std::rotate(s.begin(), s.begin() + 1, s.end());
    best = std::min(best, s);
  }
  return best;
}

}  // namespace

TEST_CASE(
    "tree classes: labelled copies counted on the graph equal brute force and the closed form") {
  const std::uint64_t bell[] = {1, 1, 2, 5, 15, 52, 203, 877, 4140};
  for (int n = 0; n <= 8; ++n) {
    std::vector<std::vector<std::vector<int>>> parts;
    set_partitions(n, parts);
    CHECK(parts.size() == bell[n]);
    std::map<std::vector<int>, std::uint64_t> by_shape;
    for (const auto& p : parts) {
      std::vector<int> shape;
      for (const auto& b : p) shape.push_back(static_cast<int>(b.size()));
      std::sort(shape.begin(), shape.end(), std::greater<>());
      ++by_shape[shape];
    }
    const auto classes = tree_diagrams(n);
    CHECK(classes.size() == by_shape.size());
    std::uint64_t total = 0;
    for (const Diagram& c : classes) {
      CAPTURE(c.describe());
      CHECK(c.kind() == diagram_kind::tree);
      CHECK(c.order() == n);
      CHECK(c.sign() == 1);
      CHECK(c.multiplicity() == by_shape.at(c.sizes()));
      // |Aut| = Π m_b! · Π_s c_s!
      std::uint64_t aut = 1;
      std::map<int, int> count;
      for (int m : c.sizes()) aut *= fact(m), ++count[m];
      for (auto [m, k] : count) aut *= fact(k);
      CHECK(c.automorphisms() == aut);
      total += c.multiplicity();
    }
    CHECK(total == bell[n]);
  }
}

TEST_CASE(
    "ring classes: labelled rings counted on the graph equal brute force and the closed form") {
  for (int n = 1; n <= 7; ++n) {
    // Labelled rings: sequences of blocks up to rotation; the canonical one starts with the
    // block holding leg 0.
    std::vector<std::vector<std::vector<int>>> parts;
    set_partitions(n, parts);
    std::map<std::vector<int>, std::uint64_t> by_class;
    std::uint64_t rings = 0;
    for (const auto& p : parts) {
      // p[0] holds leg 0; arrange the other blocks in every order after it.
      std::vector<int> order(p.size() - 1);
      std::iota(order.begin(), order.end(), 1);
      do {
        std::vector<int> sizes{static_cast<int>(p[0].size())};
        for (int b : order) sizes.push_back(static_cast<int>(p[b].size()));
        ++by_class[least_rotation(sizes)];
        ++rings;
      } while (std::next_permutation(order.begin(), order.end()));
    }
    const auto classes = ring_diagrams(n);
    CHECK(classes.size() == by_class.size());
    std::uint64_t total = 0;
    for (const Diagram& c : classes) {
      CAPTURE(c.describe());
      CHECK(c.multiplicity() == by_class.at(c.sizes()));
      // |Aut| = Π m_s! · ρ, ρ = rotations that keep the size sequence.
      const std::size_t r = c.sizes().size();
      std::uint64_t rho = 0;
      for (std::size_t shift = 0; shift < r; ++shift) {
        std::vector<int> s = c.sizes();
        std::rotate(s.begin(), s.begin() + static_cast<long>(shift), s.end());
        rho += s == c.sizes();
      }
      std::uint64_t aut = rho;
      for (int m : c.sizes()) aut *= fact(m);
      CHECK(c.automorphisms() == aut);
      CHECK(c.sign() == (r % 2 ? -1 : 1));
      total += c.multiplicity();
    }
    CHECK(total == rings);
    // One unit with all mₛ = 1: (n−1)! rings, as the series of −ln(1 + 2αy) demands.
    for (const Diagram& c : classes)
      if (c.vertex_count() == n) CHECK(c.multiplicity() == fact(n - 1));
  }
}

TEST_CASE("each layer type uses its own classes, built once") {
  CHECK(layer_diagrams(layer_kind::affine, 4).size() == 1);
  CHECK(layer_diagrams(layer_kind::coupling, 4).size() == 5);
  CHECK(layer_diagrams(layer_kind::activation, 4).size() == 5 + 5);
  CHECK(&layer_diagrams(layer_kind::activation, 4) == &layer_diagrams(layer_kind::activation, 4));
}
