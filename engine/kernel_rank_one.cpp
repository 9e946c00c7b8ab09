#include <cstdint>
#include <stdexcept>

#include "engine/kernels.hpp"

namespace flowaction {

namespace {

// For every sorted multi-index of order r over n variables (by colex rank): its distinct units,
// their multiplicities, and the rank of the index with that unit removed once.
struct Removals {
  std::vector<std::uint32_t> start{0};
  std::vector<int> unit, count;
  std::vector<std::uint32_t> rank;
};

Removals removals(int n, int r) {
  Removals t;
  if (r == 0) {
    t.start.push_back(0);
    return t;
  }
  const SymShape in(n, r), out(n, r - 1);
  multi_index a = in.first(), rest(static_cast<std::size_t>(r) - 1);
  do {
    for (int q = 0; q < r; ++q) {
      if (q + 1 < r && a[q + 1] == a[q]) continue;  // the last position of each unit
      int first = q;
      while (first > 0 && a[first - 1] == a[q]) --first;
      std::copy(a.begin(), a.begin() + q, rest.begin());
      std::copy(a.begin() + q + 1, a.end(), rest.begin() + q);
      t.unit.push_back(a[q]);
      t.count.push_back(q - first + 1);
      t.rank.push_back(static_cast<std::uint32_t>(out.rank(rest)));
    }
    t.start.push_back(static_cast<std::uint32_t>(t.unit.size()));
  } while (in.next(a));
  return t;
}

// A polynomial of degree ≤ K in the A and B variables, as blocks [b][a] of its monomials of
// B-degree b and A-degree a: column-major, one column per A-monomial, sym(nB, b) rows each.
template <class T>
using Blocks = std::vector<std::vector<std::vector<T>>>;

}  // namespace

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
  const int nA = static_cast<int>(jet_.A.size()), nB = static_cast<int>(jet_.B.size());
  const auto ud = static_cast<std::size_t>(d);
  const auto deg = static_cast<std::size_t>(K) + 1;
  std::vector<std::size_t> sizeA(deg), sizeB(deg);
  std::vector<Removals> remA(deg), remB(deg);
  std::vector<SymShape> shapeA, shapeB;
  for (int r = 0; r <= K; ++r) {
    shapeA.emplace_back(nA, r), shapeB.emplace_back(nB, r);
    sizeA[r] = sym_size(nA, r), sizeB[r] = sym_size(nB, r);
    remA[r] = removals(nA, r), remB[r] = removals(nB, r);
  }
  auto zero_blocks = [&] {
    Blocks<T> X(deg);
    for (int b = 0; b <= K; ++b) {
      X[b].resize(static_cast<std::size_t>(K - b) + 1);
      for (int a = 0; a + b <= K; ++a) X[b][a].assign(sizeB[b] * sizeA[a], T(0));
    }
    return X;
  };
  // S's monomial coefficients c_α = Γ_α / α!, sorted into blocks.
  Blocks<T> term = zero_blocks();
  {
    std::vector<int> local(ud);
    for (std::size_t i = 0; i < jet_.A.size(); ++i) local[jet_.A[i]] = static_cast<int>(i);
    for (std::size_t i = 0; i < jet_.B.size(); ++i) local[jet_.B[i]] = -1 - static_cast<int>(i);
    multi_index ia, ib;
    for (int r = 0; r <= K; ++r) {
      const SymTensor<T>& g = gamma_.vertices[r];
      multi_index a = g.shape().first();
      std::size_t rho = 0;
      do {
        ia.clear(), ib.clear();
        for (int u : a)
          (local[u] >= 0 ? ia : ib).push_back(local[u] >= 0 ? local[u] : -1 - local[u]);
        const auto b = ib.size(), na = ia.size();
        term[b][na][shapeA[na].rank(ia) * sizeB[b] + shapeB[b].rank(ib)] =
            g[rho] / from_int<T>(static_cast<long>(multiplicity_factorial(a)));
        ++rho;
      } while (g.shape().next(a));
    }
  }
  sum_ = term;
  // ψ_h(t) = Σ_{m=1}^{degree} φ_h⁽ᵐ⁾/m! tᵐ and v_h, w_h in local indices.
  const auto H = static_cast<std::size_t>(jet_.hidden);
  const int p = jet_.degree;
  std::vector<std::size_t> active;
  std::vector<std::vector<T>> psi(H), v(H), w(H);
  for (std::size_t h = 0; h < H; ++h) {
    for (int i : jet_.B) v[h].push_back(jet_.v[h * ud + static_cast<std::size_t>(i)]);
    for (int i : jet_.A) w[h].push_back(jet_.w[h * ud + static_cast<std::size_t>(i)]);
    psi[h].assign(static_cast<std::size_t>(p) + 1, T(0));
    bool any_psi = false, any_v = false;
    for (int m = 1; m <= p; ++m) {
      psi[h][m] = jet_.phi[h][m] / from_int<T>(static_cast<long>(diagrams::factorial(m)));
      any_psi = any_psi || !vanishes(psi[h][m]);
    }
    for (const T& x : v[h]) any_v = any_v || !vanishes(x);
    if (any_psi && any_v) active.push_back(h);
  }
  Blocks<T> next = zero_blocks(), derivative = zero_blocks(), horner = zero_blocks();
  std::vector<T> weight;  // count · v_u per removal entry of the current B-degree
  // horner ← (w·δ_A) horner, A-degrees beyond K − b dropped; in place from the top down.
  auto times_linear = [&](const std::vector<T>& wh, int from_a) {
    for (int b = 0; b <= K; ++b) {
      const std::size_t rows = sizeB[b];
      for (int a = K - b - 1; a >= from_a; --a) {
        const std::vector<T>& X = horner[b][a];
        std::vector<T>& Y = horner[b][a + 1];
        const Removals& rem = remA[a + 1];
        for (std::size_t g = 0; g < sizeA[a + 1]; ++g) {
          T* y = Y.data() + g * rows;
          std::fill(y, y + rows, T(0));
          for (std::uint32_t e = rem.start[g]; e < rem.start[g + 1]; ++e) {
            const T& wu = wh[static_cast<std::size_t>(rem.unit[e])];
            if (vanishes(wu)) continue;
            const T* x = X.data() + rem.rank[e] * rows;
            for (std::size_t i = 0; i < rows; ++i) y[i] += wu * x[i];
          }
        }
      }
      if (from_a <= K - b) std::fill(horner[b][from_a].begin(), horner[b][from_a].end(), T(0));
    }
  };
  for (int j = 1; j <= K; ++j) {
    // term = T_{j−1} has A-degree ≥ j − 1; T_j has A-degree ≥ j.
    const int lowest = j - 1;
    for (auto& row : next)
      for (auto& block : row) std::fill(block.begin(), block.end(), T(0));
    bool any = false;
    for (std::size_t h : active) {
      // D = (v_h·∇_B) T_{j−1}: B-degree b → b − 1, column by column.
      bool nonzero = false;
      for (int b = 1; b <= K; ++b) {
        const Removals& rem = remB[b];
        weight.resize(rem.unit.size());
        for (std::size_t e = 0; e < rem.unit.size(); ++e)
          weight[e] = from_int<T>(rem.count[e]) * v[h][static_cast<std::size_t>(rem.unit[e])];
        for (int a = lowest; a + b <= K; ++a) {
          const std::vector<T>& X = term[b][a];
          std::vector<T>& D = derivative[b - 1][a];
          std::fill(D.begin(), D.end(), T(0));
          for (std::size_t col = 0; col < sizeA[a]; ++col) {
            const T* x = X.data() + col * sizeB[b];
            T* out = D.data() + col * sizeB[b - 1];
            for (std::size_t beta = 0; beta < sizeB[b]; ++beta) {
              if (vanishes(x[beta])) continue;
              for (std::uint32_t e = rem.start[beta]; e < rem.start[beta + 1]; ++e)
                if (!vanishes(weight[e])) out[rem.rank[e]] += weight[e] * x[beta], nonzero = true;
            }
          }
        }
      }
      if (!nonzero) continue;
      // ψ_h(w_h·δ) D = t(ψ₁D + t(ψ₂D + … + t ψ_p D)), t = w_h·δ_A.
      for (int b = 0; b < K; ++b)
        for (int a = lowest; a + b < K; ++a) {
          horner[b][a] = derivative[b][a];
          for (T& x : horner[b][a]) x *= psi[h][p];
        }
      for (int m = p - 1; m >= 1; --m) {
        times_linear(w[h], lowest);
        for (int b = 0; b < K; ++b)
          for (int a = lowest; a + b < K; ++a)
            for (std::size_t i = 0; i < horner[b][a].size(); ++i)
              horner[b][a][i] += psi[h][m] * derivative[b][a][i];
      }
      times_linear(w[h], lowest);
      for (int b = 0; b < K; ++b)
        for (int a = lowest + 1; a + b <= K; ++a)
          for (std::size_t i = 0; i < horner[b][a].size(); ++i) next[b][a][i] += horner[b][a][i];
      any = true;
    }
    if (!any) break;
    const T inv = T(1) / from_int<T>(j);
    for (int b = 0; b <= K; ++b)
      for (int a = 0; a + b <= K; ++a)
        for (std::size_t i = 0; i < next[b][a].size(); ++i) {
          next[b][a][i] *= inv;
          sum_[b][a][i] += next[b][a][i];
        }
    std::swap(term, next);
  }
}

