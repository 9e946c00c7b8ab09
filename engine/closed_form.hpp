// Closed forms of an architecture's vertices (closed-form --arch): every weight a symbolic tensor,
// the dimension d arbitrary, the vertices written with summed unit indices, e.g. for one affine
// layer followed by u + αu² at x₀ = 0: Γ⁽³⁾_{ijk} = Σ_a (6α_a − 16α_a³) W_{ai} W_{aj} W_{ak}.
//
// The derivation is the pullback of DESIGN §4 done on index expressions instead of numbers: the
// latent Gaussian is pulled back layer by layer, last first, and every diagram class the layer
// admits (for_each_class with the layer's ClassFilter, as in engine/pullback.cpp) turns each term
// of the old vertex into terms of the new one: a fan G⁽ᵐ⁾ of an affine layer is a new summed index
// with a W; of an activation, m legs on the same unit times φ⁽ᵐ⁾ of that unit; of a coupling, a
// summed hidden unit h with (W₂)_{ih} φ_h⁽ᵐ⁾ (W₁)_{hj}… (or, for m = 1, the leg passing).
// Activation rings sit on one unit. Terms equal up to the names of their indices are merged
// (nauty's canonical labelling of the term's index graph).
//
// A term T with n legs stands for [T], the sum of T over the n! orders of its legs; Γ⁽ⁿ⁾ is the
// sum of [T] over the terms of order n.
#pragma once

#include <ginac/ginac.h>

#include <compare>
#include <optional>
#include <utility>
#include <vector>

#include "engine/architecture.hpp"

namespace flowaction {

// A number per unit (or per hidden unit of a coupling) that a coefficient holds.
struct Quantity {
  enum class kind {
    alpha,        // α of φ(u) = u + αu^p (activation: per unit; coupling: per hidden unit)
    coefficient,  // c_k of φ(u) = u + Σ c_k u^k
    scale,        // s of an actnorm layer
    unit_value,  // u⁽ˡ⁾: the unit's value entering layer l at the expansion point (l = L+1: z₀)
    hidden_value,  // v⁽ˡ⁾: a coupling's hidden pre-activation at the expansion point
  };
  kind what = kind::alpha;
  int layer = 1;  // 1-based
  int power = 0;  // k of c_k
  auto operator<=>(const Quantity&) const = default;
};

// A weight tensor with two indices of the term.
struct IndexedWeight {
  enum class kind {
    W,   // W⁽ˡ⁾_{out,in}, affine
    W1,  // (W₁)⁽ˡ⁾_{h,j}: a coupling's first matrix, zero for j in B (mask 1)
    W2,  // (W₂)⁽ˡ⁾_{i,h}: its second matrix, zero for i in A (mask 0)
  };
  kind what = kind::W;
  int layer = 1;
  int out = 0, in = 0;  // index numbers in the term
  auto operator<=>(const IndexedWeight&) const = default;
};

struct ClosedTerm {
  // A polynomial (rational function, with rings away from 0) in per-index symbols
  // (closed_symbol) and the global ones (d, ln|det W⁽ˡ⁾|, logarithms in Γ⁽⁰⁾).
  GiNaC::ex coefficient;
  std::vector<int> ranges;  // per index: 0 a unit, l > 0 a hidden unit of coupling layer l
  std::vector<IndexedWeight> weights;
  std::vector<int> legs;   // per external leg, its index; indices without legs are summed
  bool symmetric = false;  // T alone is symmetric in its legs: [T] = n! T
};

struct ClosedForm {
  Architecture arch;
  int order = 0;
  bool symbolic_point = false;  // expanded around a symbolic x₀ rather than 0
  // Whether the units' values entering layer l (index l - 1, l = 1 … L+1) and a coupling's
  // hidden values (index l - 1) can be nonzero at the expansion point; zero ones are
  // substituted, not named.
  std::vector<bool> unit_values, hidden_values;
  std::vector<std::vector<ClosedTerm>> vertices;  // by order
};

// The closed form of vertices of orders 0 … order. Throws flowaction::Error beyond what it
// derives in reasonable time (order above 6, more than 8 layers).
ClosedForm closed_form(const Architecture& arch, int order, bool symbolic_point);

// The symbol of a per-index quantity on index number i of a term.
GiNaC::ex closed_symbol(const Quantity& q, int index);
// The quantity and index a symbol stands for, or nothing (a global symbol).
std::optional<std::pair<Quantity, int>> closed_symbol_of(const GiNaC::ex& symbol);
// Global symbols: the dimension d and ln|det W⁽ˡ⁾|.
GiNaC::ex dimension_symbol();
GiNaC::ex log_det_symbol(int layer);
std::optional<int> log_det_layer(const GiNaC::ex& symbol);

// φ of a layer as a polynomial in u with per-index coefficients on index i.
GiNaC::ex closed_phi(const ArchLayer& layer, int number, const GiNaC::ex& u, int index);

}  // namespace flowaction
