// The Feynman-diagram generator against independent counts: symmetry factors worked out by hand,
// numbers of diagrams from OEIS, and Σ 1/S against a brute-force count of Wick contractions.
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <map>
#include <numeric>
#include <vector>

#include "diagrams/feynman.hpp"

using namespace flowaction::diagrams;

namespace {

std::uint64_t fact(int n) {
  return n <= 1 ? 1 : static_cast<std::uint64_t>(n) * fact(n - 1);
}

VertexContent content(int legs, std::vector<int> interactions, int sources = 0) {
  return VertexContent{legs, sources, std::move(interactions)};
}

// Edge multiplicities between vertices (a loop counted once at [v][v]).
std::vector<std::vector<int>> multiplicities(const FeynmanDiagram& d) {
  const std::size_t n = boost::num_vertices(d.graph);
  std::vector<std::vector<int>> mu(n, std::vector<int>(n, 0));
  for (auto [e, end] = boost::edges(d.graph); e != end; ++e) {
    const auto s = boost::source(*e, d.graph), t = boost::target(*e, d.graph);
    ++mu[s][t];
    if (s != t) ++mu[t][s];
  }
  return mu;
}

// The number of perfect matchings of the edge ends of the given vertices (legs: one end each,
// told apart) that form a connected graph, by enumerating every matching. Each labelled diagram
// arises from Π_k k!^{n_k} n_k! of them divided by its symmetry factor S.
std::uint64_t connected_matchings(const VertexContent& c) {
  std::vector<int> owner;  // vertex of each edge end
  int v = 0;
  for (int i = 0; i < c.legs + c.sources; ++i) owner.push_back(v++);
  for (int k : c.interactions) {
    for (int i = 0; i < k; ++i) owner.push_back(v);
    ++v;
  }
  const int vertices = v;
  std::vector<int> partner(owner.size(), -1);
  std::uint64_t count = 0;
  auto connected = [&] {
    std::vector<int> root(static_cast<std::size_t>(vertices));
    std::iota(root.begin(), root.end(), 0);
    auto find = [&](int x) {
      while (root[static_cast<std::size_t>(x)] != x) x = root[static_cast<std::size_t>(x)];
      return x;
    };
    for (std::size_t e = 0; e < owner.size(); ++e)
      root[static_cast<std::size_t>(find(owner[e]))] =
          find(owner[static_cast<std::size_t>(partner[e])]);
    for (int x = 0; x < vertices; ++x)
      if (find(x) != find(0)) return false;
    return true;
  };
  auto match = [&](auto&& self) -> void {
    const auto first = std::find(partner.begin(), partner.end(), -1);
    if (first == partner.end()) {
      count += connected() ? 1 : 0;
      return;
    }
    const auto a = static_cast<std::size_t>(first - partner.begin());
    for (std::size_t b = a + 1; b < partner.size(); ++b) {
      if (partner[b] != -1) continue;
      partner[a] = static_cast<int>(b);
      partner[b] = static_cast<int>(a);
      self(self);
      partner[a] = partner[b] = -1;
    }
  };
  match(match);
  return count;
}

// Π_k k!^{n_k} n_k! over the interaction vertices and the sources (legs are told apart).
std::uint64_t vertex_symmetry(const VertexContent& c) {
  std::map<int, int> n;
  for (int k : c.interactions) ++n[k];
  std::uint64_t p = fact(c.sources);
  for (auto [k, m] : n) {
    for (int i = 0; i < m; ++i) p *= fact(k);
    p *= fact(m);
  }
  return p;
}

}  // namespace

