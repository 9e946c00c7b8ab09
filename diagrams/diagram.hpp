// Diagram classes of one layer's pullback (DESIGN §4), as Boost.Graph graphs.
//
// A tree: one vertex Γ⁽ᵏ⁾ of the old action whose k legs each end on a layer vertex G⁽ᵐ⁾ that
// fans out into m external legs. A ring: r layer vertices G⁽ᵐˢ⁺¹⁾ joined in an oriented cycle by
// G⁽¹⁾⁻¹ lines, vertex s carrying mₛ external legs. A class with n external legs stands for
// n!/|Aut| labelled diagrams; |Aut| is counted on the graph.
#pragma once

#include <boost/graph/adjacency_list.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace flowaction::diagrams {

enum class node_kind { external, action_vertex, fan, ring };

struct node {
  node_kind kind = node_kind::external;
  int legs = 0;  // action_vertex: its order k; fan: m; ring: mₛ (external legs it carries)
};

// Edges point away from the old action vertex (trees) or along the trace (rings).
using graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, node>;

enum class diagram_kind { tree, ring };

class Diagram {
 public:
  // A tree whose layer vertices have the given sizes (any order), or a ring whose vertices
  // carry the given numbers of legs in cyclic order.
  static Diagram tree(std::vector<int> fan_sizes);
  static Diagram ring(std::vector<int> cyclic_sizes);

  diagram_kind kind() const { return kind_; }
  int order() const { return order_; }  // external legs n
  // Tree: fan sizes m_b, nonincreasing; ring: leg counts around the cycle (least rotation).
  const std::vector<int>& sizes() const { return sizes_; }
  // Tree: order k of the old vertex it uses; ring: number of ring vertices r.
  int vertex_count() const { return static_cast<int>(sizes_.size()); }
  // Largest layer derivative the diagram needs: max m (tree) or max mₛ + 1 (ring).
  int max_derivative() const;
  std::uint64_t automorphisms() const { return automorphisms_; }
  std::uint64_t multiplicity() const { return multiplicity_; }  // n!/|Aut|
  // Sign with which the class enters Γ′ = Γ∘g − ln|det ∂g|: +1 for trees, (−1)^r for rings.
  int sign() const { return sign_; }
  const graph& g() const { return graph_; }

  std::string describe() const;  // one line of text

 private:
  Diagram(diagram_kind kind, std::vector<int> sizes);

  diagram_kind kind_;
  int order_ = 0;
  std::vector<int> sizes_;
  graph graph_;
  std::uint64_t automorphisms_ = 1;
  std::uint64_t multiplicity_ = 1;
  int sign_ = 1;
};

// All tree classes with n external legs: one per integer partition of n (n = 0: the old Γ⁽⁰⁾).
std::vector<Diagram> tree_diagrams(int n);
// All ring classes with n ≥ 1 external legs: one per composition of n up to rotation.
std::vector<Diagram> ring_diagrams(int n);

// Which layer a set of diagrams belongs to; each has its own classes.
enum class layer_kind { affine, activation, coupling };

// The classes of one layer type at one order, built once and shared by every coefficient field:
// affine — the tree whose legs all pass (m = 1); activation — all trees and all rings;
// coupling — all trees (a coupling preserves volume: its rings vanish).
const std::vector<Diagram>& layer_diagrams(layer_kind layer, int n);

std::uint64_t factorial(int n);

// n! fits in 64 bits up to n = 20: the largest order whose multiplicities are exact.
inline constexpr int max_order = 20;

}  // namespace flowaction::diagrams
