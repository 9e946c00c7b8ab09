// The jet of a layer at y₀ (DESIGN §4, §9): its Taylor tensors G⁽ᵐ⁾_{i; j₁…j_m} =
// ∂ᵐfᵢ/∂y_{j₁}…∂y_{j_m}, m = 1 … degree, in the structure the layer has. The pullback knows a layer
// only through its jet: the structure picks the contraction kernel and, through its degree and
// whether its Jacobian can have rings, the diagram classes that can contribute.
#pragma once

#include <variant>
#include <vector>

#include "diagrams/diagram.hpp"
#include "engine/field.hpp"
#include "engine/model.hpp"
#include "engine/sym_tensor.hpp"

namespace flowaction {

// G⁽¹⁾ only (affine): z = G1 y + const.
template <Field T>
struct LinearJet {
  int dim = 0;
  std::vector<T> G1;  // d×d row-major, G1[i*d + j] = ∂zᵢ/∂yⱼ
};

// Element-wise: G⁽ᵐ⁾_{i; i…i} = D[i][m], every other entry 0 (activation, ActNorm).
template <Field T>
struct DiagonalJet {
  int dim = 0;
  int degree = 1;                 // D[i][m] = 0 for m > degree
  std::vector<std::vector<T>> D;  // D[i][m], m = 0 … degree (D[i][0] unused)
};

// Additive coupling: G⁽ᵐ⁾ = Σ_h φ_h⁽ᵐ⁾ v_h ⊗ w_h^{⊗m} for m ≥ 2 and G⁽¹⁾ = I + Σ_h φ_h′ v_h ⊗ w_h,
// with v_h = W2[:, h] on the shifted units B and w_h = W1[h, :] on the passing units A: the
// Jacobian is unit triangular, so every ring vanishes and ln|det| = 0.
template <Field T>
struct RankOneJet {
  int dim = 0, hidden = 0;
  int degree = 1;
  std::vector<int> A, B;            // passing and shifted units (disjoint, sorted)
  std::vector<T> v;                 // v[h*d + i], i ∈ B
  std::vector<T> w;                 // w[h*d + j], j ∈ A
  std::vector<std::vector<T>> phi;  // phi[h][m] = φ_h⁽ᵐ⁾(u₀ₕ), m = 0 … degree
  std::vector<T> G1;                // d×d row-major
};

// The general case: G⁽ᵐ⁾ for each output unit i as a packed symmetric tensor of order m.
template <Field T>
struct DenseJet {
  int dim = 0;
  int degree = 1;
  std::vector<std::vector<SymTensor<T>>> G;  // G[m][i], m = 1 … degree (G[0] empty)
};

template <Field T>
using Jet = std::variant<LinearJet<T>, DiagonalJet<T>, RankOneJet<T>, DenseJet<T>>;

// The diagram classes the jet lets contribute: no G⁽ᵐ⁾ beyond its degree, no rings when the
// Jacobian is triangular.
template <Field T>
diagrams::ClassFilter class_filter(const Jet<T>& jet);

// The classes a layer type can produce whatever its weights (a listing without a model).
diagrams::ClassFilter class_filter(const LayerSpec& spec);

// The same jet with every G⁽ᵐ⁾ spelled out (the reference kernel's input).
template <Field T>
DenseJet<T> to_dense(const Jet<T>& jet);

// G⁽¹⁾ as a d×d row-major matrix.
template <Field T>
std::vector<T> first_derivative(const Jet<T>& jet);

// ln|det G⁽¹⁾| (the ring with no legs: enters Γ′⁽⁰⁾ with a minus sign).
template <Field T>
T log_abs_det(const Jet<T>& jet);

}  // namespace flowaction
