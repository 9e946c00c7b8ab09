// Automorphism counts and canonical forms of coloured multigraphs (nauty on the half-edge graph).
// Every expected value is a closed form derived in a comment here or a brute-force count over
// vertex and edge permutations, never a number taken from the code under test.
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/property_map/function_property_map.hpp>
#include <boost/property_map/property_map.hpp>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "diagrams/automorphisms.hpp"
#include "diagrams/diagram.hpp"

using namespace flowaction::diagrams;

namespace {

// A multigraph as plain data: the brute force reads this, the code under test a Boost graph
// built from it.
struct multigraph {
  std::vector<int> colour;                 // one per vertex
  std::vector<std::pair<int, int>> edges;  // (source, target)
  bool directed = false;
};

using ugraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS>;
using dgraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;

template <class G>
G to_boost(const multigraph& m) {
  G g(m.colour.size());
  for (auto [s, t] : m.edges) boost::add_edge(s, t, g);
  return g;
}

auto colour_map(const multigraph& m) {
  return boost::make_iterator_property_map(m.colour.begin(), boost::identity_property_map());
}

std::uint64_t nauty_count(const multigraph& m) {
  if (m.directed) return count_automorphisms(to_boost<dgraph>(m), colour_map(m));
  return count_automorphisms(to_boost<ugraph>(m), colour_map(m));
}

std::vector<std::uint64_t> nauty_form(const multigraph& m) {
  if (m.directed) return canonical_form(to_boost<dgraph>(m), colour_map(m));
  return canonical_form(to_boost<ugraph>(m), colour_map(m));
}

std::uint64_t fact(int n) {
  return n <= 1 ? 1 : static_cast<std::uint64_t>(n) * fact(n - 1);
}

// Edge multiplicities μ(u, v); undirected graphs count an edge in both directions, a loop once.
std::vector<std::vector<int>> multiplicities(const multigraph& m) {
  const std::size_t n = m.colour.size();
  std::vector<std::vector<int>> mu(n, std::vector<int>(n, 0));
  for (auto [s, t] : m.edges) {
    ++mu[static_cast<std::size_t>(s)][static_cast<std::size_t>(t)];
    if (!m.directed && s != t) ++mu[static_cast<std::size_t>(t)][static_cast<std::size_t>(s)];
  }
  return mu;
}

// |Aut| by enumerating pairs (vertex permutation π, edge permutation σ): the pair is an
// automorphism when π keeps colours and every edge e = (s, t) goes to an edge σ(e) with endpoints
// (π s, π t), in either order if undirected. On the half-edge graph each such pair is realised by
// 2^(number of loops) permutations when undirected (a loop's two half-edges may be swapped; a
// non-loop edge's half-edges are fixed by their distinct endpoints) and by exactly one when
// directed (tails go to tails).
std::uint64_t brute_force_by_edges(const multigraph& m) {
  const std::size_t n = m.colour.size(), e = m.edges.size();
  std::vector<int> pi(n);
  std::iota(pi.begin(), pi.end(), 0);
  std::uint64_t pairs = 0;
  do {
    bool colours_kept = true;
    for (std::size_t v = 0; v < n; ++v)
      colours_kept = colours_kept && m.colour[v] == m.colour[static_cast<std::size_t>(pi[v])];
    if (!colours_kept) continue;
    std::vector<std::size_t> sigma(e);
    std::iota(sigma.begin(), sigma.end(), 0);
    do {
      bool ok = true;
      for (std::size_t k = 0; k < e && ok; ++k) {
        const int s = pi[static_cast<std::size_t>(m.edges[k].first)];
        const int t = pi[static_cast<std::size_t>(m.edges[k].second)];
        const auto [s2, t2] = m.edges[sigma[k]];
        ok = (s == s2 && t == t2) || (!m.directed && s == t2 && t == s2);
      }
      pairs += ok;
    } while (std::next_permutation(sigma.begin(), sigma.end()));
  } while (std::next_permutation(pi.begin(), pi.end()));
  if (m.directed) return pairs;
  int loops = 0;
  for (auto [s, t] : m.edges) loops += s == t;
  return pairs << loops;
}

// |Aut| = Σ over colour-preserving vertex permutations π with μ(π u, π v) = μ(u, v) for all u, v
// of the edge permutations and flips that go with π:
//   undirected: Π_{u<v} μ(u,v)! · Π_u μ(u,u)! · 2^μ(u,u)  (parallel edges swap, loops also flip);
//   directed:   Π_{u,v} μ(u,v)!                           (loops included, never flipped).
// The factor does not depend on π, so |Aut| = (number of such π) · factor.
std::uint64_t brute_force_by_formula(const multigraph& m) {
  const std::size_t n = m.colour.size();
  const auto mu = multiplicities(m);
  std::uint64_t factor = 1;
  for (std::size_t u = 0; u < n; ++u)
    for (std::size_t v = m.directed ? 0 : u; v < n; ++v) {
      factor *= fact(mu[u][v]);
      if (!m.directed && u == v) factor <<= mu[u][u];
    }
  std::vector<std::size_t> pi(n);
  std::iota(pi.begin(), pi.end(), 0);
  std::uint64_t perms = 0;
  do {
    bool ok = true;
    for (std::size_t u = 0; u < n && ok; ++u) {
      ok = m.colour[u] == m.colour[pi[u]];
      for (std::size_t v = 0; v < n && ok; ++v) ok = mu[pi[u]][pi[v]] == mu[u][v];
    }
    perms += ok;
  } while (std::next_permutation(pi.begin(), pi.end()));
  return perms * factor;
}

// Colour-preserving multigraph isomorphism by brute force over vertex bijections.
bool brute_force_isomorphic(const multigraph& a, const multigraph& b) {
  const std::size_t n = a.colour.size();
  if (a.directed != b.directed || n != b.colour.size() || a.edges.size() != b.edges.size())
    return false;
  const auto ma = multiplicities(a), mb = multiplicities(b);
  std::vector<std::size_t> pi(n);
  std::iota(pi.begin(), pi.end(), 0);
  do {
    bool ok = true;
    for (std::size_t u = 0; u < n && ok; ++u) {
      ok = a.colour[u] == b.colour[pi[u]];
      for (std::size_t v = 0; v < n && ok; ++v) ok = ma[u][v] == mb[pi[u]][pi[v]];
    }
    if (ok) return true;
  } while (std::next_permutation(pi.begin(), pi.end()));
  return false;
}

// The same graph with vertices renumbered, edges listed in another order and (undirected) the
// endpoints of some edges written the other way round.
multigraph relabel(const multigraph& m, std::mt19937& rng) {
  std::vector<int> p(m.colour.size());
  std::iota(p.begin(), p.end(), 0);
  std::shuffle(p.begin(), p.end(), rng);
  multigraph r{std::vector<int>(m.colour.size()), {}, m.directed};
  for (std::size_t v = 0; v < p.size(); ++v) r.colour[static_cast<std::size_t>(p[v])] = m.colour[v];
  for (auto [s, t] : m.edges) {
    int a = p[static_cast<std::size_t>(s)], b = p[static_cast<std::size_t>(t)];
    if (!m.directed && rng() % 2) std::swap(a, b);
    r.edges.emplace_back(a, b);
  }
  std::shuffle(r.edges.begin(), r.edges.end(), rng);
  return r;
}

multigraph random_multigraph(std::mt19937& rng, int max_vertices, int max_edges, int colours,
                             bool directed) {
  const int n = 1 + static_cast<int>(rng() % static_cast<unsigned>(max_vertices));
  const int e = static_cast<int>(rng() % static_cast<unsigned>(max_edges + 1));
  multigraph m{std::vector<int>(static_cast<std::size_t>(n)), {}, directed};
  for (int& c : m.colour) c = static_cast<int>(rng() % static_cast<unsigned>(colours));
  for (int k = 0; k < e; ++k)
    m.edges.emplace_back(static_cast<int>(rng() % static_cast<unsigned>(n)),
                         static_cast<int>(rng() % static_cast<unsigned>(n)));
  return m;
}

multigraph cycle(int n, bool directed) {
  multigraph m{std::vector<int>(static_cast<std::size_t>(n), 0), {}, directed};
  for (int i = 0; i < n; ++i) m.edges.emplace_back(i, (i + 1) % n);
  return m;
}

struct known_case {
  std::string name;
  multigraph graph;
  std::uint64_t aut;  // closed form, derived in the comment where the case is listed
};

// Simple graphs with textbook groups.
std::vector<known_case> simple_graphs() {
  std::vector<known_case> out;
  // Petersen = Kneser graph K(5,2) (2-subsets of {0..4}, adjacent when disjoint): Aut ≅ S5, 5!.
  multigraph petersen{std::vector<int>(10, 0), {}, false};
  for (int i = 0; i < 5; ++i) {
    petersen.edges.emplace_back(i, (i + 1) % 5);
    petersen.edges.emplace_back(i, i + 5);
    petersen.edges.emplace_back(5 + i, 5 + (i + 2) % 5);
  }
  out.push_back({"Petersen", petersen, 120});
  // K4: every permutation of 4 vertices, 4! = 24.
  multigraph k4{std::vector<int>(4, 0), {}, false};
  for (int i = 0; i < 4; ++i)
    for (int j = i + 1; j < 4; ++j) k4.edges.emplace_back(i, j);
  out.push_back({"K4", k4, 24});
  // C6: dihedral group, 6 rotations × 2 reflections = 12.
  out.push_back({"C6", cycle(6, false), 12});
  // Directed 3-cycle: rotations only, 3.
  out.push_back({"directed C3", cycle(3, true), 3});
  // Path on 5 vertices: identity and reversal, 2. Directed: only the identity, 1.
  multigraph path{std::vector<int>(5, 0), {{0, 1}, {1, 2}, {2, 3}, {3, 4}}, false};
  out.push_back({"path P5", path, 2});
  path.directed = true;
  out.push_back({"directed path P5", path, 1});
  // K_{3,3}: permute each side (3!·3!) and swap the sides (2): 72.
  multigraph k33{std::vector<int>(6, 0), {}, false};
  for (int i = 0; i < 3; ++i)
    for (int j = 3; j < 6; ++j) k33.edges.emplace_back(i, j);
  out.push_back({"K33", k33, 72});
  // K_{3,3} with one side coloured differently: the sides no longer swap, 3!·3! = 36.
  k33.colour = {0, 0, 0, 1, 1, 1};
  out.push_back({"K33 two colours", k33, 36});
  return out;
}

// Feynman diagrams as undirected multigraphs: interaction vertices colour 0; every external leg
// is a vertex of its own colour (1, 2, …), so external points are labelled and never exchanged.
std::vector<known_case> feynman_graphs() {
  std::vector<known_case> out;
  // Figure-eight (φ⁴ vacuum, one vertex, two loops): swap the loops (2!) and flip each (2·2): 8.
  out.push_back({"figure-eight", {{0}, {{0, 0}, {0, 0}}, false}, 8});
  // One-loop tadpole (vertex 0 with legs 1, 2 and a loop): the loop flips, 2.
  out.push_back({"tadpole", {{0, 1, 2}, {{0, 1}, {0, 2}, {0, 0}}, false}, 2});
  // Sunset (0, 1 joined by three edges, one leg each): the legs fix both vertices, the three
  // parallel edges permute, 3! = 6.
  out.push_back({"sunset", {{0, 0, 1, 2}, {{0, 1}, {0, 1}, {0, 1}, {0, 2}, {1, 3}}, false}, 6});
  // Cactus / double tadpole (A = 0 with both legs, two edges A–B, a loop on B): the two parallel
  // edges swap (2!) and the loop flips (2): 4.
  out.push_back({"cactus", {{0, 0, 1, 2}, {{0, 2}, {0, 3}, {0, 1}, {0, 1}, {1, 1}}, false}, 4});
  // Tadpole chain (legs on different vertices, one edge between them, a loop on each): only the
  // two loop flips, 2·2 = 4.
  out.push_back(
      {"tadpole chain", {{0, 0, 1, 2}, {{0, 2}, {1, 3}, {0, 1}, {0, 0}, {1, 1}}, false}, 4});
  // φ⁴ basketball (two vertices, four parallel edges): swap the vertices (2), permute the
  // edges (4!): 48.
  out.push_back({"basketball", {{0, 0}, {{0, 1}, {0, 1}, {0, 1}, {0, 1}}, false}, 48});
  // φ⁴ dumbbell (a loop on each vertex, two parallel edges between them): swap the vertices (2),
  // flip each loop (2·2), swap the parallel edges (2!): 16.
  out.push_back({"phi4 dumbbell", {{0, 0}, {{0, 0}, {1, 1}, {0, 1}, {0, 1}}, false}, 16});
  // φ³ dumbbell (a loop on each vertex, one edge between them): 2 · 2 · 2 = 8.
  out.push_back({"phi3 dumbbell", {{0, 0}, {{0, 0}, {1, 1}, {0, 1}}, false}, 8});
  // φ³ theta (two vertices, three parallel edges): swap the vertices (2), permute the edges
  // (3!): 12.
  out.push_back({"theta", {{0, 0}, {{0, 1}, {0, 1}, {0, 1}}, false}, 12});
  return out;
}

// Σ 1/|Aut| as a reduced fraction (numerator, denominator).
std::pair<std::uint64_t, std::uint64_t> sum_of_inverses(const std::vector<std::uint64_t>& auts) {
  std::uint64_t num = 0, den = 1;
  for (std::uint64_t a : auts) {
    const std::uint64_t l = std::lcm(den, a);
    num = num * (l / den) + l / a;
    den = l;
  }
  const std::uint64_t g = std::gcd(num, den);
  return {num / g, den / g};
}

}  // namespace

