// The pullback of the action through one layer (DESIGN §4): given the vertices Γ of the action
// in z = f(y), the vertices Γ′ in y around y₀,
//
//   Γ′⁽⁰⁾ = Γ⁽⁰⁾ − ln|det G⁽¹⁾|,
//   Γ′⁽ⁿ⁾ = Σ_trees multiplicity · contract_tree(Γ, G) + Σ_rings multiplicity · sign ·
//   contract_ring(G),
//
// over the diagram classes the layer's jet admits, orders ≤ K kept — exact, since
// g(δy) = f(y₀+δy) − f(y₀) has no constant term. The contraction is done by a kernel chosen by
// the jet's structure; the dense reference kernel does it for any jet and checks the others.
#pragma once

#include "engine/action.hpp"
#include "engine/jet.hpp"

namespace flowaction {

// Γ′ with the fast kernel of the jet's structure.
template <Field T>
Action<T> pullback(const Action<T>& gamma, const Jet<T>& jet);

// Γ′ with every G⁽ᵐ⁾ spelled out and every class contracted densely (memory grows as dⁿ⁺²):
// the reference the fast kernels are tested against.
template <Field T>
Action<T> pullback_reference(const Action<T>& gamma, const Jet<T>& jet);

}  // namespace flowaction
