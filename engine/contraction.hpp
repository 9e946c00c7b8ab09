// Contractions of packed symmetric tensors, the building blocks of the pullback kernels.
//
// A mixed tensor has s "output" legs (new legs in y, symmetric among themselves) and q "input"
// legs (legs of the old vertex not yet contracted, symmetric among themselves), stored as a
// row-major matrix: rows = packed output multi-indices of order s, columns = packed input
// multi-indices of order q.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/field.hpp"
#include "engine/sym_tensor.hpp"

namespace flowaction {

template <class T>
struct Mixed {
  int dim = 0, outputs = 0, inputs = 0;
  std::vector<T> data;  // sym_size(dim, outputs) × sym_size(dim, inputs)
  std::size_t rows() const { return static_cast<std::size_t>(sym_size(dim, outputs)); }
  std::size_t cols() const { return static_cast<std::size_t>(sym_size(dim, inputs)); }
};

// Γ′_{j₁…jₖ} = Σ Γ_{i₁…iₖ} M_{i₁j₁}…M_{iₖjₖ} (M row-major, d×d): the tree whose legs all pass.
// Successive mode products that keep the legs not yet contracted symmetric.
template <Field T>
SymTensor<T> transform_legs(const SymTensor<T>& gamma, const std::vector<T>& M);
// Exact rationals: integer arithmetic over one common denominator per tensor.
SymTensor<GiNaC::ex> transform_legs(const SymTensor<GiNaC::ex>& gamma,
                                    const std::vector<GiNaC::ex>& M);

// The first p legs of Γ (order k ≥ p) through M: a mixed tensor with p outputs, k − p inputs.
template <Field T>
Mixed<T> transform_some_legs(const SymTensor<T>& gamma, const std::vector<T>& M, int p);

// Contracts one input leg with the vector a: Y[J, I′] = Σᵢ X[J, I′ ∪ {i}] aᵢ.
template <Field T>
void contract_input(const Mixed<T>& X, const std::vector<T>& a, Mixed<T>& Y);

// Outputs read as polynomial coefficients (the coefficient of δ^ρ, not the tensor entry):
// multiplies them by the linear form w·δ, Y[ρ ∪ {u}, I] += X[ρ, I] w_u.
template <Field T>
void multiply_linear(const Mixed<T>& X, const std::vector<T>& w, Mixed<T>& Y);

// rank(sorted(I ∪ {i})) for every I of order q (rank r) and unit i, stored [i * n + r]: the
// gather that lines up, for each output prefix, the legs still to be contracted. Cached.
struct InsertTable {
  std::size_t n = 0;
  std::vector<std::uint32_t> rank;
};
const InsertTable& insert_table(int d, int q);

}  // namespace flowaction
