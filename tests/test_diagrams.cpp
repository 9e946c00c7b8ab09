// Diagram classes against brute force: every labelled diagram enumerated and sorted into its
// class, and the closed forms of DESIGN §4.
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/property_map/function_property_map.hpp>
#include <map>
#include <numeric>
#include <set>

#include "diagrams/automorphisms.hpp"
#include "diagrams/diagram.hpp"
#include "engine/jet.hpp"

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

// Every rotation of a cyclic sequence: two sequences are the same ring iff these sets agree.
std::set<std::vector<int>> rotations(std::vector<int> s) {
  std::set<std::vector<int>> out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    out.insert(s);
    std::rotate(s.begin(), s.begin() + 1, s.end());
  }
  return out;
}

// |Aut| counted on the class's graph (nauty on the half-edge graph).
std::uint64_t graph_automorphisms(const DiagramClass& c) {
  const graph g = to_graph(c);
  return count_automorphisms(g, boost::make_function_property_map<graph::vertex_descriptor>(
                                    [&g](graph::vertex_descriptor v) { return colour_of(g[v]); }));
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
    const auto classes = tree_classes(n);
    CHECK(classes.size() == by_shape.size());
    std::uint64_t total = 0;
    for (const DiagramClass& c : classes) {
      CAPTURE(c.sizes);
      CHECK(c.kind == diagram_kind::tree);
      CHECK(c.order() == n);
      CHECK(c.sign == 1);
      CHECK(c.multiplicity == by_shape.at(c.sizes));
      // |Aut| = Π m_b! · Π_s c_s!
      std::uint64_t aut = 1;
      std::map<int, int> count;
      for (int m : c.sizes) aut *= fact(m), ++count[m];
      for (auto [m, k] : count) aut *= fact(k);
      CHECK(c.automorphisms == aut);
      CHECK(graph_automorphisms(c) == aut);
      total += c.multiplicity;
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
    std::map<std::set<std::vector<int>>, std::uint64_t> by_class;
    std::uint64_t rings = 0;
    for (const auto& p : parts) {
      // p[0] holds leg 0; arrange the other blocks in every order after it.
      std::vector<int> order(p.size() - 1);
      std::iota(order.begin(), order.end(), 1);
      do {
        std::vector<int> sizes{static_cast<int>(p[0].size())};
        for (int b : order) sizes.push_back(static_cast<int>(p[b].size()));
        ++by_class[rotations(sizes)];
        ++rings;
      } while (std::next_permutation(order.begin(), order.end()));
    }
    const auto classes = ring_classes(n);
    CHECK(classes.size() == by_class.size());
    std::uint64_t total = 0;
    for (const DiagramClass& c : classes) {
      CAPTURE(c.sizes);
      CHECK(c.kind == diagram_kind::ring);
      CHECK(c.multiplicity == by_class.at(rotations(c.sizes)));
      // |Aut| = Π m_s! · ρ, ρ = rotations that keep the size sequence.
      const std::size_t r = c.sizes.size();
      std::uint64_t rho = 0;
      for (std::size_t shift = 0; shift < r; ++shift) {
        std::vector<int> s = c.sizes;
        std::rotate(s.begin(), s.begin() + static_cast<long>(shift), s.end());
        rho += s == c.sizes;
      }
      std::uint64_t aut = rho;
      for (int m : c.sizes) aut *= fact(m);
      CHECK(c.automorphisms == aut);
      CHECK(graph_automorphisms(c) == aut);
      CHECK(c.sign == (r % 2 ? -1 : 1));
      total += c.multiplicity;
    }
    CHECK(total == rings);
    // One unit with all mₛ = 1: (n−1)! rings, as the series of −ln(1 + 2αy) demands.
    for (const DiagramClass& c : classes)
      if (c.vertex_count() == n) CHECK(c.multiplicity == fact(n - 1));
  }
}

TEST_CASE("classes are pruned by the jet's degree and rings, lazily") {
  // The filtered enumeration equals the full one with the filter applied afterwards.
  for (int n = 0; n <= 10; ++n)
    for (int degree = 1; degree <= 12; ++degree)
      for (bool rings : {false, true}) {
        const ClassFilter f{degree, rings};
        std::vector<DiagramClass> expect;
        for (const DiagramClass& c : classes(n))
          if (c.max_derivative() <= degree && (rings || c.kind == diagram_kind::tree))
            expect.push_back(c);
        CHECK(classes(n, f) == expect);
      }
  // Quadratic activation (degree 2) at order 20: trees = partitions of 20 into parts 1 and 2
  // (11 of them), one ring (twenty one-leg vertices, (20-1)! labelled copies).
  int trees = 0, rings = 0;
  for_each_class(20, ClassFilter{2, true}, [&](const DiagramClass& c) {
    (c.kind == diagram_kind::tree ? trees : rings) += 1;
    if (c.kind == diagram_kind::ring) CHECK(c.multiplicity == fact(19));
  });
  CHECK(trees == 11);
  CHECK(rings == 1);
}

TEST_CASE("each layer type admits its own classes") {
  auto count = [](std::string_view type, int n) {
    return classes(n, flowaction::class_filter(*flowaction::find_layer_spec(type))).size();
  };
  CHECK(count("affine", 4) == 1);
  CHECK(count("actnorm", 4) == 1);
  CHECK(count("coupling", 4) == 5);
  CHECK(count("activation", 4) == 5 + 5);
}
