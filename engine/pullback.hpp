// The pullback of the action through one layer (DESIGN §4): given the vertices Γ of the action
// in z = f(y), the vertices Γ′ in y around y₀, as the sum of the layer's tree and ring diagram
// classes (diagrams/diagram.hpp), orders ≤ K kept — exact, since g(δy) = f(y₀+δy) − f(y₀) has no
// constant term.
#pragma once

#include <vector>

#include "engine/action.hpp"
#include "engine/layer.hpp"

namespace flowaction {

// Γ′ = pullback of Γ (the action in z = f(y)) through the layer, expanded around y₀.
template <class T>
Action<T> pullback(const Action<T>& gamma, const LayerMap<T>& layer, const std::vector<T>& y0);

// Γ′_{j₁…jₖ} = Σ Γ_{i₁…iₖ} M_{i₁j₁}…M_{iₖjₖ} (M row-major, d×d): the tree whose legs all pass.
// Successive mode products that keep the legs not yet contracted symmetric.
template <class T>
SymTensor<T> transform_legs(const SymTensor<T>& gamma, const std::vector<T>& M);

// ln|det ∂f/∂y| at y₀ (the ring with no legs: enters Γ′⁽⁰⁾ with a minus sign).
template <class T>
T log_abs_det(const LayerMap<T>& layer, const std::vector<T>& y0);

}  // namespace flowaction
