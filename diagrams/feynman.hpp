// Feynman diagrams of the perturbative cumulants (DESIGN §6), as Boost.Graph multigraphs.
//
// A diagram joins, by propagators (edges), three kinds of vertices: external legs (one edge each;
// they carry the indices of a cumulant), sources (one edge each: the vertex −Γ⁽¹⁾) and
// interaction vertices −Γ⁽ᵏ⁾, k ≥ 3 (k edge ends; a self-loop uses two). Only connected
// diagrams are generated, one per isomorphism class, with their automorphism counts from nauty
// on the half-edge graph (diagrams/automorphisms.hpp), so self-loop flips and swaps of parallel
// edges are counted.
//
// Loops: a diagram has E − V + 1 independent cycles; a source counts as one loop more. Γ⁽¹⁾ is
// treated as a one-loop-sized quantity (it vanishes at a stationary point of S): without that,
// cubic vertices with sources would make trees of any size at a fixed number of cycles. Then a
// vertex of k legs adds |k − 2|/2 to the loop count: 2·loops = Σᵥ |kᵥ − 2| − n + 2 for n legs.
#pragma once

#include <boost/graph/adjacency_list.hpp>
#include <cstdint>
#include <vector>

namespace flowaction::diagrams {

enum class feynman_node_kind { leg, source, interaction };

struct feynman_node {
  feynman_node_kind kind = feynman_node_kind::interaction;
  int legs = 0;  // edge ends: 1 for a leg or a source, k for −Γ⁽ᵏ⁾
};

// Undirected multigraph; a self-loop is one edge from a vertex to itself.
using feynman_graph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, feynman_node>;

struct FeynmanDiagram {
  // Vertices: the n external legs first (0 … n−1), then the sources, then the interaction
  // vertices by valence.
  feynman_graph graph;
  int legs = 0;     // external legs n
  int cycles = 0;   // E − V + 1
  int sources = 0;  // one-leg vertices −Γ⁽¹⁾
  // |Aut| with the external legs interchangeable: the diagram's weight in a cumulant summed over
  // all n! ways of attaching the indices is 1/|Aut|.
  std::uint64_t automorphisms = 1;
  // The symmetry factor S: |Aut| with every external leg fixed. Each labelled diagram (legs told
  // apart) has weight 1/S; a vacuum diagram has S = |Aut|.
  std::uint64_t symmetry_factor = 1;

  int loops() const { return cycles + sources; }
  // Distinct labelled diagrams this class stands for: n!·S/|Aut| (orbit–stabiliser).
  std::uint64_t labelled_copies() const;
  // Interaction vertices of each valence: valences()[k] = number of −Γ⁽ᵏ⁾.
  std::vector<int> valences() const;
};

// Which vertices a theory has: interaction valences k ≥ 3 with Γ⁽ᵏ⁾ ≠ 0, and whether Γ⁽¹⁾ ≠ 0.
struct FeynmanRules {
  std::vector<int> valences;
  bool sources = false;
};

// The vertices of one diagram: external legs, sources, and one entry per interaction vertex
// giving its valence (≥ 3).
struct VertexContent {
  int legs = 0;
  int sources = 0;
  std::vector<int> interactions;
};

// Every connected diagram with exactly these vertices, one per isomorphism class, sorted by their
// canonical forms. Grown from one vertex, each vertex in turn getting all its remaining edges as
// one multiset, with choices that symmetry makes equivalent (alike edge ends, alike untouched
// vertices, touched twins) tried once; what remains is deduplicated by canonical form.
std::vector<FeynmanDiagram> feynman_diagrams(const VertexContent& content);

// Every vertex content with n legs and at most max_loops loops that the rules allow (vacuum:
// at least one vertex), by loops, then sources, then interaction valences.
std::vector<VertexContent> vertex_contents(int legs, int max_loops, const FeynmanRules& rules);

// All connected diagrams with n legs and at most max_loops loops, by vertex content.
std::vector<FeynmanDiagram> feynman_diagrams(int legs, int max_loops, const FeynmanRules& rules);

// Colours for automorphism counting: legs, sources and each valence apart; leg_colour(i) tells
// leg i from every other vertex (for the symmetry factor).
int colour_of(const feynman_node& v);
int leg_colour(int leg);

}  // namespace flowaction::diagrams
