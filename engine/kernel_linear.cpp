#include <algorithm>
#include <stdexcept>

#include "engine/contraction.hpp"
#include "engine/kernels.hpp"

namespace flowaction {

template <Field T>
T LinearKernel<T>::log_abs_det() const {
  return field_traits<T>::log_abs_det(jet_.G1, jet_.dim);
}

template <Field T>
void LinearKernel<T>::tree(const DiagramClass& c, SymTensor<T>& out) {
  if (c.max_derivative() > 1) throw std::logic_error("a linear jet has no fans");
  // Multiplicity 1. A zero vertex (an affine layer pulled back from the latent Gaussian leaves
  // every order above 2 zero) stays zero; a diagonal one (after an element-wise layer) has a
  // cheaper contraction.
  const SymTensor<T>& g = gamma_.vertices[c.order()];
  if (std::all_of(g.data().begin(), g.data().end(), [](const T& x) { return vanishes(x); })) {
    out = SymTensor<T>(g.dim(), g.order());
    return;
  }
  out = SymTensor<T>();  // the zeros it was given: freed before the result is allocated
  if (auto diagonal = transform_if_diagonal(g, jet_.G1)) {
    out = std::move(*diagonal);
    return;
  }
  out = transform_legs(g, jet_.G1);
}

template <Field T>
void LinearKernel<T>::ring(const DiagramClass&, SymTensor<T>&) {
  throw std::logic_error("a linear jet has no rings");
}

#define FLOWACTION_INSTANTIATE(T) template class LinearKernel<T>;
FLOWACTION_FIELDS(FLOWACTION_INSTANTIATE)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
