#include <stdexcept>

#include "engine/contraction.hpp"
#include "engine/kernels.hpp"

namespace flowaction {

template <Field T>
RankOneKernel<T>::RankOneKernel(const RankOneJet<T>& jet, const Action<T>& gamma)
    : jet_(jet), gamma_(gamma) {
  const auto ud = static_cast<std::size_t>(jet.dim);
  const auto H = static_cast<std::size_t>(jet.hidden);
  auto column = [&](const std::vector<T>& flat, std::size_t h) {
    std::vector<T> v(flat.begin() + static_cast<long>(h * ud),
                     flat.begin() + static_cast<long>((h + 1) * ud));
    for (const T& x : v)
      if (!vanishes(x)) return v;
    return std::vector<T>{};  // a hidden unit that contributes nothing at this order
  };
  a_.resize(static_cast<std::size_t>(jet.degree) + 1);
  for (int m = 2; m <= jet.degree; ++m)
    for (std::size_t h = 0; h < H; ++h) a_[m].push_back(column(jet.a[m], h));
  for (std::size_t h = 0; h < H; ++h) w_.push_back(column(jet.w, h));
}

template <Field T>
void RankOneKernel<T>::tree(const DiagramClass& c, SymTensor<T>& out) {
  const int n = c.order(), k = c.vertex_count(), d = jet_.dim;
  int passing = 0;
  for (int m : c.sizes) passing += m == 1;
  if (passing == k) {  // every leg passes: multiplicity 1
    const SymTensor<T> t = transform_legs(gamma_.vertices[n], jet_.G1);
    for (std::size_t r = 0; r < t.size(); ++r) out[r] += t[r];
    return;
  }
  // The passing legs first (mode products), then each fan: contract the leg with a⁽ᵐ⁾_h and
  // multiply by (w_h·δ)^m, summed over h. Outputs are kept as polynomial coefficients,
  // coefficient(δ^ρ) = (s!/ρ!) · entry, which makes the symmetrisation of a fan a product.
  Mixed<T> X = transform_some_legs(gamma_.vertices[k], jet_.G1, passing);
  {
    const SymShape rows(d, passing);
    const std::size_t cols = X.cols();
    const T pf = from_int<T>(static_cast<long>(diagrams::factorial(passing)));
    multi_index J = rows.first();
    std::size_t r = 0;
    do {
      const T f = pf / from_int<T>(static_cast<long>(multiplicity_factorial(J)));
      for (std::size_t col = 0; col < cols; ++col) X.data[r * cols + col] *= f;
      ++r;
    } while (rows.next(J));
  }
  Mixed<T> Y, Z, Z2;
  for (int m : c.sizes) {
    if (m == 1) continue;
    Y = Mixed<T>{d, X.outputs + m, X.inputs - 1, {}};
    Y.data.assign(Y.rows() * Y.cols(), T(0));
    for (std::size_t h = 0; h < a_[m].size(); ++h) {
      if (a_[m][h].empty() || w_[h].empty()) continue;
      contract_input(X, a_[m][h], Z);
      for (int t = 0; t < m; ++t) {
        multiply_linear(Z, w_[h], Z2);
        std::swap(Z, Z2);
      }
      for (std::size_t r = 0; r < Y.data.size(); ++r)
        if (!vanishes(Z.data[r])) Y.data[r] += Z.data[r];
    }
    std::swap(X, Y);
  }
  if (!pending_) acc_.assign(out.size(), T(0)), pending_ = true;
  const T mult = from_int<T>(static_cast<long>(c.multiplicity));
  for (std::size_t r = 0; r < acc_.size(); ++r)
    if (!vanishes(X.data[r])) acc_[r] += mult * X.data[r];
}

template <Field T>
void RankOneKernel<T>::ring(const DiagramClass&, SymTensor<T>&) {
  throw std::logic_error("a coupling's Jacobian is triangular: it has no rings");
}

template <Field T>
void RankOneKernel<T>::finish(SymTensor<T>& out) {
  if (!pending_) return;
  // entry = (ρ!/n!) · coefficient
  const int n = out.order();
  const T nf = from_int<T>(static_cast<long>(diagrams::factorial(n)));
  multi_index J = out.shape().first();
  std::size_t r = 0;
  do {
    if (!vanishes(acc_[r]))
      out[r] += acc_[r] * from_int<T>(static_cast<long>(multiplicity_factorial(J))) / nf;
    ++r;
  } while (out.shape().next(J));
  acc_.clear();
  pending_ = false;
}

#define FLOWACTION_INSTANTIATE(T) template class RankOneKernel<T>;
FLOWACTION_FIELDS(FLOWACTION_INSTANTIATE)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
