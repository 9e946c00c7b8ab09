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
};

// Additive coupling: fans are sums of rank-one terms over hidden units, so a split leg is a
// contraction with a vector followed by multiplications with linear forms, all in packed
// storage (memory of the packed tensors, never dⁿ).
template <Field T>
class RankOneKernel {
 public:
  RankOneKernel(const RankOneJet<T>& jet, const Action<T>& gamma);
  T log_abs_det() const { return T(0); }  // unit triangular
  void tree(const DiagramClass& c, SymTensor<T>& out);
  void ring(const DiagramClass& c, SymTensor<T>& out);
  void finish(SymTensor<T>& out);

 private:
  const RankOneJet<T>& jet_;
  const Action<T>& gamma_;
  std::vector<std::vector<std::vector<T>>> a_;  // a_[m][h]: a⁽ᵐ⁾_h as a d-vector (empty if 0)
  std::vector<std::vector<T>> w_;               // w_[h]
  std::vector<T> acc_;  // split trees of the current order, as polynomial coefficients
  bool pending_ = false;
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