TEST_CASE("symmetry factors worked out by hand") {
  // Figure-eight: each loop flips (2 · 2) and the two loops swap (2).
  const auto eight = feynman_diagrams(content(0, {4}));
  REQUIRE(eight.size() == 1);
  CHECK(eight[0].symmetry_factor == 8);
  CHECK(eight[0].loops() == 2);

  // 2-point tadpole: the loop flips.
  const auto tadpole = feynman_diagrams(content(2, {4}));
  REQUIRE(tadpole.size() == 1);
  CHECK(tadpole[0].symmetry_factor == 2);
  CHECK(tadpole[0].automorphisms == 4);  // and the two legs swap
  CHECK(tadpole[0].labelled_copies() == 1);
  CHECK(tadpole[0].loops() == 1);

  // Order g² of the 2-point function: the sunset (3 parallel edges permute, 3! = 6), the double
  // tadpole (a tadpole on each vertex of the line: 2 · 2) and the cactus (a tadpole on a double
  // edge: the loop flips, the double edge swaps, 2 · 2).
  std::map<std::string, std::uint64_t> factor;
  for (const FeynmanDiagram& d : feynman_diagrams(content(2, {4, 4}))) {
    const auto mu = multiplicities(d);  // vertices: legs 0, 1, then v0 = 2, v1 = 3
    CHECK(d.loops() == 2);
    if (mu[2][3] == 3)
      factor["sunset"] = d.symmetry_factor;
    else if (mu[2][2] == 1 && mu[3][3] == 1)
      factor["double tadpole"] = d.symmetry_factor;
    else if (mu[2][3] == 2)
      factor["cactus"] = d.symmetry_factor;
  }
  CHECK(factor ==
        std::map<std::string, std::uint64_t>{{"cactus", 4}, {"double tadpole", 4}, {"sunset", 6}});

  // Cubic vacuum diagrams with two vertices: the theta (3! edge permutations · 2 vertex swap)
  // and the dumbbell (two loop flips · 2 vertex swap).
  std::vector<std::uint64_t> cubic;
  for (const FeynmanDiagram& d : feynman_diagrams(content(0, {3, 3})))
    cubic.push_back(d.symmetry_factor);
  std::sort(cubic.begin(), cubic.end());
  CHECK(cubic == std::vector<std::uint64_t>{8, 12});

  // The cubic 1-point tadpole (loop flip) and a source on a propagator line to a leg.
  const auto one_point = feynman_diagrams(content(1, {3}));
  REQUIRE(one_point.size() == 1);
  CHECK(one_point[0].symmetry_factor == 2);
  const auto shifted = feynman_diagrams(content(1, {}, 1));
  REQUIRE(shifted.size() == 1);
  CHECK(shifted[0].symmetry_factor == 1);
  CHECK(shifted[0].loops() == 1);  // no cycle, one source
}

TEST_CASE("diagram counts per order against OEIS") {
  // A352174: connected 2-point phi^4 graphs with m vertices and the two legs told apart
  // ("4-regular multigraphs rooted at an oriented edge, loops allowed"); A361135 (offset 1):
  // the same with the legs interchangeable.
  const std::uint64_t a352174[] = {1, 1, 3, 10, 39, 174};
  const std::size_t a361135[] = {1, 1, 3, 8, 30, 118};  // m = 0 (the bare line) prepended
  for (int m = 0; m <= 5; ++m) {
    const auto d = feynman_diagrams(content(2, std::vector<int>(static_cast<std::size_t>(m), 4)));
    std::uint64_t labelled = 0;
    for (const FeynmanDiagram& x : d) labelled += x.labelled_copies();
    CAPTURE(m);
    CHECK(labelled == a352174[m]);
    CHECK(d.size() == a361135[m]);
  }
  // A361447: connected 2-point phi^3 graphs on 2n cubic vertices, legs interchangeable.
  const std::size_t a361447[] = {1, 2, 9, 49, 338};
  for (int n = 0; n <= 4; ++n) {
    CAPTURE(n);
    CHECK(
        feynman_diagrams(content(2, std::vector<int>(static_cast<std::size_t>(2 * n), 3))).size() ==
        a361447[n]);
  }
  // A129429 counts all phi^4 vacuum graphs, connected or not: 1, 1, 3, 7, 20 for m = 0 … 4
  // vertices. It is the Euler transform of the connected counts c_m: Π_m (1 − x^m)^(−c_m).
  std::vector<std::uint64_t> c(5, 0);
  for (int m = 1; m <= 4; ++m)
    c[static_cast<std::size_t>(m)] =
        feynman_diagrams(content(0, std::vector<int>(static_cast<std::size_t>(m), 4))).size();
  CHECK(c == std::vector<std::uint64_t>{0, 1, 2, 4, 10});
  std::vector<std::uint64_t> all{1, 0, 0, 0, 0};
  for (int m = 1; m <= 4; ++m)
    for (std::uint64_t copy = 0; copy < c[static_cast<std::size_t>(m)]; ++copy)
      for (int x = m; x <= 4; ++x)  // multiply by 1/(1 − x^m)
        all[static_cast<std::size_t>(x)] += all[static_cast<std::size_t>(x - m)];
  CHECK(all == std::vector<std::uint64_t>{1, 1, 3, 7, 20});
}

