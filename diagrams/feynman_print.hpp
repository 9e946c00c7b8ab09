// Feynman diagrams print themselves into a print context (engine/print_context.hpp): a diagram
// as one line of text, one JSON object (its vertices, edges, loops, |Aut| and symmetry factor) or
// LaTeX (a TikZ picture laid out by diagram_layout.hpp beside its factor and its term); a
// listing — the diagrams of ln(Z/Z₀) and of every n-point function — as one document.
#pragma once

#include <string>
#include <vector>

#include "diagrams/feynman.hpp"
#include "engine/print_context.hpp"

namespace flowaction::diagrams {

void print(const FeynmanDiagram& d, const print_context& ctx);

// A labelled diagram's term in index notation (LaTeX, math mode), legs i, j, …, summed indices
// a, b, …: W^{(2)}_{ij} \supset \tfrac{1}{2}\,G_{ia}(-\Gamma^{(4)}_{abcd})G_{bc}G_{dj}; a class of
// several labelled diagrams adds "+ (m leg permutations)".
std::string term_latex(const FeynmanDiagram& d);

struct FeynmanListing {
  int loops = 0;
  FeynmanRules rules;
  std::vector<std::vector<FeynmanDiagram>> by_legs;  // [0]: vacuum (ln Z), [n]: n-point
};

void print(const FeynmanListing& listing, const print_context& ctx);

}  // namespace flowaction::diagrams