TEST_CASE("automorphism counter on graphs with known groups") {
  for (const known_case& c : simple_graphs()) {
    CAPTURE(c.name);
    CHECK(nauty_count(c.graph) == c.aut);
    CHECK(brute_force_by_formula(c.graph) == c.aut);
    if (c.graph.edges.size() <= 6) CHECK(brute_force_by_edges(c.graph) == c.aut);
  }
  // A directed graph keeps its direction: vertex 0 with one loop, vertex 1 with two. The
  // vertices are told apart; the two parallel loops at 1 swap (2!), loops never flip: 2.
  const multigraph loops{{0, 0}, {{0, 0}, {1, 1}, {1, 1}}, true};
  CHECK(nauty_count(loops) == 2);
  CHECK(brute_force_by_edges(loops) == 2);
  // One directed loop on each vertex: only the swap of the vertices, 2.
  const multigraph two_loops{{0, 0}, {{0, 0}, {1, 1}}, true};
  CHECK(nauty_count(two_loops) == 2);
  CHECK(brute_force_by_edges(two_loops) == 2);
  // The same undirected: each loop also flips, 2 · 2 · 2 = 8.
  const multigraph two_undirected_loops{{0, 0}, {{0, 0}, {1, 1}}, false};
  CHECK(nauty_count(two_undirected_loops) == 8);
  CHECK(brute_force_by_edges(two_undirected_loops) == 8);
  // Antiparallel directed edges 0 → 1 → 0: the swap of the vertices, 2; two parallel 0 → 1: only
  // the swap of the edges, 2.
  CHECK(nauty_count({{0, 0}, {{0, 1}, {1, 0}}, true}) == 2);
  CHECK(nauty_count({{0, 0}, {{0, 1}, {0, 1}}, true}) == 2);
  // The empty graph and a single vertex have only the identity.
  CHECK(nauty_count({{}, {}, false}) == 1);
  CHECK(nauty_count({{7}, {}, true}) == 1);
}

