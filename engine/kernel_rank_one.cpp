#include <algorithm>
#include <atomic>
#include <cstdint>
#include <stdexcept>

#include "engine/kernels.hpp"
#include "engine/parallel.hpp"

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

// Columns [begin, end) of block (b, a).
struct Span {
  int b, a;
  std::size_t begin, end;
};

// Each pass over the blocks is cut into spans of columns that go to threads in the float field.
// Every entry is written by one span in the same order of operations, so the results do not
// depend on the number of threads; small passes stay on the calling thread (starting threads
// would cost more than they save).
class Spans {
 public:
  explicit Spans(bool threads) : threads_(threads) {}
  void clear() {
    spans_.clear();
    work_ = 0;
  }
  // The columns of block (b, a), `rows` entries each, about `cost` operations per entry.
  void add(int b, int a, std::size_t rows, std::size_t cols, std::size_t cost = 1) {
    const std::size_t per_column = std::max<std::size_t>(1, rows * cost);
    const std::size_t step = std::max<std::size_t>(1, grain / per_column);
    for (std::size_t c = 0; c < cols; c += step)
      spans_.push_back({b, a, c, std::min(cols, c + step)});
    work_ += per_column * cols;
  }
  template <class Fn>
  void run(const Fn& fn) const {
    if (!threads_ || work_ < parallel_work) {
      for (const Span& s : spans_) fn(s);
      return;
    }
    parallel_for(spans_.size(), [&](std::size_t i) { fn(spans_[i]); });
  }

 private:
  static constexpr std::size_t grain = std::size_t{1} << 14;
  static constexpr std::size_t parallel_work = std::size_t{1} << 17;
  bool threads_;
  std::vector<Span> spans_;
  std::size_t work_ = 0;
};

// Where each component of a tensor over all d units sits in the blocks: the monomial split into
// its A and B parts, block [b][a] and the position in it.
class BlockPlaces {
 public:
  BlockPlaces(int d, const std::vector<int>& A, const std::vector<int>& B, int K) : local_(d) {
    for (std::size_t i = 0; i < A.size(); ++i) local_[A[i]] = static_cast<int>(i);
    for (std::size_t i = 0; i < B.size(); ++i) local_[B[i]] = -1 - static_cast<int>(i);
    for (int r = 0; r <= K; ++r) {
      shapeA_.emplace_back(static_cast<int>(A.size()), r);
      shapeB_.emplace_back(static_cast<int>(B.size()), r);
    }
  }

  // fn(rho, index, b, a, position) for every component of shape, on threads in the float field
  // (each component visited once: the calls write disjoint places).
  template <Field T, class Fn>
  void for_each(const SymShape& shape, const Fn& fn) const {
    parallel_ranges(
        shape.size(), field_traits<T>::threads, [&](std::size_t begin, std::size_t end) {
          multi_index index = shape.unrank(begin), ia, ib;
          for (std::size_t rho = begin; rho < end; ++rho, shape.next(index)) {
            ia.clear(), ib.clear();
            for (int u : index)
              (local_[u] >= 0 ? ia : ib).push_back(local_[u] >= 0 ? local_[u] : -1 - local_[u]);
            const auto b = ib.size(), a = ia.size();
            fn(rho, index, b, a, shapeA_[a].rank(ia) * shapeB_[b].size() + shapeB_[b].rank(ib));
          }
        });
  }

