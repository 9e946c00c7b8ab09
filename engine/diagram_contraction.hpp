// The value of one Feynman diagram (diagrams/feynman.hpp): propagators and vertex tensors
// contracted over every internal index, leaving a dense tensor over the legs.
//
// Every edge end that is not a leg has its own index, the two ends of an edge joined by G; a leg
// carries an output index. Indices are summed out one group at a time — those shared by the same
// one or two tensors together — always the group whose removal leaves the smallest tensor, so a
// diagram with many vertices never needs dⁿ entries for n internal indices at once.
#pragma once

#include <vector>

#include "diagrams/feynman.hpp"

namespace flowaction {

// R is a commutative ring with R(0), R(1), *, += and field_traits<R>::vanishes: double,
// GiNaC::ex, or cln::cl_I (exact rationals scaled to integers). propagator: d×d row-major;
// vertex[k]: the dense tensor of each k-leg vertex (k = 1 for sources), dᵏ entries row-major.
// Returns dⁿ entries, row-major over the legs 0 … n−1 (leg 0 slowest). Throws flowaction::Error
// if an intermediate tensor would exceed 2^26 entries.
template <class R>
std::vector<R> contract_diagram(const diagrams::FeynmanDiagram& d, int dim,
                                const std::vector<R>& propagator,
                                const std::vector<std::vector<R>>& vertex);

// dʳ, or flowaction::Error naming `what` if it exceeds what a contraction may hold.
std::size_t dense_size(int dim, int rank, std::string_view what);

}  // namespace flowaction
