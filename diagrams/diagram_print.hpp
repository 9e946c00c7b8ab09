// A diagram class prints itself into a print context (engine/print_context.hpp): one line of
// text, a JSON object with its graph (nodes, edges), factors, multiplicity, |Aut| and sign, or
// LaTeX — a TikZ picture (coordinates from diagram_layout.hpp) beside its term in index
// notation, Γ′⁽³⁾_{j₁j₂j₃} ⊃ 3 · Sym[Γ⁽²⁾_{a₁a₂} G⁽²⁾_{a₁;j₁j₂} G⁽¹⁾_{a₂;j₃}].
// Listings of many classes (every layer of a model) are engine/diagram_listing.hpp.
#pragma once

#include <string>
#include <vector>

#include "diagrams/diagram.hpp"
#include "engine/print_context.hpp"

namespace flowaction::diagrams {

void print(const DiagramClass& c, const print_context& ctx);

// One factor of a class's term: Γ⁽ᵏ⁾_{a…}, G⁽ᵐ⁾_{a; b j…} (a layer vertex: output index, then
// the derivative indices) or (G⁽¹⁾)⁻¹_{b a} (a ring line).
struct term_factor {
  enum kind_t { action_vertex, layer_vertex, inverse_line } kind;
  int order = 0;                     // k of Γ⁽ᵏ⁾, m of G⁽ᵐ⁾
  std::vector<std::string> indices;  // a1, b1, j1 … (layer vertex: the output index first)
};
std::vector<term_factor> term_of(const DiagramClass& c);

// The term in index notation, with multiplicity and sign, in LaTeX (math mode) or text.
std::string term_latex(const DiagramClass& c);
std::string term_text(const DiagramClass& c);

}  // namespace flowaction::diagrams