 private:
  std::vector<int> local_;  // unit → its index in A, or −1 − its index in B
  std::vector<SymShape> shapeA_, shapeB_;
};

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
  for (int r = 0; r <= K; ++r) {
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
  const BlockPlaces places(d, jet_.A, jet_.B, K);
  for (int r = 0; r <= K; ++r) {
    const SymTensor<T>& g = gamma_.vertices[r];
    places.for_each<T>(g.shape(), [&](std::size_t rho, const multi_index& index, std::size_t b,
                                      std::size_t a, std::size_t position) {
      term[b][a][position] = g[rho] / from_int<T>(static_cast<long>(multiplicity_factorial(index)));
    });
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
  Spans spans(field_traits<T>::threads);
  // fn(span, first entry, end entry) over the blocks (b, a) with a ≥ from_a, a + b ≤ K − shrink
  // and b ≤ K − shrink.
  auto for_entries = [&](int from_a, int shrink, const auto& fn) {
    spans.clear();
    for (int b = 0; b + shrink <= K; ++b)
      for (int a = from_a; a + b + shrink <= K; ++a) spans.add(b, a, sizeB[b], sizeA[a]);
    spans.run([&](const Span& s) { fn(s, s.begin * sizeB[s.b], s.end * sizeB[s.b]); });
  };
  // weight[b][e] = count · v_u for the removal entries e of B-degree b.
  std::vector<std::vector<T>> weight(deg);
  // horner ← (w·δ_A) horner, A-degrees beyond K − b dropped; level by level from the top down
  // (each block of A-degree a + 1 is made from the one of degree a, the B-degrees apart).
  auto times_linear = [&](const std::vector<T>& wh, int from_a) {
    for (int a = K - 1; a >= from_a; --a) {
      spans.clear();
      for (int b = 0; a + 1 + b <= K; ++b)
        spans.add(b, a + 1, sizeB[b], sizeA[a + 1], static_cast<std::size_t>(a) + 1);
      spans.run([&](const Span& s) {
        const std::size_t rows = sizeB[s.b];
        const std::vector<T>& X = horner[s.b][s.a - 1];
        std::vector<T>& Y = horner[s.b][s.a];
        const Removals& rem = remA[s.a];
        for (std::size_t g = s.begin; g < s.end; ++g) {
          T* y = Y.data() + g * rows;
          std::fill(y, y + rows, T(0));
          for (std::uint32_t e = rem.start[g]; e < rem.start[g + 1]; ++e) {
            const T& wu = wh[static_cast<std::size_t>(rem.unit[e])];
            if (vanishes(wu)) continue;
            const T* x = X.data() + rem.rank[e] * rows;
            for (std::size_t i = 0; i < rows; ++i) y[i] += wu * x[i];
          }
        }
      });
    }
    for (int b = 0; from_a + b <= K; ++b)
      std::fill(horner[b][from_a].begin(), horner[b][from_a].end(), T(0));
  };
  for (int j = 1; j <= K; ++j) {
    // term = T_{j−1} has A-degree ≥ j − 1; T_j has A-degree ≥ j.
    const int lowest = j - 1;
    for_entries(0, 0, [&](const Span& s, std::size_t begin, std::size_t end) {
      std::fill(next[s.b][s.a].begin() + begin, next[s.b][s.a].begin() + end, T(0));
    });
    bool any = false;
    for (std::size_t h : active) {
      // D = (v_h·∇_B) T_{j−1}: B-degree b → b − 1, column by column.
      for (int b = 1; b <= K; ++b) {
        const Removals& rem = remB[b];
        weight[b].resize(rem.unit.size());
        for (std::size_t e = 0; e < rem.unit.size(); ++e)
          weight[b][e] = from_int<T>(rem.count[e]) * v[h][static_cast<std::size_t>(rem.unit[e])];
      }
      spans.clear();
      for (int b = 1; b <= K; ++b)
        for (int a = lowest; a + b <= K; ++a)
          spans.add(b, a, sizeB[b], sizeA[a], static_cast<std::size_t>(b));
      std::atomic<bool> nonzero{false};
      spans.run([&](const Span& s) {
        const Removals& rem = remB[s.b];
        const std::vector<T>& wt = weight[s.b];
        const std::vector<T>& X = term[s.b][s.a];
        std::vector<T>& D = derivative[s.b - 1][s.a];
        const std::size_t in_rows = sizeB[s.b], out_rows = sizeB[s.b - 1];
        std::fill(D.begin() + s.begin * out_rows, D.begin() + s.end * out_rows, T(0));
        bool found = false;
        for (std::size_t col = s.begin; col < s.end; ++col) {
          const T* x = X.data() + col * in_rows;
          T* out = D.data() + col * out_rows;
          for (std::size_t beta = 0; beta < in_rows; ++beta) {
            if (vanishes(x[beta])) continue;
            for (std::uint32_t e = rem.start[beta]; e < rem.start[beta + 1]; ++e)
              if (!vanishes(wt[e])) out[rem.rank[e]] += wt[e] * x[beta], found = true;
          }
        }
        if (found) nonzero.store(true, std::memory_order_relaxed);
      });
      if (!nonzero) continue;
      // ψ_h(w_h·δ) D = t(ψ₁D + t(ψ₂D + … + t ψ_p D)), t = w_h·δ_A.
      for_entries(lowest, 1, [&](const Span& s, std::size_t begin, std::size_t end) {
        const std::vector<T>& D = derivative[s.b][s.a];
        std::vector<T>& Y = horner[s.b][s.a];
        for (std::size_t i = begin; i < end; ++i) Y[i] = D[i] * psi[h][p];
      });
      for (int m = p - 1; m >= 1; --m) {
        times_linear(w[h], lowest);
        for_entries(lowest, 1, [&](const Span& s, std::size_t begin, std::size_t end) {
          const std::vector<T>& D = derivative[s.b][s.a];
          std::vector<T>& Y = horner[s.b][s.a];
          for (std::size_t i = begin; i < end; ++i) Y[i] += psi[h][m] * D[i];
        });
      }
      times_linear(w[h], lowest);
      // Only B-degrees below K gain terms (D lowered them by one).
      for_entries(lowest + 1, 0, [&](const Span& s, std::size_t begin, std::size_t end) {
        if (s.b == K) return;
        const std::vector<T>& Y = horner[s.b][s.a];
        std::vector<T>& N = next[s.b][s.a];
        for (std::size_t i = begin; i < end; ++i) N[i] += Y[i];
      });
      any = true;
    }
    if (!any) break;
    const T inv = T(1) / from_int<T>(j);
    for_entries(0, 0, [&](const Span& s, std::size_t begin, std::size_t end) {
      std::vector<T>& N = next[s.b][s.a];
      std::vector<T>& S = sum_[s.b][s.a];
      for (std::size_t i = begin; i < end; ++i) {
        N[i] *= inv;
        S[i] += N[i];
      }
    });
    std::swap(term, next);
  }
}

template <Field T>
void RankOneKernel<T>::finish(SymTensor<T>& out) {
  if (sum_.empty()) shift();
  // Tensor entries Γ′_α = α! c_α, read back from the blocks.
  const BlockPlaces places(jet_.dim, jet_.A, jet_.B, out.order());
  places.for_each<T>(out.shape(), [&](std::size_t rho, const multi_index& index, std::size_t b,
                                      std::size_t a, std::size_t position) {
    out[rho] = sum_[b][a][position] * from_int<T>(static_cast<long>(multiplicity_factorial(index)));
  });
}

#define FLOWACTION_INSTANTIATE(T) template class RankOneKernel<T>;
FLOWACTION_FIELDS(FLOWACTION_INSTANTIATE)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
