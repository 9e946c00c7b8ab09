// Contraction kernels of the pullback, one per jet structure, plus the dense reference.
//
// Every kernel is built from a jet and the old action Γ and answers, for the driver in
// engine/pullback.cpp:
//   log_abs_det()      ln|det G⁽¹⁾|
//   tree(c, out)       adds multiplicity · (the tree class c contracted) to out = Γ′⁽ⁿ⁾
//   ring(c, out)       adds multiplicity · sign · (the ring class c contracted) to out
//   finish(out)        completes Γ′⁽ⁿ⁾ after the last class of order n
// Classes arrive order by order, n = 1 … K.
#pragma once

#include <vector>

#include "diagrams/diagram.hpp"
#include "engine/action.hpp"
#include "engine/jet.hpp"

namespace flowaction {

using diagrams::DiagramClass;

// Affine: the one class per order whose legs all pass is a chain of mode products.
template <Field T>
class LinearKernel {
 public:
  LinearKernel(const LinearJet<T>& jet, const Action<T>& gamma) : jet_(jet), gamma_(gamma) {}
  T log_abs_det() const;
  void tree(const DiagramClass& c, SymTensor<T>& out);
  void ring(const DiagramClass& c, SymTensor<T>& out);
  void finish(SymTensor<T>&) {}

 private:
  const LinearJet<T>& jet_;
  const Action<T>& gamma_;
};

// Element-wise: a leg of unit u fans out only into legs of u, so the trees factorise over the
// units of an output component and each unit's factor is a sum over the classes of its own leg
// count; the rings sit on the diagonal.
template <Field T>
class DiagonalKernel {
 public:
  DiagonalKernel(const DiagonalJet<T>& jet, const Action<T>& gamma);
  T log_abs_det() const;
  void tree(const DiagramClass& c, SymTensor<T>& out);
  void ring(const DiagramClass& c, SymTensor<T>& out);
  void finish(SymTensor<T>& out);

 private:
  const DiagonalJet<T>& jet_;
  const Action<T>& gamma_;
  // fan_[u][a][k]: the trees on a legs of unit u with k fans; ring_[u][a]: the rings on a legs.
  std::vector<std::vector<std::vector<T>>> fan_;
  std::vector<std::vector<T>> ring_;
  std::vector<T> inverse_slope_;  // 1/G⁽¹⁾ᵤᵤ
  int diagonal_orders_ = 1;       // the old vertices of order 2 … this are diagonal
};

// Additive coupling: z_A = y_A and z_B = y_B + E(y_A) with E(δ) = Σ_h v_h ψ_h(w_h·δ), ψ_h the
// Taylor polynomial of φ_h at u₀ₕ without its constant term. Every tree class at once, by the
// generating function of the trees: S(δ_A, δ_B + E(δ_A)) = Σ_j (1/j!) (E·∇_B)^j S(δ), where E·∇_B
// is a sum over hidden units of a derivative along v_h (on the B variables) times ψ_h(w_h·δ) (on
// the A variables) — the fans of §4 with their multiplicities. Polynomials are held as blocks by
// (B-degree, A-degree), so both steps run over contiguous memory, in the memory of the packed
// tensors; the dense reference checks the result class by class. The sum is formed when the
// first order is finished; tree(c) only checks the class.
template <Field T>
class RankOneKernel {
 public:
  RankOneKernel(const RankOneJet<T>& jet, const Action<T>& gamma) : jet_(jet), gamma_(gamma) {}
  T log_abs_det() const { return T(0); }  // unit triangular
  void tree(const DiagramClass& c, SymTensor<T>& out);
  void ring(const DiagramClass& c, SymTensor<T>& out);
  void finish(SymTensor<T>& out);

 private:
  void shift();
  const RankOneJet<T>& jet_;
  const Action<T>& gamma_;
  // Coefficients of S(δ_A, δ_B + E) as blocks [b][a] (B-degree, A-degree); empty until shift().
  std::vector<std::vector<std::vector<T>>> sum_;
};

// Reference: every G⁽ᵐ⁾ dense, every class contracted on dense tensors and symmetrised, rings
// through G⁽¹⁾⁻¹. Any jet; small dimensions only.
template <Field T>
class DenseKernel {
 public:
  DenseKernel(const DenseJet<T>& jet, const Action<T>& gamma);
  T log_abs_det() const;
  void tree(const DiagramClass& c, SymTensor<T>& out);
  void ring(const DiagramClass& c, SymTensor<T>& out);
  void finish(SymTensor<T>& out);

 private:
  const DenseJet<T>& jet_;
  const Action<T>& gamma_;
  std::vector<std::vector<T>> dense_;  // dense_[m][i * d^m + f] = G⁽ᵐ⁾_{i; f}
  std::vector<T> inverse_;             // G⁽¹⁾⁻¹, row-major; empty until a ring needs it
  std::vector<T> acc_;                 // Σ over classes of the current order, dense
};

}  // namespace flowaction
