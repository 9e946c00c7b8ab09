// The action S(x) = -ln p(x) as its Taylor vertices Γ⁽⁰⁾ … Γ⁽ᴷ⁾ around an expansion point.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "engine/field.hpp"
#include "engine/sym_tensor.hpp"

namespace flowaction {

// The sentence every output carries (DESIGN §2).
inline constexpr const char* action_convention =
    "S(x) = -ln p(x) = sum_k (1/k!) Gamma^(k)_{i1..ik} d_i1...d_ik with d = x - x0 (Taylor "
    "coefficients at the expansion point x0; a Gaussian has a positive quadratic term). A "
    "component is named by its sorted 0-based multi-index; the coefficient of the monomial d^a "
    "is Gamma_a / a!, a! = prod_i a_i!. The flow maps data to a standard normal latent.";

template <class T>
struct Action {
  int dim = 0;
  std::vector<SymTensor<T>> vertices;  // vertices[k] = Γ⁽ᵏ⁾, k = 0 … order

  Action() = default;
  Action(int d, int order) : dim(d) {
    vertices.reserve(static_cast<std::size_t>(order) + 1);
    for (int k = 0; k <= order; ++k) vertices.emplace_back(d, k);
  }
  int order() const { return static_cast<int>(vertices.size()) - 1; }
};

// An action in whichever field it was computed or read in (float: double; exact and symbolic:
// GiNaC expressions).
using AnyAction = std::variant<Action<double>, Action<GiNaC::ex>>;

// The action partway through the pullback (extract --per-layer): in the variables that enter
// one layer, so a reader sees pairwise terms become 3- and 4-point vertices layer by layer.
struct ActionStage {
  std::string title;                  // "after layer 3 (coupling): the action of its input y3"
  std::vector<std::string> at;        // the point it is expanded around, in those variables
  std::vector<std::string> at_latex;  // the same in LaTeX
  AnyAction action;
};

// What an output states besides the vertices.
struct ActionInfo {
  field_kind field = field_kind::exact;
  std::vector<std::string> at;       // the expansion point, one string per unit
  std::string source;                // where the action came from (a model file, a theory)
  std::vector<std::string> symbols;  // symbol names kept in the symbolic field
};

}  // namespace flowaction
