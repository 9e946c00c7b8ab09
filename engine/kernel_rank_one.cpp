#include <stdexcept>

#include "engine/contraction.hpp"
#include "engine/kernels.hpp"

namespace flowaction {

template <Field T>
void RankOneKernel<T>::tree(const DiagramClass& c, SymTensor<T>&) {
  if (c.max_derivative() > jet_.degree) throw std::logic_error("class beyond the jet's degree");
}

template <Field T>
void RankOneKernel<T>::ring(const DiagramClass&, SymTensor<T>&) {
  throw std::logic_error("a coupling's Jacobian is triangular: it has no rings");
}

template <Field T>
void RankOneKernel<T>::shift() {
  const int d = jet_.dim, K = gamma_.order();
  const auto ud = static_cast<std::size_t>(d);
  const auto degrees = static_cast<std::size_t>(K) + 1;
  // Monomial coefficients of S: c_α = Γ_α / α!.
  std::vector<std::vector<T>> term(degrees);
  for (int r = 0; r <= K; ++r) {
    const SymTensor<T>& g = gamma_.vertices[r];
    term[r].resize(g.size());
    multi_index a = g.shape().first();
    std::size_t rho = 0;
    do {
      term[r][rho] = g[rho] / from_int<T>(static_cast<long>(multiplicity_factorial(a)));
      ++rho;
    } while (g.shape().next(a));
  }
  sum_ = term;
  // ψ_h(t) = Σ_{m=1}^{degree} φ_h⁽ᵐ⁾/m! tᵐ; hidden units whose v or ψ vanishes do nothing.
  const auto H = static_cast<std::size_t>(jet_.hidden);
  std::vector<std::size_t> active;
  std::vector<std::vector<T>> psi(H), v(H), w(H);
  for (std::size_t h = 0; h < H; ++h) {
    v[h].assign(jet_.v.begin() + static_cast<long>(h * ud),
                jet_.v.begin() + static_cast<long>((h + 1) * ud));
    w[h].assign(jet_.w.begin() + static_cast<long>(h * ud),
                jet_.w.begin() + static_cast<long>((h + 1) * ud));
    psi[h].assign(static_cast<std::size_t>(jet_.degree) + 1, T(0));
    bool any_psi = false, any_v = false;
    for (int m = 1; m <= jet_.degree; ++m) {
      psi[h][m] = jet_.phi[h][m] / from_int<T>(static_cast<long>(diagrams::factorial(m)));
      any_psi = any_psi || !vanishes(psi[h][m]);
    }
    for (const T& x : v[h]) any_v = any_v || !vanishes(x);
    if (any_psi && any_v) active.push_back(h);
  }
  std::vector<std::vector<T>> next(degrees), derivative(degrees), horner(degrees);
  // horner ← (w·δ) horner, degrees above K dropped.
  auto times_linear = [&](const std::vector<T>& wh) {
    for (int r = K - 1; r >= 0; --r) multiply_linear(d, r, horner[r], wh, horner[r + 1]);
    horner[0].assign(horner[0].size(), T(0));
  };
  for (int j = 1; j <= K; ++j) {
    for (int r = 0; r <= K; ++r) next[r].assign(term[r].size(), T(0));
    bool any = false;
    for (std::size_t h : active) {
      // D = (v_h·∇) T, then ψ_h(w_h·δ) D = t(ψ₁D + t(ψ₂D + … + t ψ_p D)) with t = w_h·δ.
      for (int r = 0; r <= K; ++r) derivative[r].assign(term[r].size(), T(0));
      for (int r = 1; r <= K; ++r) add_derivative(d, r, term[r], v[h], derivative[r - 1]);
      bool nonzero = false;
      for (int r = 0; r < K && !nonzero; ++r)
        for (const T& x : derivative[r]) nonzero = nonzero || !vanishes(x);
      if (!nonzero) continue;
      const int p = jet_.degree;
      for (int r = 0; r <= K; ++r) {
        horner[r] = derivative[r];
        for (T& x : horner[r]) x *= psi[h][p];
      }
      for (int m = p - 1; m >= 1; --m) {
        times_linear(w[h]);
        for (int r = 0; r < K; ++r)
          for (std::size_t i = 0; i < horner[r].size(); ++i)
            horner[r][i] += psi[h][m] * derivative[r][i];
      }
      times_linear(w[h]);
      for (int r = 1; r <= K; ++r)
        for (std::size_t i = 0; i < horner[r].size(); ++i) next[r][i] += horner[r][i];
      any = true;
    }
    if (!any) break;
    const T inv = T(1) / from_int<T>(j);
    for (int r = 0; r <= K; ++r)
      for (std::size_t i = 0; i < next[r].size(); ++i) {
        next[r][i] *= inv;
        sum_[r][i] += next[r][i];
      }
    std::swap(term, next);
  }
}

template <Field T>
void RankOneKernel<T>::finish(SymTensor<T>& out) {
  if (sum_.empty()) shift();
  // Tensor entries Γ′_α = α! c_α.
  const std::vector<T>& c = sum_[out.order()];
  multi_index a = out.shape().first();
  std::size_t rho = 0;
  do {
    out[rho] = c[rho] * from_int<T>(static_cast<long>(multiplicity_factorial(a)));
    ++rho;
  } while (out.shape().next(a));
}

#define FLOWACTION_INSTANTIATE(T) template class RankOneKernel<T>;
FLOWACTION_FIELDS(FLOWACTION_INSTANTIATE)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