TEST_CASE("symmetry factors of Feynman diagrams with loops and parallel edges") {
  for (const known_case& c : feynman_graphs()) {
    CAPTURE(c.name);
    CHECK(nauty_count(c.graph) == c.aut);
    CHECK(brute_force_by_formula(c.graph) == c.aut);
    CHECK(brute_force_by_edges(c.graph) == c.aut);
  }
}

TEST_CASE("symmetry factors reproduce the 0-dimensional phi^4 series (DESIGN 6)") {
  // S = x²/2 + g x⁴/4!: a connected diagram with V vertices contributes (−g)^V / |Aut|.
  std::map<std::string, std::uint64_t> aut;
  for (const known_case& c : feynman_graphs()) aut[c.name] = nauty_count(c.graph);
  // ln(Z/Z₀) = −g/8 + g²/12 + …: the figure-eight; basketball and φ⁴ dumbbell (the only
  // connected vacuum graphs of two quartic vertices: 4 or 2 edges between them).
  CHECK(sum_of_inverses({aut["figure-eight"]}) == std::pair<std::uint64_t, std::uint64_t>{1, 8});
  CHECK(sum_of_inverses({aut["basketball"], aut["phi4 dumbbell"]}) ==
        std::pair<std::uint64_t, std::uint64_t>{1, 12});
  // ⟨x²⟩ = 1 − g/2 + 2g²/3 + …: the tadpole; sunset, cactus and tadpole chain (both legs on one
  // vertex forces the cactus; one leg each allows three or one edges between the vertices).
  CHECK(sum_of_inverses({aut["tadpole"]}) == std::pair<std::uint64_t, std::uint64_t>{1, 2});
  CHECK(sum_of_inverses({aut["sunset"], aut["cactus"], aut["tadpole chain"]}) ==
        std::pair<std::uint64_t, std::uint64_t>{2, 3});
}

