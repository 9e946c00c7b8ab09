#include "engine/pullback.hpp"

#include <cln/integer.h>
#include <cln/rational.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>

#include "diagrams/diagram.hpp"

namespace flowaction {

namespace {

using diagrams::Diagram;
using diagrams::diagram_kind;
using diagrams::layer_diagrams;
using diagrams::layer_kind;

// rank(sorted(I′ ∪ {i})) for every I′ of order q (rank r) and unit i, stored [i * n + r]:
// the gather that lines up, for each output prefix, the legs still to be contracted.
struct InsertTable {
  std::size_t n = 0;
  std::vector<std::uint32_t> rank;
};

const InsertTable& insert_table(int d, int q) {
  static std::mutex mutex;
  static std::map<std::pair<int, int>, InsertTable> cache;
  const std::lock_guard lock(mutex);
  auto [it, inserted] = cache.try_emplace({d, q});
  if (inserted) {
    InsertTable& t = it->second;
    const SymShape in(d, q), out(d, q + 1);
    t.n = in.size();
    t.rank.resize(t.n * static_cast<std::size_t>(d));
    multi_index I = in.first(), merged(static_cast<std::size_t>(q) + 1);
    std::size_t r = 0;
    do {
      for (int i = 0; i < d; ++i) {
        const auto pos = std::upper_bound(I.begin(), I.end(), i) - I.begin();
        std::copy(I.begin(), I.begin() + pos, merged.begin());
        merged[pos] = i;
        std::copy(I.begin() + pos, I.end(), merged.begin() + pos + 1);
        t.rank[static_cast<std::size_t>(i) * t.n + r] =
            static_cast<std::uint32_t>(out.rank(merged));
      }
      ++r;
    } while (in.next(I));
  }
  return it->second;
}

// One mode product: from cur (rows: output prefixes J of order s; columns: remaining legs I of
// order q + 1) to next (rows J ∪ {j}, j ≥ max J; columns I′ of order q).
template <class T>
void mode_product(int d, int s, int q, const std::vector<T>& cur, const std::vector<T>& M,
                  std::vector<T>& next) {
  const SymShape prefixes(d, s);
  const std::size_t n_in = sym_size(d, q + 1), n_out = sym_size(d, q);
  // Every entry is written below (each J ∪ {j} once), so no zero fill; the buffer is reused.
  next.resize(sym_size(d, s + 1) * n_out);
  std::vector<std::size_t> append(static_cast<std::size_t>(d));  // rank(J ∪ {j}) − rank(J)
  for (int j = 0; j < d; ++j)
    append[j] = static_cast<std::size_t>(
        binomial(static_cast<std::uint64_t>(j + s), static_cast<std::uint64_t>(s + 1)));
  const auto ud = static_cast<std::size_t>(d);

  if constexpr (std::is_same_v<T, double>) {
    using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using ColMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
    const Eigen::Map<const RowMat> Mm(M.data(), d, d);
    // Rows are processed in chunks small enough that the gathered block and its product stay in
    // cache: GEMM speed without materialising the unpacked tensor.
    constexpr Eigen::Index chunk = 256;
    ColMat A(chunk, d), R(chunk, d);
    if (q == 0) {
      // The last leg: the remaining index is the column itself, no gather.
      const Eigen::Map<const RowMat> C(cur.data(), static_cast<Eigen::Index>(prefixes.size()), d);
      multi_index J = prefixes.first();
      std::size_t rJ = 0;
      for (Eigen::Index r0 = 0; r0 < C.rows(); r0 += chunk) {
        const Eigen::Index rows = std::min(chunk, C.rows() - r0);
        R.topRows(rows).noalias() = C.middleRows(r0, rows) * Mm;
        for (Eigen::Index r = 0; r < rows; ++r, ++rJ) {
          const int j0 = s ? J[s - 1] : 0;
          for (int j = j0; j < d; ++j) next[rJ + append[j]] = R(r, j);
          prefixes.next(J);
        }
      }
      return;
    }
    const InsertTable& ins = insert_table(d, q);
    multi_index J = prefixes.first();
    std::size_t rJ = 0;
    do {
      const int j0 = s ? J[s - 1] : 0;
      const double* row = cur.data() + rJ * n_in;
      for (std::size_t r0 = 0; r0 < n_out; r0 += chunk) {
        const auto rows = static_cast<Eigen::Index>(std::min<std::size_t>(chunk, n_out - r0));
        for (std::size_t i = 0; i < ud; ++i) {
          const std::uint32_t* idx = ins.rank.data() + i * n_out + r0;
          double* a = A.col(static_cast<Eigen::Index>(i)).data();
          for (Eigen::Index r = 0; r < rows; ++r) a[r] = row[idx[r]];
        }
        R.topLeftCorner(rows, d - j0).noalias() = A.topRows(rows) * Mm.rightCols(d - j0);
        for (int j = j0; j < d; ++j)
          std::copy_n(R.col(j - j0).data(), rows, next.data() + (rJ + append[j]) * n_out + r0);
      }
      ++rJ;
    } while (prefixes.next(J));
  } else {
    const InsertTable* ins = q > 0 ? &insert_table(d, q) : nullptr;
    std::vector<T> acc(ud);
    multi_index J = prefixes.first();
    std::size_t rJ = 0;
    do {
      const int j0 = s ? J[s - 1] : 0;
      const T* row = cur.data() + rJ * n_in;
      for (std::size_t r = 0; r < n_out; ++r) {
        std::fill(acc.begin() + j0, acc.end(), T(0));
        for (std::size_t i = 0; i < ud; ++i) {
          const T& x = row[ins ? ins->rank[i * n_out + r] : i];
          if (vanishes(x)) continue;
          for (std::size_t j = static_cast<std::size_t>(j0); j < ud; ++j)
            if (!vanishes(M[i * ud + j])) acc[j] += x * M[i * ud + j];
        }
        for (int j = j0; j < d; ++j) next[(rJ + append[j]) * n_out + r] = acc[j];
      }
      ++rJ;
    } while (prefixes.next(J));
  }
}

// Γ′⁽ⁿ⁾ of an element-wise layer: the trees factorise over units (a leg of unit u fans out only
// into legs of u), each unit's factor a sum over the tree classes of its own leg count, and the
// rings sit on the diagonal.
template <class T>
Action<T> pullback_diagonal(const Action<T>& gamma, const ActivationMap<T>& layer,
                            const std::vector<T>& y0) {
  const int d = gamma.dim, K = gamma.order();
  const auto ud = static_cast<std::size_t>(d);
  Action<T> out(d, K);
  // D[u][m] = φ_u⁽ᵐ⁾(y₀ᵤ).
  std::vector<std::vector<T>> D(ud);
  for (std::size_t u = 0; u < ud; ++u) {
    const int p = static_cast<int>(layer.phi[u].size()) - 1;
    D[u].resize(static_cast<std::size_t>(std::max(p, K + 1)) + 1, T(0));
    for (int m = 0; m <= p; ++m) D[u][m] = derivative(layer.phi[u], m, y0[u]);
  }
  // fan[u][a][k]: all trees on a legs of unit u with k fans; ring[u][n]: all rings on n legs.
  std::vector<std::vector<std::vector<T>>> fan(
      ud, std::vector<std::vector<T>>(static_cast<std::size_t>(K) + 1));
  std::vector<std::vector<T>> ring(ud, std::vector<T>(static_cast<std::size_t>(K) + 1, T(0)));
  for (std::size_t u = 0; u < ud; ++u) {
    const T inv = T(1) / D[u][1];
    for (int a = 1; a <= K; ++a) {
      fan[u][a].assign(static_cast<std::size_t>(a) + 1, T(0));
      for (const Diagram& c : layer_diagrams(layer_kind::activation, a)) {
        T w = from_int<T>(static_cast<long>(c.multiplicity()) * c.sign());
        if (c.kind() == diagram_kind::tree) {
          for (int m : c.sizes()) w *= D[u][m];
          fan[u][a][c.vertex_count()] += w;
        } else {
          for (int m : c.sizes()) w *= D[u][m + 1] * inv;
          ring[u][a] += w;
        }
      }
    }
  }
  out.vertices[0][0] = gamma.vertices[0][0];
  for (std::size_t u = 0; u < ud; ++u) out.vertices[0][0] -= log_abs(D[u][1]);

  std::vector<int> units, counts, blocks;
  multi_index inner;
  for (int n = 1; n <= K; ++n) {
    SymTensor<T>& g = out.vertices[n];
    const SymShape& shape = g.shape();
    multi_index J = shape.first();
    std::size_t rJ = 0;
    do {
      units.clear();
      counts.clear();
      for (int i = 0; i < n; ++i) {
        if (i > 0 && J[i] == J[i - 1])
          ++counts.back();
        else
          units.push_back(J[i]), counts.push_back(1);
      }
      const std::size_t t = units.size();
      blocks.assign(t, 1);  // fans per unit, 1 … counts
      T sum(0);
      while (true) {
        T w(1);
        for (std::size_t e = 0; e < t && !vanishes(w); ++e)
          w *= fan[units[e]][counts[e]][blocks[e]];
        if (!vanishes(w)) {
          inner.clear();
          for (std::size_t e = 0; e < t; ++e) inner.insert(inner.end(), blocks[e], units[e]);
          const SymTensor<T>& old = gamma.vertices[inner.size()];
          const T& v = old.at(inner);
          if (!vanishes(v)) sum += w * v;
        }
        std::size_t e = 0;
        while (e < t && blocks[e] == counts[e]) blocks[e++] = 1;
        if (e == t) break;
        ++blocks[e];
      }
      if (t == 1) sum += ring[units[0]][n];
      g[rJ] = sum;
      ++rJ;
    } while (shape.next(J));
  }
  return out;
}

// The sorted multi-index of position f of a dense tensor with `order` legs over d units.
void sorted_index_of(std::size_t f, std::size_t d, multi_index& index) {
  for (auto l = index.size(); l-- > 0;) index[l] = static_cast<int>(f % d), f /= d;
  std::sort(index.begin(), index.end());
}

// Γ′ of an additive coupling: the tree whose legs all pass is a mode product with G⁽¹⁾; every
// other tree class is contracted densely (its fans are rank-one sums over hidden units) and
// symmetrised. No rings: the Jacobian is unit triangular.
template <class T>
Action<T> pullback_coupling(const Action<T>& gamma, const CouplingMap<T>& c,
                            const std::vector<T>& y0) {
  const int d = gamma.dim, K = gamma.order();
  const auto ud = static_cast<std::size_t>(d);
  const std::size_t H = static_cast<std::size_t>(c.hidden), nA = c.A.size();
  const std::vector<T> u0 = coupling_preactivation(c, y0);
  int p = 0;
  for (const auto& phi : c.phi) p = std::max(p, static_cast<int>(phi.size()) - 1);
  // a[m][h*d + i] = φ_h⁽ᵐ⁾(u₀ₕ) W2_{ih} (i ∈ B); w[h*d + j] = W1_{hj} (j ∈ A).
  std::vector<std::vector<T>> a(static_cast<std::size_t>(std::max(p, 1)) + 1,
                                std::vector<T>(H * ud, T(0)));
  std::vector<T> w(H * ud, T(0));
  for (std::size_t h = 0; h < H; ++h) {
    for (std::size_t j = 0; j < nA; ++j) w[h * ud + c.A[j]] = c.W1[h * nA + j];
    for (int m = 1; m <= p; ++m) {
      const T phim = derivative(c.phi[h], m, u0[h]);
      for (std::size_t b = 0; b < c.B.size(); ++b) a[m][h * ud + c.B[b]] = phim * c.W2[b * H + h];
    }
  }
  std::vector<T> G1(ud * ud, T(0));
  for (std::size_t i = 0; i < ud; ++i) G1[i * ud + i] = T(1);
  for (std::size_t h = 0; h < H; ++h)
    for (std::size_t i = 0; i < ud; ++i)
      if (!vanishes(a[1][h * ud + i]))
        for (std::size_t j = 0; j < ud; ++j) G1[i * ud + j] += a[1][h * ud + i] * w[h * ud + j];

  Action<T> out(d, K);
  out.vertices[0][0] = gamma.vertices[0][0];
  std::vector<T> dense, next, sum, x;
  for (int n = 1; n <= K; ++n) {
    out.vertices[n] = transform_legs(gamma.vertices[n], G1);
    // Only classes that split a leg need the dense path; none does when φ is linear (p = 1).
    const auto& classes = layer_diagrams(layer_kind::coupling, n);
    if (std::none_of(classes.begin(), classes.end(), [&](const Diagram& c) {
          return c.max_derivative() > 1 && c.max_derivative() <= p;
        }))
      continue;
    const std::size_t N = static_cast<std::size_t>(std::pow(static_cast<double>(d), n));
    sum.assign(N, T(0));
    bool any = false;
    for (const Diagram& cls : classes) {
      if (cls.max_derivative() <= 1 || cls.max_derivative() > p) continue;
      const int k = cls.vertex_count();
      // Dense copy of Γ⁽ᵏ⁾: legs [outputs so far][inputs left], row-major.
      const SymTensor<T>& old = gamma.vertices[k];
      const std::size_t Nk = static_cast<std::size_t>(std::pow(static_cast<double>(d), k));
      dense.assign(Nk, T(0));
      multi_index idx(static_cast<std::size_t>(k));
      for (std::size_t f = 0; f < Nk; ++f) {
        sorted_index_of(f, ud, idx);
        dense[f] = old.at(idx);
      }
      std::size_t outs = 1;       // d^(legs produced so far)
      std::size_t ins = Nk / ud;  // d^(inputs after the current one)
      for (int m : cls.sizes()) {
        const std::size_t fan_out = static_cast<std::size_t>(std::pow(static_cast<double>(d), m));
        next.assign(outs * fan_out * ins, T(0));
        for (std::size_t o = 0; o < outs; ++o) {
          const T* src = dense.data() + o * ud * ins;
          T* dst = next.data() + o * fan_out * ins;
          if (m == 1) {
            for (std::size_t i = 0; i < ud; ++i)
              for (std::size_t j = 0; j < ud; ++j) {
                const T& g = G1[i * ud + j];
                if (vanishes(g)) continue;
                for (std::size_t r = 0; r < ins; ++r)
                  if (!vanishes(src[i * ins + r])) dst[j * ins + r] += src[i * ins + r] * g;
              }
            continue;
          }
          for (std::size_t h = 0; h < H; ++h) {
            // x[r] = Σᵢ src[i][r] a_{h,i}, then fan out into m legs: Π_t w_{h,j_t}.
            x.assign(ins, T(0));
            bool nonzero = false;
            for (std::size_t i = 0; i < ud; ++i) {
              const T& ah = a[m][h * ud + i];
              if (vanishes(ah)) continue;
              for (std::size_t r = 0; r < ins; ++r)
                if (!vanishes(src[i * ins + r])) x[r] += src[i * ins + r] * ah, nonzero = true;
            }
            if (!nonzero) continue;
            for (std::size_t f = 0; f < fan_out; ++f) {
              T prod(1);
              std::size_t rest = f;
              for (int t = 0; t < m && !vanishes(prod); ++t)
                prod *= w[h * ud + rest % ud], rest /= ud;
              if (vanishes(prod)) continue;
              for (std::size_t r = 0; r < ins; ++r)
                if (!vanishes(x[r])) dst[f * ins + r] += x[r] * prod;
            }
          }
        }
        dense.swap(next);
        outs *= fan_out;
        ins /= ud;
      }
      // Σ over labelled copies = multiplicity × symmetrisation.
      const T mult = from_int<T>(static_cast<long>(cls.multiplicity()));
      for (std::size_t f = 0; f < N; ++f)
        if (!vanishes(dense[f])) sum[f] += mult * dense[f], any = true;
    }
    if (!any) continue;
    // Sym(D)[J] = (α!/n!) Σ over the dense entries that sort to J.
    SymTensor<T>& g = out.vertices[n];
    std::vector<T> acc(g.size(), T(0));
    multi_index idx(static_cast<std::size_t>(n));
    for (std::size_t f = 0; f < N; ++f) {
      if (vanishes(sum[f])) continue;
      sorted_index_of(f, ud, idx);
      acc[g.shape().rank(idx)] += sum[f];
    }
    multi_index J = g.shape().first();
    std::size_t rJ = 0;
    const T nfact = from_int<T>(static_cast<long>(diagrams::factorial(n)));
    do {
      if (!vanishes(acc[rJ])) {
        g[rJ] += acc[rJ] * from_int<T>(static_cast<long>(multiplicity_factorial(J))) / nfact;
      }
      ++rJ;
    } while (g.shape().next(J));
  }
  return out;
}

// Rationals with one denominator per tensor: Γ = N/D and M = M̃/E turn the contraction into
// integer arithmetic, Γ′ = (N contracted with M̃)/(D Eᵏ), and spare a gcd per multiply-add.
bool all_rational(const std::vector<GiNaC::ex>& v) {
  for (const GiNaC::ex& x : v)
    if (!GiNaC::is_a<GiNaC::numeric>(x) || !GiNaC::ex_to<GiNaC::numeric>(x).is_rational())
      return false;
  return true;
}

std::vector<cln::cl_I> over_common_denominator(const std::vector<GiNaC::ex>& v,
                                               cln::cl_I& denominator) {
  denominator = 1;
  for (const GiNaC::ex& x : v)
    denominator =
        cln::lcm(denominator,
                 cln::denominator(cln::the<cln::cl_RA>(GiNaC::ex_to<GiNaC::numeric>(x).to_cl_N())));
  std::vector<cln::cl_I> out;
  out.reserve(v.size());
  for (const GiNaC::ex& x : v) {
    const auto q = cln::the<cln::cl_RA>(GiNaC::ex_to<GiNaC::numeric>(x).to_cl_N());
    out.push_back(cln::numerator(q) * cln::exquo(denominator, cln::denominator(q)));
  }
  return out;
}

}  // namespace

template <class T>
SymTensor<T> transform_legs(const SymTensor<T>& gamma, const std::vector<T>& M) {
  const int d = gamma.dim(), k = gamma.order();
  SymTensor<T> out(d, k);
  if (k == 0) {
    out[0] = gamma[0];
    return out;
  }
  if constexpr (std::is_same_v<T, GiNaC::ex>) {
    if (all_rational(gamma.data()) && all_rational(M)) {
      cln::cl_I D, E;
      std::vector<cln::cl_I> cur = over_common_denominator(gamma.data(), D), next;
      const std::vector<cln::cl_I> Mi = over_common_denominator(M, E);
      for (int s = 0; s < k; ++s) {
        mode_product(d, s, k - s - 1, cur, Mi, next);
        cur.swap(next);
      }
      const cln::cl_I scale = D * cln::expt_pos(E, static_cast<unsigned long>(k));
      for (std::size_t r = 0; r < cur.size(); ++r)
        out[r] = GiNaC::numeric(cln::cl_RA(cur[r]) / scale);
      return out;
    }
  }
  // Buffers kept per thread: fresh multi-megabyte allocations cost more in page faults than the
  // contraction itself.
  thread_local std::vector<T> cur, next;
  cur.assign(gamma.data().begin(), gamma.data().end());
  for (int s = 0; s < k; ++s) {
    mode_product(d, s, k - s - 1, cur, M, next);
    cur.swap(next);
  }
  std::copy(cur.begin(), cur.end(), out.data().begin());
  if constexpr (!std::is_same_v<T, double>) cur.clear(), next.clear();  // release GiNaC objects
  return out;
}

template <class T>
T log_abs_det(const LayerMap<T>& layer, const std::vector<T>& y0) {
  if (const auto* a = std::get_if<AffineMap<T>>(&layer)) {
    const int d = a->dim;
    if constexpr (std::is_same_v<T, double>) {
      using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
      const Eigen::PartialPivLU<RowMat> lu(Eigen::Map<const RowMat>(a->W.data(), d, d));
      double s = 0;
      for (int i = 0; i < d; ++i) s += std::log(std::fabs(lu.matrixLU()(i, i)));
      return s;
    } else {
      return log_abs(determinant(*a));
    }
  }
  if (const auto* s = std::get_if<ActivationMap<T>>(&layer)) {
    T sum(0);
    for (std::size_t u = 0; u < s->phi.size(); ++u) sum += log_abs(derivative(s->phi[u], 1, y0[u]));
    return sum;
  }
  return T(0);
}

template <class T>
Action<T> pullback(const Action<T>& gamma, const LayerMap<T>& layer, const std::vector<T>& y0) {
  if (const auto* a = std::get_if<AffineMap<T>>(&layer)) {
    // One class per order: every leg passes through W.
    Action<T> out(gamma.dim, gamma.order());
    out.vertices[0][0] = gamma.vertices[0][0] - log_abs_det(layer, y0);
    for (int n = 1; n <= gamma.order(); ++n)
      out.vertices[n] = transform_legs(gamma.vertices[n], a->W);
    return out;
  }
  if (const auto* s = std::get_if<ActivationMap<T>>(&layer))
    return pullback_diagonal(gamma, *s, y0);
  return pullback_coupling(gamma, std::get<CouplingMap<T>>(layer), y0);
}

template SymTensor<double> transform_legs(const SymTensor<double>&, const std::vector<double>&);
template SymTensor<GiNaC::ex> transform_legs(const SymTensor<GiNaC::ex>&,
                                             const std::vector<GiNaC::ex>&);
template double log_abs_det(const LayerMap<double>&, const std::vector<double>&);
template GiNaC::ex log_abs_det(const LayerMap<GiNaC::ex>&, const std::vector<GiNaC::ex>&);
template Action<double> pullback(const Action<double>&, const LayerMap<double>&,
                                 const std::vector<double>&);
template Action<GiNaC::ex> pullback(const Action<GiNaC::ex>&, const LayerMap<GiNaC::ex>&,
                                    const std::vector<GiNaC::ex>&);

}  // namespace flowaction
