// Feynman diagrams print themselves into a print context (engine/print_context.hpp): a diagram
// as one line of text or one JSON object (its vertices, edges, loops, |Aut| and symmetry factor);
// a listing — the diagrams of ln(Z/Z₀) and of every n-point function — as one document.
#pragma once

#include <vector>

#include "diagrams/feynman.hpp"
#include "engine/print_context.hpp"

namespace flowaction::diagrams {

void print(const FeynmanDiagram& d, const print_context& ctx);

struct FeynmanListing {
  int loops = 0;
  FeynmanRules rules;
  std::vector<std::vector<FeynmanDiagram>> by_legs;  // [0]: vacuum (ln Z), [n]: n-point
};

void print(const FeynmanListing& listing, const print_context& ctx);

}  // namespace flowaction::diagrams
