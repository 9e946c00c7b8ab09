// Automorphisms of small coloured directed multigraphs (diagrams have a dozen vertices).
#pragma once

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/graph_traits.hpp>
#include <cstdint>
#include <functional>
#include <vector>

namespace flowaction::diagrams {

// |Aut(g)|: vertex permutations that keep every vertex's colour and the number of edges between
// every ordered pair of vertices (loops and parallel edges included). Orbit-stabilizer: the
// product over a chain of point stabilizers of orbit sizes, each orbit found by searching for
// one extending automorphism per candidate image.
std::uint64_t count_automorphisms_of_matrix(const std::vector<int>& colour,
                                            const std::vector<std::vector<int>>& edge_count);

// The same for a Boost.Graph graph with a colour for each vertex.
template <class Graph>
std::uint64_t count_automorphisms(
    const Graph& g,
    const std::function<int(typename boost::graph_traits<Graph>::vertex_descriptor)>& colour_of) {
  const auto n = static_cast<std::size_t>(boost::num_vertices(g));
  std::vector<int> colour(n);
  std::vector<std::vector<int>> count(n, std::vector<int>(n, 0));
  for (auto [v, vend] = boost::vertices(g); v != vend; ++v) colour[*v] = colour_of(*v);
  for (auto [e, eend] = boost::edges(g); e != eend; ++e)
    ++count[boost::source(*e, g)][boost::target(*e, g)];
  return count_automorphisms_of_matrix(colour, count);
}

}  // namespace flowaction::diagrams
