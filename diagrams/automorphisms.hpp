// Automorphisms and canonical forms of vertex-coloured multigraphs, counted by nauty.
//
// Symmetry factors of diagrams permute edges as well as vertices: a self-loop can be flipped and
// parallel edges swapped (DESIGN §6, §9). nauty works on simple graphs, so both functions pass it
// the half-edge graph: every vertex of g stays a vertex with its colour; every edge becomes two
// half-edge vertices joined to each other, each also joined to its own endpoint. The flip of a
// loop and the swap of parallel edges are then ordinary vertex permutations. In a directed graph
// the tail and the head half-edge get different colours, so edges keep their direction. An
// undirected edge that is neither a loop nor parallel to another has nothing of its own to
// permute and joins its endpoints directly (nauty's graph stays small: Feynman diagrams).
#pragma once

#include <boost/concept/assert.hpp>
#include <boost/graph/graph_concepts.hpp>
#include <boost/graph/graph_traits.hpp>
#include <boost/property_map/property_map.hpp>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace flowaction::diagrams {

namespace detail {

// What nauty needs of a graph, with vertices numbered 0 … n-1 by their vertex_index.
struct coloured_multigraph {
  std::vector<int> colours;                                // one per vertex
  std::vector<std::pair<std::size_t, std::size_t>> edges;  // (source, target)
  bool directed = false;
};

std::uint64_t count_automorphisms(const coloured_multigraph& g);
std::vector<std::uint64_t> canonical_form(const coloured_multigraph& g);

// The canonical form and where each vertex of g lands in the canonical order: isomorphic graphs
// have equal forms, and their vertices in the order of position correspond (up to an
// automorphism).
struct canonical_labelling {
  std::vector<std::uint64_t> form;
  std::vector<std::size_t> position;  // per vertex of g
};
canonical_labelling canonical_labelling_of(const coloured_multigraph& g);

template <class Graph, class ColourMap>
coloured_multigraph describe(const Graph& g, ColourMap colour) {
  using traits = boost::graph_traits<Graph>;
  using vertex = typename traits::vertex_descriptor;
  BOOST_CONCEPT_ASSERT((boost::VertexListGraphConcept<Graph>));
  BOOST_CONCEPT_ASSERT((boost::EdgeListGraphConcept<Graph>));
  BOOST_CONCEPT_ASSERT((boost::ReadablePropertyMapConcept<ColourMap, vertex>));
  using boost::get;  // also for maps that ADL does not reach, such as a plain int*

  coloured_multigraph d;
  d.directed = std::is_convertible_v<typename traits::directed_category, boost::directed_tag>;
  const auto index = get(boost::vertex_index, g);
  const auto n = static_cast<std::size_t>(num_vertices(g));
  d.colours.resize(n);
  std::vector<bool> seen(n, false);
  for (auto [v, end] = vertices(g); v != end; ++v) {
    const auto i = static_cast<std::size_t>(get(index, *v));
    if (i >= n || seen[i])
      throw std::invalid_argument("count_automorphisms: vertex_index is not a numbering 0 … n-1");
    seen[i] = true;
    d.colours[i] = static_cast<int>(get(colour, *v));
  }
  for (auto [e, end] = edges(g); e != end; ++e)
    d.edges.emplace_back(static_cast<std::size_t>(get(index, source(*e, g))),
                         static_cast<std::size_t>(get(index, target(*e, g))));
  return d;
}

}  // namespace detail

// Automorphism group order of a vertex-coloured multigraph (loops and parallel edges included,
// edges are permuted too), counted by nauty on the half-edge graph. Graph: any Boost.Graph
// VertexListGraph + EdgeListGraph with integer-convertible vertex_index; directedness from
// boost::graph_traits<Graph>::directed_category. Colour: a Boost readable property map from
// vertex descriptor to int (vertices with different colours are never exchanged).
// Throws std::overflow_error if the order does not fit in 64 bits.
template <class Graph, class ColourMap>
std::uint64_t count_automorphisms(const Graph& g, ColourMap colour) {
  return detail::count_automorphisms(detail::describe(g, colour));
}

// A canonical form of the same half-edge graph (nauty's canonical labelling, plus the colour of
// every cell and the directed flag): two coloured multigraphs are isomorphic (colour-preserving,
// as multigraphs) iff their canonical forms are equal. Forms compare with == and <, so they can
// key a std::map; they are comparable within one build of nauty only (they hold its setwords).
template <class Graph, class ColourMap>
std::vector<std::uint64_t> canonical_form(const Graph& g, ColourMap colour) {
  return detail::canonical_form(detail::describe(g, colour));
}

}  // namespace flowaction::diagrams