TEST_CASE("automorphisms of random small multigraphs equal brute force") {
  std::mt19937 rng(20240611);
  int nontrivial = 0, with_loops = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const multigraph m = random_multigraph(rng, 5, 6, 1 + trial % 3, trial % 2 == 1);
    CAPTURE(trial);
    const std::uint64_t by_edges = brute_force_by_edges(m);
    CHECK(brute_force_by_formula(m) == by_edges);
    CHECK(nauty_count(m) == by_edges);
    nontrivial += by_edges > 1;
    with_loops +=
        std::any_of(m.edges.begin(), m.edges.end(), [](auto e) { return e.first == e.second; });
  }
  // The sample exercises what matters: symmetric graphs and loops.
  CHECK(nontrivial > 30);
  CHECK(with_loops > 20);
}

TEST_CASE("orders beyond 1e10 are exact, beyond 64 bits refused") {
  // A star with k leaves: the leaves permute freely, k!. nauty's own double loses digits here.
  for (int k : {13, 20}) {
    multigraph star{std::vector<int>(static_cast<std::size_t>(k + 1), 0), {}, false};
    for (int i = 1; i <= k; ++i) star.edges.emplace_back(0, i);
    CHECK(nauty_count(star) == fact(k));
  }
  multigraph star21{std::vector<int>(22, 0), {}, false};
  for (int i = 1; i <= 21; ++i) star21.edges.emplace_back(0, i);
  CHECK_THROWS_AS(nauty_count(star21), std::overflow_error);  // 21! > 2^64
  CHECK_FALSE(nauty_form(star21).empty());                    // a canonical form still exists
  // The largest diagram class: one layer vertex fanning out into 20 legs, |Aut| = 20! (DESIGN 4).
  const graph fan20 = to_graph(DiagramClass::tree({20}));
  CHECK(count_automorphisms(fan20, boost::make_function_property_map<graph::vertex_descriptor>(
                                       [&](graph::vertex_descriptor v) {
                                         return colour_of(fan20[v]);
                                       })) == fact(20));
}

