// Diagram classes of one layer's pullback (DESIGN §4), as values.
//
// A tree: one vertex Γ⁽ᵏ⁾ of the old action whose k legs each end on a layer vertex G⁽ᵐ⁾ that
// fans out into m external legs. A ring: r layer vertices G⁽ᵐˢ⁺¹⁾ joined in an oriented cycle by
// G⁽¹⁾⁻¹ lines, vertex s carrying mₛ external legs. A class with n external legs stands for
// n!/|Aut| labelled diagrams. A class is a small value (kind, leg sizes, multiplicity, sign);
// its Boost.Graph graph is built only when something draws it or counts its automorphisms.
#pragma once

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <cstdint>
#include <vector>

namespace flowaction::diagrams {

// n! fits in 64 bits up to n = 20: the largest order whose multiplicities are exact.
inline constexpr int max_order = 20;

std::uint64_t factorial(int n);

enum class diagram_kind { tree, ring };

struct DiagramClass {
  diagram_kind kind = diagram_kind::tree;
  // Tree: fan sizes m_b, nonincreasing; ring: legs mₛ around the cycle, as its least rotation.
  std::vector<int> sizes;
  // |Aut| by the closed forms of DESIGN §4: tree Π m_b! · Π_s c_s!, ring Π mₛ! · ρ.
  std::uint64_t automorphisms = 1;
  std::uint64_t multiplicity = 1;  // n!/|Aut| labelled diagrams
  // Sign with which the class enters Γ′ = Γ∘g − ln|det ∂g|: +1 for trees, (−1)^r for rings.
  int sign = 1;

  // A tree with the given fan sizes (any order), a ring with the given legs in cyclic order.
  static DiagramClass tree(std::vector<int> fan_sizes);
  static DiagramClass ring(std::vector<int> cyclic_sizes);

  int order() const;  // external legs n
  // Tree: order k of the old vertex it uses; ring: number of ring vertices r.
  int vertex_count() const { return static_cast<int>(sizes.size()); }
  // Largest layer derivative the class needs: max m (tree) or max mₛ + 1 (ring).
  int max_derivative() const;
  bool operator==(const DiagramClass&) const = default;
};

// Which classes a layer can produce: its derivatives G⁽ᵐ⁾ vanish for m > degree (a linear map
// has degree 1, φ(u) = u + αu² degree 2), and a triangular Jacobian (additive coupling) has no
// rings. The default lets every class through.
struct ClassFilter {
  int degree = max_order + 1;
  bool rings = true;
  bool admits(const DiagramClass& c) const {
    return c.max_derivative() <= degree && (rings || c.kind == diagram_kind::tree);
  }
};

// Calls fn(const DiagramClass&) for every class with n external legs that the filter admits:
// trees first (integer partitions of n, parts ≤ degree, in reverse lexicographic order), then
// rings (compositions of n up to rotation, parts ≤ degree − 1). Enumerated lazily: classes the
// filter rejects are never built.
template <class Fn>
void for_each_class(int n, const ClassFilter& filter, Fn&& fn);

std::vector<DiagramClass> classes(int n, const ClassFilter& filter = {});
std::vector<DiagramClass> tree_classes(int n);
std::vector<DiagramClass> ring_classes(int n);

// The graph of a class, for drawing and for counting automorphisms: edges point away from the
// old action vertex (trees) or along the trace (rings); every external leg is a vertex.
enum class node_kind { external, action_vertex, fan, ring };
struct node {
  node_kind kind = node_kind::external;
  int legs = 0;  // action_vertex: its order k; fan: m; ring: mₛ (external legs it carries)
};
using graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, node>;
graph to_graph(const DiagramClass& c);
// The colour of a node for automorphism counting: nodes of different kind or size never swap.
inline int colour_of(const node& v) {
  return static_cast<int>(v.kind) + 4 * v.legs;
}

// ---------------------------------------------------------------------------------------------

namespace detail {
bool is_least_rotation(const std::vector<int>& s);
}

template <class Fn>
void for_each_class(int n, const ClassFilter& filter, Fn&& fn) {
  if (n < 0) return;
  if (n == 0) {  // the old Γ⁽⁰⁾ alone
    fn(DiagramClass::tree({}));
    return;
  }
  std::vector<int> parts;
  const int max_fan = std::min(n, filter.degree);
  auto trees = [&](auto&& self, int rest, int max_part) -> void {
    if (rest == 0) {
      fn(DiagramClass::tree(parts));
      return;
    }
    for (int m = std::min(rest, max_part); m >= 1; --m) {
      parts.push_back(m);
      self(self, rest - m, m);
      parts.pop_back();
    }
  };
  if (max_fan >= 1) trees(trees, n, max_fan);
  const int max_legs = std::min(n, filter.degree - 1);
  if (!filter.rings || max_legs < 1) return;
  parts.clear();
  auto rings = [&](auto&& self, int rest) -> void {
    if (rest == 0) {
      if (detail::is_least_rotation(parts)) fn(DiagramClass::ring(parts));
      return;
    }
    for (int m = 1; m <= std::min(rest, max_legs); ++m) {
      // A least rotation starts with a smallest part: no later part may be below the first.
      if (!parts.empty() && m < parts.front()) continue;
      parts.push_back(m);
      self(self, rest - m);
      parts.pop_back();
    }
  };
  rings(rings, n);
}

}  // namespace flowaction::diagrams