TEST_CASE("sum of 1/S over the labelled diagrams equals the count of Wick contractions") {
  // Σ_labelled 1/S = Σ_classes n!/|Aut| = (connected matchings) / Π_k k!^{n_k} n_k!, the
  // matchings enumerated one by one (at most 13!! = 135135 of them).
  const VertexContent cases[] = {
      content(0, {4, 4}),    content(0, {3, 3, 3, 3}), content(0, {3, 3, 4, 4}),
      content(2, {4, 4}),    content(2, {3, 3, 4}),    content(4, {3, 3, 4}),
      content(4, {4, 4}),    content(1, {3, 3, 3}),    content(3, {3, 3, 3, 3}),
      content(1, {3, 4}, 1), content(0, {3, 3}, 2),    content(2, {3, 3, 5}),
      content(0, {6, 3, 3}), content(2, {}, 2),        content(3, {3}),
  };
  for (const VertexContent& c : cases) {
    CAPTURE(c.legs);
    CAPTURE(c.sources);
    CAPTURE(c.interactions);
    const std::vector<FeynmanDiagram> d = feynman_diagrams(c);
    // Σ n!/|Aut| = N / P as the exact fraction: compare N · Π|Aut| with P · Σ n! Π_{other}|Aut|
    // through a common denominator, the lcm of the |Aut|.
    std::uint64_t lcm = 1;
    for (const FeynmanDiagram& x : d) lcm = std::lcm(lcm, x.automorphisms);
    std::uint64_t sum = 0;  // Σ n!/|Aut| · lcm
    for (const FeynmanDiagram& x : d) sum += fact(c.legs) * (lcm / x.automorphisms);
    CHECK(sum * vertex_symmetry(c) == connected_matchings(c) * lcm);
    for (const FeynmanDiagram& x : d) {
      CHECK(x.legs == c.legs);
      CHECK(x.automorphisms % x.symmetry_factor == 0);
      CHECK(boost::num_vertices(x.graph) ==
            static_cast<std::size_t>(c.legs + c.sources) + c.interactions.size());
    }
  }
}

TEST_CASE("diagrams by loops: the rule 2·loops = Σ|k − 2| − n + 2 and the vacuum of 6 loops") {
  const FeynmanRules phi34{{3, 4}, false};
  for (int legs = 0; legs <= 4; ++legs)
    for (const VertexContent& c : vertex_contents(legs, 3, phi34)) {
      int twice = 2 - legs + c.sources;
      for (int k : c.interactions) twice += k - 2;
      CHECK(twice <= 6);
      CHECK(twice - 2 * c.sources >= 0);  // cycles
    }
  // A vertex content with n sources needs them: none without the rules' Γ⁽¹⁾.
  for (const VertexContent& c : vertex_contents(1, 4, phi34)) CHECK(c.sources == 0);
  // The connected cubic vacuum graphs on 2n vertices (A005967: 2, 5, 17, 71, 388) appear among
  // the diagrams of up to n + 1 loops; everything up to 6 loops is generated at once.
  const std::vector<FeynmanDiagram> vacuum = feynman_diagrams(0, 6, phi34);
  std::map<std::pair<int, int>, std::size_t> by_content;  // (cubic, quartic) → diagrams
  for (const FeynmanDiagram& d : vacuum) {
    CHECK(d.loops() <= 6);
    const std::vector<int> v = d.valences();
    ++by_content[{v.size() > 3 ? v[3] : 0, v.size() > 4 ? v[4] : 0}];
  }
  CHECK(by_content[{2, 0}] == 2);
  CHECK(by_content[{4, 0}] == 5);
  CHECK(by_content[{6, 0}] == 17);
  CHECK(by_content[{8, 0}] == 71);
  CHECK(by_content[{10, 0}] == 388);
  CHECK(by_content[{0, 5}] == 28);  // phi^4 vacuum, 5 vertices
  CHECK(vacuum.size() == 7132);
}
