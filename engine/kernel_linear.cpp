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
  out = transform_legs(gamma_.vertices[c.order()], jet_.G1);  // multiplicity 1
}

template <Field T>
void LinearKernel<T>::ring(const DiagramClass&, SymTensor<T>&) {
  throw std::logic_error("a linear jet has no rings");
}

#define FLOWACTION_INSTANTIATE(T) template class LinearKernel<T>;
FLOWACTION_FIELDS(FLOWACTION_INSTANTIATE)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