TEST_CASE("any Boost.Graph with a readable colour property map") {
  // Colours in a bundled property, edges in a list. Legs 2, 3 (own colours) tell vertices 0 and
  // 1 apart; the loop at 1 is directed, so never flipped; the parallel edges 0 → 1 swap: 2.
  struct coloured_node {
    int colour = 0;
  };
  using G = boost::adjacency_list<boost::listS, boost::vecS, boost::directedS, coloured_node>;
  G g(4);
  g[2].colour = 1;
  g[3].colour = 2;
  for (auto [s, t] : std::vector<std::pair<int, int>>{{0, 2}, {1, 3}, {0, 1}, {0, 1}, {1, 1}})
    boost::add_edge(s, t, g);
  CHECK(count_automorphisms(g, boost::get(&coloured_node::colour, g)) == 2);
  // One colour for all: a constant map. K4 has 4! automorphisms.
  ugraph k4(4);
  for (int i = 0; i < 4; ++i)
    for (int j = i + 1; j < 4; ++j) boost::add_edge(i, j, k4);
  CHECK(count_automorphisms(k4, boost::make_static_property_map<ugraph::vertex_descriptor>(0)) ==
        24);
}

TEST_CASE("canonical forms: equal exactly for isomorphic coloured multigraphs") {
  std::mt19937 rng(7);
  std::vector<known_case> all = simple_graphs();
  for (known_case& c : feynman_graphs()) all.push_back(std::move(c));
  for (const known_case& c : all) {
    CAPTURE(c.name);
    const auto form = nauty_form(c.graph);
    for (int copy = 0; copy < 5; ++copy) {
      const multigraph r = relabel(c.graph, rng);
      CHECK(nauty_form(r) == form);
      CHECK(nauty_count(r) == c.aut);
    }
  }
  // Pairwise distinct: every listed graph differs from every other.
  for (std::size_t i = 0; i < all.size(); ++i)
    for (std::size_t j = i + 1; j < all.size(); ++j) {
      CAPTURE(all[i].name + " vs " + all[j].name);
      CHECK(nauty_form(all[i].graph) != nauty_form(all[j].graph));
    }

  // Sunset and cactus: same vertex and edge counts, same degrees (4, 4, 1, 1), not isomorphic.
  const auto feynman = feynman_graphs();
  const multigraph& sunset = feynman[2].graph;
  const multigraph& cactus = feynman[3].graph;
  REQUIRE(feynman[2].name == "sunset");
  REQUIRE(feynman[3].name == "cactus");
  CHECK(nauty_form(sunset) != nauty_form(cactus));

  // Colours count, by value: the same path coloured differently.
  const multigraph p010{{0, 1, 0}, {{0, 1}, {1, 2}}, false};
  const multigraph p101{{1, 0, 1}, {{0, 1}, {1, 2}}, false};
  const multigraph p020{{0, 2, 0}, {{0, 1}, {1, 2}}, false};
  const multigraph p000{{0, 0, 0}, {{0, 1}, {1, 2}}, false};
  CHECK(nauty_form(p010) != nauty_form(p101));
  CHECK(nauty_form(p010) != nauty_form(p020));
  CHECK(nauty_form(p010) != nauty_form(p000));
  // Only the middle colour differs from the ends; relabelling the ends keeps the form.
  CHECK(nauty_form(p010) == nauty_form(multigraph{{0, 0, 1}, {{2, 0}, {1, 2}}, false}));
  // Direction counts: a directed path differs from the undirected one and from an out-star, and
  // equals its reverse (renaming the vertices end to end).
  const multigraph d{{0, 0, 0}, {{0, 1}, {1, 2}}, true};
  CHECK(nauty_form(d) != nauty_form(p000));
  CHECK(nauty_form(d) == nauty_form(multigraph{{0, 0, 0}, {{1, 0}, {2, 1}}, true}));
  CHECK(nauty_form(d) != nauty_form(multigraph{{0, 0, 0}, {{1, 0}, {1, 2}}, true}));
}

