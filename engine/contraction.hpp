// Contractions of packed symmetric tensors, the building blocks of the pullback kernels.
//
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "engine/field.hpp"
#include "engine/sym_tensor.hpp"

namespace flowaction {

// Γ′_{j₁…jₖ} = Σ Γ_{i₁…iₖ} M_{i₁j₁}…M_{iₖjₖ} (M row-major, d×d): the tree whose legs all pass.
// Successive mode products that keep the legs not yet contracted symmetric.
template <Field T>
SymTensor<T> transform_legs(const SymTensor<T>& gamma, const std::vector<T>& M);
// Double precision: depth first over the output prefixes, GEMMs on gathered blocks, on threads()
// threads; the same bits on any number of them.
SymTensor<double> transform_legs(const SymTensor<double>& gamma, const std::vector<double>& M);
// With the first output leg's columns taken `block` at a time (one GEMM over a gathered Γ per
// block, its child rows of k − 1 legs each held at once); the rounding depends on the block.
SymTensor<double> transform_legs(const SymTensor<double>& gamma, const std::vector<double>& M,
                                 int block);
// The block the two-argument form takes (d units, order k ≥ 1): as large as 1 GiB of child rows
// allows.
int first_leg_block(int d, int k);
// Exact rationals: integer arithmetic over one common denominator per tensor.
SymTensor<GiNaC::ex> transform_legs(const SymTensor<GiNaC::ex>& gamma,
                                    const std::vector<GiNaC::ex>& M);

// Whether every component off the diagonal (u, …, u) vanishes.
template <Field T>
bool is_diagonal(const SymTensor<T>& gamma) {
  std::size_t next_diagonal = 0;  // rank of (u, …, u) for the next u, in colex order
  int u = 0;
  for (std::size_t r = 0; r < gamma.size(); ++r) {
    if (r == next_diagonal)
      next_diagonal =
          ++u < gamma.dim()
              ? gamma.shape().rank(multi_index(static_cast<std::size_t>(gamma.order()), u))
              : gamma.size();
    else if (!vanishes(gamma[r]))
      return false;
  }
  return true;
}

// The same for a Γ that is diagonal (Γ_{u…u} = g_u, every other component 0, as after an
// element-wise layer pulled back from the latent Gaussian): Γ′ = Σ_u g_u M_u^{⊗k}, M_u row u —
// for order k ≥ 2 one triangular GEMM per output prefix of order k − 2 (about d^{k+1}/(k!)
// multiply-adds against 0.78 d⁵ for k = 4 in general, and no gathers). Nothing (nullopt) when Γ
// is not diagonal, or for fields other than double.
template <Field T>
std::optional<SymTensor<T>> transform_if_diagonal(const SymTensor<T>&, const std::vector<T>&) {
  return std::nullopt;
}
std::optional<SymTensor<double>> transform_if_diagonal(const SymTensor<double>& gamma,
                                                       const std::vector<double>& M);

// Homogeneous polynomials of degree r in d variables, stored as their monomial coefficients in
// packed (colex) order: c_α for the monomial δ^α, |α| = r.

// Q += (v·∇) P: Q_β += Σᵤ (βᵤ + 1) P_{β+eᵤ} vᵤ (degree r → r − 1).
template <Field T>
void add_derivative(int d, int r, const std::vector<T>& P, const std::vector<T>& v,
                    std::vector<T>& Q);

// Q = (w·δ) P (degree r → r + 1): Q_β = Σ over the distinct units u of β of P_{β−eᵤ} wᵤ.
template <Field T>
void multiply_linear(int d, int r, const std::vector<T>& P, const std::vector<T>& w,
                     std::vector<T>& Q);

// rank(sorted(I ∪ {i})) for every I of order q (rank r) and unit i, stored [i * n + r]: the
// gather that lines up, for each output prefix, the legs still to be contracted. Cached.
struct InsertTable {
  std::size_t n = 0;
  std::vector<std::uint32_t> rank;
};
const InsertTable& insert_table(int d, int q);

// rank(α without its position q) for every sorted α of order r (rank ρ), stored [ρ * r + q].
// Cached.
struct RemovalTable {
  std::vector<std::uint32_t> rank;
};
const RemovalTable& removal_table(int d, int r);

}  // namespace flowaction
