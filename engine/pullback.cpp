#include "engine/pullback.hpp"

#include "engine/kernels.hpp"

namespace flowaction {

namespace {

// DESIGN §4, once for every kernel: Γ′⁽⁰⁾ = Γ⁽⁰⁾ − ln|det G⁽¹⁾|, and Γ′⁽ⁿ⁾ the sum over the tree
// and ring classes with n legs that the jet admits.
template <Field T, class Kernel>
Action<T> pull_back(Kernel& kernel, const Action<T>& gamma, const diagrams::ClassFilter& filter) {
  Action<T> out(gamma.dim, gamma.order());
  out.vertices[0][0] = gamma.vertices[0][0] - kernel.log_abs_det();
  for (int n = 1; n <= gamma.order(); ++n) {
    SymTensor<T>& g = out.vertices[n];
    diagrams::for_each_class(n, filter, [&](const DiagramClass& c) {
      if (c.kind == diagrams::diagram_kind::tree)
        kernel.tree(c, g);
      else
        kernel.ring(c, g);
    });
    kernel.finish(g);
  }
  return out;
}

// The fast kernel of each jet structure (declarations only: they name the type).
template <Field T>
LinearKernel<T> kernel_for(const LinearJet<T>&);
template <Field T>
DiagonalKernel<T> kernel_for(const DiagonalJet<T>&);
template <Field T>
RankOneKernel<T> kernel_for(const RankOneJet<T>&);
template <Field T>
DenseKernel<T> kernel_for(const DenseJet<T>&);

}  // namespace

template <Field T>
Action<T> pullback(const Action<T>& gamma, const Jet<T>& jet) {
  const diagrams::ClassFilter filter = class_filter(jet);
  return std::visit(
      [&](const auto& j) {
        decltype(kernel_for(j)) kernel(j, gamma);
        return pull_back(kernel, gamma, filter);
      },
      jet);
}

template <Field T>
Action<T> pullback_reference(const Action<T>& gamma, const Jet<T>& jet) {
  const DenseJet<T> dense = to_dense(jet);
  DenseKernel<T> kernel(dense, gamma);
  return pull_back(kernel, gamma, diagrams::ClassFilter{dense.degree, true});
}

#define FLOWACTION_INSTANTIATE(T)                               \
  template Action<T> pullback(const Action<T>&, const Jet<T>&); \
  template Action<T> pullback_reference(const Action<T>&, const Jet<T>&);
FLOWACTION_FIELDS(FLOWACTION_INSTANTIATE)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
