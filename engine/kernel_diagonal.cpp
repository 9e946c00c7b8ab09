#include "engine/contraction.hpp"
#include "engine/kernels.hpp"
#include "engine/parallel.hpp"

namespace flowaction {

template <Field T>
DiagonalKernel<T>::DiagonalKernel(const DiagonalJet<T>& jet, const Action<T>& gamma)
    : jet_(jet), gamma_(gamma) {
  const auto ud = static_cast<std::size_t>(jet.dim);
  const auto K = static_cast<std::size_t>(gamma.order());
  fan_.assign(ud, std::vector<std::vector<T>>(K + 1));
  for (auto& f : fan_)
    for (std::size_t a = 0; a <= K; ++a) f[a].assign(a + 1, T(0));
  ring_.assign(ud, std::vector<T>(K + 1, T(0)));
  for (std::size_t u = 0; u < ud; ++u) inverse_slope_.push_back(T(1) / jet.D[u][1]);
  // The orders up to which the old vertices are diagonal (the latent Gaussian: all of them).
  for (int k = 2; k <= gamma.order() && is_diagonal(gamma.vertices[static_cast<std::size_t>(k)]);
       ++k)
    diagonal_orders_ = k;
}

template <Field T>
T DiagonalKernel<T>::log_abs_det() const {
  T s(0);
  for (const auto& D : jet_.D) s += log_abs(D[1]);
  return s;
}

template <Field T>
void DiagonalKernel<T>::tree(const DiagramClass& c, SymTensor<T>&) {
  const T mult = from_int<T>(static_cast<long>(c.multiplicity));
  for (std::size_t u = 0; u < fan_.size(); ++u) {
    T w = mult;
    for (int m : c.sizes) w *= jet_.D[u][m];
    fan_[u][c.order()][c.vertex_count()] += w;
  }
}

template <Field T>
void DiagonalKernel<T>::ring(const DiagramClass& c, SymTensor<T>&) {
  const T mult = from_int<T>(static_cast<long>(c.multiplicity) * c.sign);
  for (std::size_t u = 0; u < ring_.size(); ++u) {
    T w = mult;
    for (int m : c.sizes) w *= jet_.D[u][m + 1] * inverse_slope_[u];
    ring_[u][c.order()] += w;
  }
}

template <Field T>
void DiagonalKernel<T>::finish(SymTensor<T>& g) {
  // Γ′_J: J has units u_e with counts a_e; choose k_e fans per unit, the old vertex takes each
  // unit k_e times. Components are independent: in the float field ranges of them go to threads
  // (each component summed in the same order on any of them).
  const int n = g.order();
  const SymShape& shape = g.shape();
  std::vector<T> single_fan;  // fan_[u][1][1]: one leg, one fan
  for (const auto& f : fan_) single_fan.push_back(f[1][1]);
  const T* old_vertex = gamma_.vertices[n].data().data();
  // A component with repeated units: the sum over the fans per unit (blocks, 1 … counts).
  const auto mixed = [&](const std::vector<int>& units, const std::vector<int>& counts,
                         std::vector<int>& blocks) {
    const std::size_t t = units.size();
    blocks.assign(t, 1);
    T sum(0);
    while (true) {
      T w(1);
      for (std::size_t e = 0; e < t && !vanishes(w); ++e) w *= fan_[units[e]][counts[e]][blocks[e]];
      if (!vanishes(w)) {
        // The old vertex at the units taken blocks[e] times: its colex rank, term by term (the
        // terms are the same for every order up to n).
        std::size_t rank = 0;
        int p = 0;
        for (std::size_t e = 0; e < t; ++e)
          for (int c = 0; c < blocks[e]; ++c, ++p) rank += shape.rank_term(p, units[e] + p);
        const T& v = gamma_.vertices[p][rank];
        if (!vanishes(v)) sum += w * v;
      }
      std::size_t e = 0;
      while (e < t && blocks[e] == counts[e]) blocks[e++] = 1;
      if (e == t) break;
      ++blocks[e];
    }
    if (t == 1) sum += ring_[units[0]][n];
    return sum;
  };
  if (n > 1 && n <= diagonal_orders_) {
    // Every old vertex of order 2 … n is diagonal, so the new one is: a component over two or
    // more units sums old components over the same units. Only (u, …, u) is computed: g arrives
    // zero (tree() and ring() only gather the fans).
    std::vector<int> units(1), counts(1, n), blocks;
    for (int u = 0; u < jet_.dim; ++u) {
      units[0] = u;
      g.at(multi_index(static_cast<std::size_t>(n), u)) = mixed(units, counts, blocks);
    }
    return;
  }
  parallel_ranges(shape.size(), field_traits<T>::threads, [&](std::size_t begin, std::size_t end) {
    std::vector<int> units, counts, blocks;
    multi_index J = shape.unrank(begin);
    for (std::size_t rJ = begin; rJ < end; ++rJ, shape.next(J)) {
      // In colex order J₀ runs fastest: with J₁ < … < J_{n−1} distinct, the components
      // (0, J₁, …) … (J₁ − 1, J₁, …) are consecutive and distinct-unit, a run that vectorises;
      // (J₁, J₁, …) after it is computed below, so it must lie in this range too.
      if (n > 1 && J[0] == 0 && rJ + static_cast<std::size_t>(J[1]) < end) {
        bool distinct = true;
        for (int i = 1; i + 1 < n && distinct; ++i) distinct = J[i] < J[i + 1];
        if (distinct && J[1] > 0) {
          // The same product, in the same order, as the distinct-unit case below.
          const T* src = old_vertex + rJ;
          T* dst = g.data().data() + rJ;
          for (int u = 0; u < J[1]; ++u) {
            T w = src[u];
            if (!vanishes(w)) w *= single_fan[static_cast<std::size_t>(u)];
            for (int i = 1; i < n && !vanishes(w); ++i) w *= single_fan[J[i]];
            dst[u] = w;
          }
          rJ += static_cast<std::size_t>(J[1]);
          J[0] = J[1];
        }
      }
      units.clear();
      counts.clear();
      for (int i = 0; i < n; ++i) {
        if (i > 0 && J[i] == J[i - 1])
          ++counts.back();
        else
          units.push_back(J[i]), counts.push_back(1);
      }
      const std::size_t t = units.size();
      if (t == static_cast<std::size_t>(n) && n > 1) {
        // Distinct units (most components): one fan each, and the old vertex at J itself.
        T w = gamma_.vertices[n][rJ];
        for (std::size_t e = 0; e < t && !vanishes(w); ++e) w *= fan_[units[e]][1][1];
        g[rJ] = w;
        continue;
      }
      g[rJ] = mixed(units, counts, blocks);
    }
  });
}

#define FLOWACTION_INSTANTIATE(T) template class DiagonalKernel<T>;
FLOWACTION_FIELDS(FLOWACTION_INSTANTIATE)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
