#include <algorithm>
#include <stdexcept>

#include "engine/kernels.hpp"

namespace flowaction {

namespace {

std::size_t power(std::size_t d, int k) {
  std::size_t p = 1;
  for (int i = 0; i < k; ++i) p *= d;
  return p;
}

// The sorted multi-index of position f of a dense tensor over d units (index.size() legs).
void sorted_index_of(std::size_t f, std::size_t d, multi_index& index) {
  for (auto l = index.size(); l-- > 0;) index[l] = static_cast<int>(f % d), f /= d;
  std::sort(index.begin(), index.end());
}

template <Field T>
std::vector<T> unpack(const SymTensor<T>& g) {
  const auto d = static_cast<std::size_t>(g.dim());
  std::vector<T> dense(power(d, g.order()));
  multi_index idx(static_cast<std::size_t>(g.order()));
  for (std::size_t f = 0; f < dense.size(); ++f) {
    sorted_index_of(f, d, idx);
    dense[f] = g.at(idx);
  }
  return dense;
}

// Gauss–Jordan elimination; the first nonzero pivot (exact fields need no more).
template <Field T>
std::vector<T> inverse_of(std::vector<T> A, std::size_t d) {
  std::vector<T> inv(d * d, T(0));
  for (std::size_t i = 0; i < d; ++i) inv[i * d + i] = T(1);
  for (std::size_t c = 0; c < d; ++c) {
    std::size_t p = c;
    while (p < d && vanishes(A[p * d + c])) ++p;
    if (p == d) throw std::domain_error("G1 is singular");
    for (std::size_t j = 0; j < d; ++j)
      std::swap(A[c * d + j], A[p * d + j]), std::swap(inv[c * d + j], inv[p * d + j]);
    const T pivot = A[c * d + c];
    for (std::size_t j = 0; j < d; ++j)
      A[c * d + j] = A[c * d + j] / pivot, inv[c * d + j] = inv[c * d + j] / pivot;
    for (std::size_t r = 0; r < d; ++r) {
      if (r == c || vanishes(A[r * d + c])) continue;
      const T f = A[r * d + c];
      for (std::size_t j = 0; j < d; ++j)
        A[r * d + j] -= f * A[c * d + j], inv[r * d + j] -= f * inv[c * d + j];
    }
  }
  return inv;
}

}  // namespace

template <Field T>
DenseKernel<T>::DenseKernel(const DenseJet<T>& jet, const Action<T>& gamma)
    : jet_(jet), gamma_(gamma) {
  const auto ud = static_cast<std::size_t>(jet.dim);
  dense_.resize(static_cast<std::size_t>(jet.degree) + 1);
  for (int m = 1; m <= jet.degree; ++m) {
    const std::size_t block = power(ud, m);
    dense_[m].resize(ud * block);
    for (std::size_t i = 0; i < ud; ++i) {
      const std::vector<T> g = unpack(jet.G[m][i]);
      std::copy(g.begin(), g.end(), dense_[m].begin() + static_cast<long>(i * block));
    }
  }
}

template <Field T>
T DenseKernel<T>::log_abs_det() const {
  const auto ud = static_cast<std::size_t>(jet_.dim);
  return field_traits<T>::log_abs_det(
      std::vector<T>(dense_[1].begin(), dense_[1].begin() + static_cast<long>(ud * ud)), jet_.dim);
}

template <Field T>
void DenseKernel<T>::tree(const DiagramClass& c, SymTensor<T>& out) {
  const auto ud = static_cast<std::size_t>(jet_.dim);
  const int k = c.vertex_count();
  // Legs [outputs so far][inputs left], row-major; each old leg in turn becomes m new legs.
  std::vector<T> cur = unpack(gamma_.vertices[k]), next;
  std::size_t outs = 1, ins = power(ud, k - 1);
  for (int m : c.sizes) {
    const std::size_t fan = power(ud, m);
    next.assign(outs * fan * ins, T(0));
    for (std::size_t o = 0; o < outs; ++o)
      for (std::size_t i = 0; i < ud; ++i)
        for (std::size_t f = 0; f < fan; ++f) {
          const T& g = dense_[m][i * fan + f];
          if (vanishes(g)) continue;
          for (std::size_t r = 0; r < ins; ++r) {
            const T& x = cur[(o * ud + i) * ins + r];
            if (!vanishes(x)) next[(o * fan + f) * ins + r] += x * g;
          }
        }
    cur.swap(next);
    outs *= fan;
    ins = ins > 1 ? ins / ud : 1;
  }
  if (acc_.empty()) acc_.assign(power(ud, out.order()), T(0));
  const T mult = from_int<T>(static_cast<long>(c.multiplicity));
  for (std::size_t f = 0; f < acc_.size(); ++f)
    if (!vanishes(cur[f])) acc_[f] += mult * cur[f];
}

template <Field T>
void DenseKernel<T>::ring(const DiagramClass& c, SymTensor<T>& out) {
  const auto ud = static_cast<std::size_t>(jet_.dim);
  if (inverse_.empty())
    inverse_ = inverse_of(
        std::vector<T>(dense_[1].begin(), dense_[1].begin() + static_cast<long>(ud * ud)), ud);
  // Vertex s: V[a][b][f] = Σᵢ (G⁽¹⁾⁻¹)_{ai} G⁽ᵐ⁺¹⁾_{i; b f}; the ring is Tr V₁V₂…V_r.
  auto vertex = [&](int m) {
    const std::size_t fan = power(ud, m), block = ud * fan;
    std::vector<T> V(ud * block, T(0));
    for (std::size_t a = 0; a < ud; ++a)
      for (std::size_t i = 0; i < ud; ++i) {
        const T& gi = inverse_[a * ud + i];
        if (vanishes(gi)) continue;
        for (std::size_t x = 0; x < block; ++x)
          V[a * block + x] += gi * dense_[m + 1][i * block + x];
      }
    return V;
  };
  // P[a][b][F], F the legs so far.
  std::vector<T> P = vertex(c.sizes[0]), next;
  std::size_t legs = power(ud, c.sizes[0]);
  for (std::size_t s = 1; s < c.sizes.size(); ++s) {
    const std::vector<T> V = vertex(c.sizes[s]);
    const std::size_t fan = power(ud, c.sizes[s]);
    next.assign(ud * ud * legs * fan, T(0));
    for (std::size_t a = 0; a < ud; ++a)
      for (std::size_t b = 0; b < ud; ++b)
        for (std::size_t F = 0; F < legs; ++F) {
          const T& p = P[(a * ud + b) * legs + F];
          if (vanishes(p)) continue;
          for (std::size_t e = 0; e < ud; ++e)
            for (std::size_t f = 0; f < fan; ++f) {
              const T& v = V[(b * ud + e) * fan + f];
              if (!vanishes(v)) next[((a * ud + e) * legs + F) * fan + f] += p * v;
            }
        }
    P.swap(next);
    legs *= fan;
  }
  if (acc_.empty()) acc_.assign(power(ud, out.order()), T(0));
  const T mult = from_int<T>(static_cast<long>(c.multiplicity) * c.sign);
  for (std::size_t a = 0; a < ud; ++a)
    for (std::size_t F = 0; F < legs; ++F) {
      const T& p = P[(a * ud + a) * legs + F];
      if (!vanishes(p)) acc_[F] += mult * p;
    }
}

template <Field T>
void DenseKernel<T>::finish(SymTensor<T>& out) {
  if (acc_.empty()) return;
  // Sym(D)[J] = (α!/n!) Σ over the dense entries that sort to J.
  const auto ud = static_cast<std::size_t>(jet_.dim);
  const int n = out.order();
  std::vector<T> sum(out.size(), T(0));
  multi_index idx(static_cast<std::size_t>(n));
  for (std::size_t f = 0; f < acc_.size(); ++f) {
    if (vanishes(acc_[f])) continue;
    sorted_index_of(f, ud, idx);
    sum[out.shape().rank(idx)] += acc_[f];
  }
  const T nf = from_int<T>(static_cast<long>(diagrams::factorial(n)));
  multi_index J = out.shape().first();
  std::size_t r = 0;
  do {
    if (!vanishes(sum[r]))
      out[r] += sum[r] * from_int<T>(static_cast<long>(multiplicity_factorial(J))) / nf;
    ++r;
  } while (out.shape().next(J));
  acc_.clear();
}

#define FLOWACTION_INSTANTIATE(T) template class DenseKernel<T>;
FLOWACTION_FIELDS(FLOWACTION_INSTANTIATE)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
