// Diagram classes against brute force: every labelled diagram enumerated and sorted into its
// class, and the closed forms of DESIGN §4.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <numeric>

#include "diagrams/automorphisms.hpp"
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

TEST_CASE("automorphism counter on graphs with known groups") {
  using G = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS>;
  auto count = [](const G& g) {
    // Undirected: an edge counts in both directions.
    const std::size_t n = boost::num_vertices(g);
    std::vector<std::vector<int>> m(n, std::vector<int>(n, 0));
    for (auto [e, end] = boost::edges(g); e != end; ++e) {
      ++m[boost::source(*e, g)][boost::target(*e, g)];
      ++m[boost::target(*e, g)][boost::source(*e, g)];
    }
    return count_automorphisms_of_matrix(std::vector<int>(n, 0), m);
  };
  G petersen(10);
  for (int i = 0; i < 5; ++i) {
    boost::add_edge(i, (i + 1) % 5, petersen);
    boost::add_edge(i, i + 5, petersen);
    boost::add_edge(5 + i, 5 + (i + 2) % 5, petersen);
  }
  CHECK(count(petersen) == 120);
  G k4(4);
  for (int i = 0; i < 4; ++i)
    for (int j = i + 1; j < 4; ++j) boost::add_edge(i, j, k4);
  CHECK(count(k4) == 24);
  G cycle(6);
  for (int i = 0; i < 6; ++i) boost::add_edge(i, (i + 1) % 6, cycle);
  CHECK(count(cycle) == 12);
  // A directed cycle has only its rotations; a loop and a double edge are told apart.
  const std::vector<std::vector<int>> directed = {{0, 1, 0}, {0, 0, 1}, {1, 0, 0}};
  CHECK(count_automorphisms_of_matrix({0, 0, 0}, directed) == 3);
  CHECK(count_automorphisms_of_matrix({0, 0}, {{1, 0}, {0, 2}}) == 1);
  CHECK(count_automorphisms_of_matrix({0, 0}, {{1, 0}, {0, 1}}) == 2);
}

TEST_CASE("each layer type uses its own classes, built once") {
  CHECK(layer_diagrams(layer_kind::affine, 4).size() == 1);
  CHECK(layer_diagrams(layer_kind::coupling, 4).size() == 5);
  CHECK(layer_diagrams(layer_kind::activation, 4).size() == 5 + 5);
  CHECK(&layer_diagrams(layer_kind::activation, 4) == &layer_diagrams(layer_kind::activation, 4));
}