TEST_CASE("canonical forms of random small multigraphs agree with brute-force isomorphism") {
  std::mt19937 rng(11);
  std::vector<multigraph> graphs;
  for (int i = 0; i < 120; ++i) {
    // Few vertices and edges, so that many pairs are isomorphic.
    multigraph m = random_multigraph(rng, 4, 4, 1 + i % 2, i % 3 == 0);
    graphs.push_back(i % 4 == 3 ? relabel(graphs.back(), rng) : m);
  }
  std::vector<std::vector<std::uint64_t>> forms;
  for (const multigraph& m : graphs) forms.push_back(nauty_form(m));
  int isomorphic = 0, different = 0;
  for (std::size_t i = 0; i < graphs.size(); ++i)
    for (std::size_t j = i + 1; j < graphs.size(); ++j) {
      const bool iso = brute_force_isomorphic(graphs[i], graphs[j]);
      CAPTURE(i);
      CAPTURE(j);
      CHECK((forms[i] == forms[j]) == iso);
      (iso ? isomorphic : different) += 1;
    }
  // Both outcomes occur often enough to mean something.
  CHECK(isomorphic > 50);
  CHECK(different > 1000);
}

TEST_CASE("calls from several threads at once give the single-threaded answers") {
  // nauty keeps its search state in globals (thread-local in Debian's build), and the exact group
  // order is accumulated in a callback: concurrent calls must not mix their state.
  std::mt19937 rng(3);
  std::vector<multigraph> graphs;
  std::vector<std::uint64_t> expected;
  std::vector<std::vector<std::uint64_t>> forms;
  for (int i = 0; i < 200; ++i) {
    graphs.push_back(random_multigraph(rng, 5, 8, 2, i % 2 == 0));
    expected.push_back(brute_force_by_formula(graphs.back()));
    forms.push_back(nauty_form(graphs.back()));
  }
  constexpr int threads = 4;
  std::vector<int> wrong(threads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int rep = 0; rep < 10; ++rep)
        for (std::size_t i = 0; i < graphs.size(); ++i)
          wrong[static_cast<std::size_t>(t)] +=
              nauty_count(graphs[i]) != expected[i] || nauty_form(graphs[i]) != forms[i];
    });
  for (std::thread& th : pool) th.join();
  CHECK(wrong == std::vector<int>(threads, 0));
}