template <Field T>
void RankOneKernel<T>::finish(SymTensor<T>& out) {
  if (sum_.empty()) shift();
  // Tensor entries Γ′_α = α! c_α, read back from the blocks.
  const int nA = static_cast<int>(jet_.A.size()), nB = static_cast<int>(jet_.B.size());
  std::vector<int> local(static_cast<std::size_t>(jet_.dim));
  for (std::size_t i = 0; i < jet_.A.size(); ++i) local[jet_.A[i]] = static_cast<int>(i);
  for (std::size_t i = 0; i < jet_.B.size(); ++i) local[jet_.B[i]] = -1 - static_cast<int>(i);
  std::vector<SymShape> shapeA, shapeB;
  for (int r = 0; r <= out.order(); ++r) shapeA.emplace_back(nA, r), shapeB.emplace_back(nB, r);
  multi_index a = out.shape().first(), ia, ib;
  std::size_t rho = 0;
  do {
    ia.clear(), ib.clear();
    for (int u : a) (local[u] >= 0 ? ia : ib).push_back(local[u] >= 0 ? local[u] : -1 - local[u]);
    const auto b = ib.size(), na = ia.size();
    const T& c = sum_[b][na][shapeA[na].rank(ia) * shapeB[b].size() + shapeB[b].rank(ib)];
    out[rho] = c * from_int<T>(static_cast<long>(multiplicity_factorial(a)));
    ++rho;
  } while (out.shape().next(a));
}

#define FLOWACTION_INSTANTIATE(T) template class RankOneKernel<T>;
FLOWACTION_FIELDS(FLOWACTION_INSTANTIATE)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
