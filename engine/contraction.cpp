#include "engine/contraction.hpp"

#include <cln/integer.h>
#include <cln/rational.h>

#include <Eigen/Dense>
#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>
#include <type_traits>

#include "engine/huge_pages.hpp"
#include "engine/parallel.hpp"

namespace flowaction {

const InsertTable& insert_table(int d, int q) {
  static std::mutex mutex;
  static std::map<std::pair<int, int>, InsertTable> cache;
  const std::lock_guard lock(mutex);
  auto [it, inserted] = cache.try_emplace({d, q});
  if (inserted) {
    InsertTable& t = it->second;
    const SymShape in(d, q), out(d, q + 1);
    t.n = in.size();
    assign_advised(t.rank, t.n * static_cast<std::size_t>(d), std::uint32_t{0});
    // Colex ranks add C(i_p + p, p + 1) over the positions, so inserting i at position pos gives
    // (the part of I before pos) + C(i + pos, pos + 1) + (the part after, each shifted by one).
    // Blocks of I, unit by unit: the table is written in runs, not one stride-n entry at a time.
    const auto uq = static_cast<std::size_t>(q);
    constexpr std::size_t block = 256;
    std::vector<int> indices(block * uq);
    std::vector<std::size_t> before(block * (uq + 1)), after(block * (uq + 1));
    multi_index I = in.first();
    bool more = true;
    for (std::size_t r0 = 0; more; r0 += block) {
      std::size_t m = 0;
      for (; m < block && more; ++m, more = in.next(I)) {
        std::copy(I.begin(), I.end(), indices.begin() + static_cast<std::ptrdiff_t>(m * uq));
        std::size_t* b = before.data() + m * (uq + 1);
        std::size_t* a = after.data() + m * (uq + 1);
        b[0] = 0;
        for (int p = 0; p < q; ++p) b[p + 1] = b[p] + out.rank_term(p, I[p] + p);
        a[uq] = 0;
        for (int p = q; p-- > 0;) a[p] = a[p + 1] + out.rank_term(p + 1, I[p] + p + 1);
      }
      for (int i = 0; i < d; ++i) {
        std::uint32_t* row = t.rank.data() + static_cast<std::size_t>(i) * t.n + r0;
        for (std::size_t b = 0; b < m; ++b) {
          const int* J = indices.data() + b * uq;
          int pos = 0;
          while (pos < q && J[pos] <= i) ++pos;
          const std::size_t at = b * (uq + 1) + static_cast<std::size_t>(pos);
          row[b] = static_cast<std::uint32_t>(before[at] + out.rank_term(pos, i + pos) + after[at]);
        }
      }
    }
  }
  return it->second;
}

namespace {

// rank(J ∪ {j}) − rank(J) for j ≥ max J, J of order s (colex ranks add the last position).
std::vector<std::size_t> append_offsets(int d, int s) {
  std::vector<std::size_t> append(static_cast<std::size_t>(d));
  for (int j = 0; j < d; ++j)
    append[j] = static_cast<std::size_t>(
        binomial(static_cast<std::uint64_t>(j + s), static_cast<std::uint64_t>(s + 1)));
  return append;
}

// One mode product: from cur (rows: output prefixes J of order s; columns: remaining legs I of
// order q + 1) to next (rows J ∪ {j}, j ≥ max J; columns I′ of order q). Every entry of next is
// written (each J ∪ {j} once), so it needs no zero fill and the buffer is reused.
template <class T>
void mode_product(int d, int s, int q, const std::vector<T>& cur, const std::vector<T>& M,
                  std::vector<T>& next) {
  const SymShape prefixes(d, s);
  const std::size_t n_in = sym_size(d, q + 1), n_out = sym_size(d, q);
  next.resize(sym_size(d, s + 1) * n_out);
  const std::vector<std::size_t> append = append_offsets(d, s);
  const auto ud = static_cast<std::size_t>(d);
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

// The float field, depth first: the legs of Γ are contracted one at a time as in mode_product,
// but for one output prefix J at a time — row holds the partly contracted tensor of J (its
// remaining legs, order q + 1, packed), and each output leg j ≥ max J gives a child row, the
// column j of a GEMM on blocks gathered from row. Only one row per level is alive (per thread),
// instead of the whole sym(d, s) × sym(d, k − s) intermediate of a stage, which at d = 256,
// k = 4 would be 8.7 GB. The first level is one GEMM per block of first-leg columns, its row
// chunks on threads, then the block's children on threads: the gathers of Γ, which cost as much
// per entry as a column of multiply-adds, are made once per block, and blocks are made large.
class DepthFirst {
 public:
  DepthFirst(int d, int k, const std::vector<double>& M, std::vector<double>& out)
      : d_(d), k_(k), Mm_(M.data(), d, d), out_(out) {
    for (int s = 0; s < k; ++s) append_.push_back(append_offsets(d, s));
  }

  // The outputs whose first leg lies in [j0, j1), from Γ (order k).
  void first_level(int j0, int j1, const double* gamma) const {
    const int q = k_ - 1;
    if (q == 0) return expand(0, 0, j0, j1, gamma);
    const std::size_t n_out = sym_size(d_, q);
    const InsertTable& ins = insert_table(d_, q);
    ColMat R(static_cast<Eigen::Index>(n_out), j1 - j0);
    advise_huge_pages(R.data(), static_cast<std::size_t>(R.size()) * sizeof(double));
    // Chunks of fixed rows: each GEMM has the same shape on any number of threads.
    parallel_for((n_out + chunk - 1) / chunk, [&](std::size_t c) {
      ColMat A(std::min<Eigen::Index>(chunk, static_cast<Eigen::Index>(n_out)), d_);
      multiply_chunk(ins, n_out, c * chunk, j0, gamma, A, R);
    });
    children(0, 0, j0, j1, R, true);
  }

  // The children of prefix J (order s, rank rJ, last index j0) for output legs j in [j0, j1).
  void expand(int s, std::size_t rJ, int j0, int j1, const double* row) const {
    const int q = k_ - s - 1;
    const Eigen::Index cols = j1 - j0;
    if (q == 0) {  // row is over one leg: a row of outputs
      const Eigen::Map<const Eigen::RowVectorXd> r(row, d_);
      const Eigen::RowVectorXd o = r * Mm_.middleCols(j0, cols);
      for (int j = j0; j < j1; ++j) out_[rJ + append(s, j)] = o(j - j0);
      return;
    }
    const std::size_t n_out = sym_size(d_, q);
    const InsertTable& ins = insert_table(d_, q);
    ColMat R(static_cast<Eigen::Index>(n_out), cols);
    ColMat A(std::min<Eigen::Index>(chunk, static_cast<Eigen::Index>(n_out)), d_);
    for (std::size_t r0 = 0; r0 < n_out; r0 += chunk) multiply_chunk(ins, n_out, r0, j0, row, A, R);
    children(s, rJ, j0, j1, R, false);
  }

 private:
  using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using ColMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
  static constexpr Eigen::Index chunk = 256;

  // Rows [r0, r0 + chunk) of R = (row gathered to n_out × d) · M[:, j0 : j0 + R.cols()].
  void multiply_chunk(const InsertTable& ins, std::size_t n_out, std::size_t r0, int j0,
                      const double* row, ColMat& A, ColMat& R) const {
    const auto rows = static_cast<Eigen::Index>(std::min<std::size_t>(chunk, n_out - r0));
    for (std::size_t i = 0; i < static_cast<std::size_t>(d_); ++i) {
      const std::uint32_t* idx = ins.rank.data() + i * n_out + r0;
      double* a = A.col(static_cast<Eigen::Index>(i)).data();
      for (Eigen::Index r = 0; r < rows; ++r) a[r] = row[idx[r]];
    }
    R.middleRows(static_cast<Eigen::Index>(r0), rows).noalias() =
        A.topRows(rows) * Mm_.middleCols(j0, R.cols());
  }

  // The children j in [j0, j1) of prefix J, their rows the columns of R (over q = k − s − 1 legs).
  void children(int s, std::size_t rJ, int j0, int j1, const ColMat& R, bool on_threads) const {
    if (k_ - s - 1 == 1) {
      // The children are rows over one leg: their outputs at once, F = Rᵀ M for the legs
      // jj ≥ j ≥ j0 — the upper triangle when the children run to d − 1 (all but a first level).
      const Eigen::Index n = d_ - j0;
      ColMat F(R.cols(), n);
      if (R.cols() == n)
        F.triangularView<Eigen::Upper>() = R.transpose() * Mm_.rightCols(n);
      else
        F.noalias() = R.transpose() * Mm_.rightCols(n);
      for (int j = j0; j < j1; ++j) {
        const std::size_t rc = rJ + append(s, j);
        for (int jj = j; jj < d_; ++jj) out_[rc + append(s + 1, jj)] = F(j - j0, jj - j0);
      }
      return;
    }
    const auto child = [&](std::size_t c) {
      const int j = j0 + static_cast<int>(c);
      expand(s + 1, rJ + append(s, j), j, d_, R.col(static_cast<Eigen::Index>(c)).data());
    };
    const auto n = static_cast<std::size_t>(j1 - j0);
    if (on_threads)
      parallel_for(n, child);
    else
      for (std::size_t c = 0; c < n; ++c) child(c);
  }

  // rank(J ∪ {j}) − rank(J) for J of order s, j ≥ max J.
  std::size_t append(int s, int j) const {
    return append_[static_cast<std::size_t>(s)][static_cast<std::size_t>(j)];
  }
  int d_, k_;
  std::vector<std::vector<std::size_t>> append_;  // append_offsets(d, s) for s < k
  Eigen::Map<const RowMat> Mm_;
  std::vector<double>& out_;
};

// The first p mode products of Γ (order k), in buffers kept per thread: fresh multi-megabyte
// allocations cost more in page faults than the contraction itself.
template <class T>
void transform_prefix(const SymTensor<T>& gamma, const std::vector<T>& M, int p,
                      std::vector<T>& cur, std::vector<T>& next) {
  const int d = gamma.dim(), k = gamma.order();
  cur.assign(gamma.data().begin(), gamma.data().end());
  for (int s = 0; s < p; ++s) {
    mode_product(d, s, k - s - 1, cur, M, next);
    cur.swap(next);
  }
}

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

template <Field T>
SymTensor<T> transform_legs(const SymTensor<T>& gamma, const std::vector<T>& M) {
  SymTensor<T> out(gamma.dim(), gamma.order());
  thread_local std::vector<T> cur, next;
  transform_prefix(gamma, M, gamma.order(), cur, next);
  std::copy(cur.begin(), cur.end(), out.data().begin());
  // Expressions own memory that must not outlive the library at thread exit.
  if constexpr (!std::is_trivially_destructible_v<T>) cur.clear(), next.clear();
  return out;
}

int first_leg_block(int d, int k) {
  // Child rows of at most 2^27 doubles (1 GiB; each block gathers Γ once more, so blocks are
  // made large); never dependent on the number of threads (the GEMM's shape fixes its rounding).
  const std::size_t rows = sym_size(d, k - 1);
  if (rows == 0 || d < 1) return 1;
  return static_cast<int>(
      std::clamp<std::size_t>((std::size_t{1} << 27) / rows, 1, static_cast<std::size_t>(d)));
}

SymTensor<double> transform_legs(const SymTensor<double>& gamma, const std::vector<double>& M) {
  return transform_legs(gamma, M, first_leg_block(gamma.dim(), std::max(gamma.order(), 1)));
}

SymTensor<double> transform_legs(const SymTensor<double>& gamma, const std::vector<double>& M,
                                 int block) {
  if (block < 1) throw std::invalid_argument("transform_legs: block of first-leg columns < 1");
  const int d = gamma.dim(), k = gamma.order();
  SymTensor<double> out(d, k);
  if (k == 0 || d == 0) {
    out.data() = gamma.data();
    return out;
  }
  const DepthFirst contraction(d, k, M, out.data());
  for (int j0 = 0; j0 < d; j0 += block)
    contraction.first_level(j0, std::min(d, j0 + block), gamma.data().data());
  return out;
}

std::optional<SymTensor<double>> transform_if_diagonal(const SymTensor<double>& gamma,
                                                       const std::vector<double>& M) {
  const int d = gamma.dim(), k = gamma.order();
  if (k < 2 || d == 0 || !is_diagonal(gamma)) return std::nullopt;
  std::vector<double> g;
  for (int u = 0; u < d; ++u) g.push_back(gamma.at(multi_index(static_cast<std::size_t>(k), u)));
  SymTensor<double> out(d, k);
  std::vector<double>& o = out.data();
  using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using ColMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
  const Eigen::Map<const RowMat> W(M.data(), d, d);
  std::vector<std::vector<std::size_t>> append;
  for (int s = 0; s < k; ++s) append.push_back(append_offsets(d, s));
  // c_u = g_u Π_{j ∈ J} M_{u j} for a prefix J of order s (rank rJ, last index j0); at order
  // k − 2 the rest is F_{j l} = Σ_u c_u M_{u j} M_{u l}, l ≥ j ≥ j0: the upper triangle of a GEMM.
  const auto expand = [&](const auto& self, int s, std::size_t rJ, int j0,
                          const Eigen::VectorXd& c) -> void {
    if (s == k - 2) {
      const Eigen::Index n = d - j0;
      const ColMat Y = c.asDiagonal() * W.rightCols(n);
      ColMat F = ColMat::Zero(n, n);
      F.triangularView<Eigen::Upper>() = Y.transpose() * W.rightCols(n);
      for (int j = j0; j < d; ++j) {
        const std::size_t rj = rJ + append[s][j];
        for (int l = j; l < d; ++l) o[rj + append[s + 1][l]] = F(j - j0, l - j0);
      }
      return;
    }
    for (int j = j0; j < d; ++j)
      self(self, s + 1, rJ + append[s][j], j, Eigen::VectorXd(c.cwiseProduct(W.col(j))));
  };
  const Eigen::VectorXd g0 = Eigen::Map<const Eigen::VectorXd>(g.data(), d);
  if (k == 2) {
    expand(expand, 0, 0, 0, g0);
  } else {
    parallel_for(static_cast<std::size_t>(d), [&](std::size_t j) {
      const int i = static_cast<int>(j);
      expand(expand, 1, append[0][j], i, Eigen::VectorXd(g0.cwiseProduct(W.col(i))));
    });
  }
  return out;
}

SymTensor<GiNaC::ex> transform_legs(const SymTensor<GiNaC::ex>& gamma,
                                    const std::vector<GiNaC::ex>& M) {
  // Rationals with one denominator per tensor: Γ = N/D and M = M̃/E turn the contraction into
  // integer arithmetic, Γ′ = (N contracted with M̃)/(D Eᵏ), and spare a gcd per multiply-add.
  if (!all_rational(gamma.data()) || !all_rational(M)) return transform_legs<GiNaC::ex>(gamma, M);
  const int d = gamma.dim(), k = gamma.order();
  SymTensor<GiNaC::ex> out(d, k);
  cln::cl_I D, E;
  std::vector<cln::cl_I> cur = over_common_denominator(gamma.data(), D), next;
  const std::vector<cln::cl_I> Mi = over_common_denominator(M, E);
  for (int s = 0; s < k; ++s) {
    mode_product(d, s, k - s - 1, cur, Mi, next);
    cur.swap(next);
  }
  const cln::cl_I scale = D * cln::expt_pos(E, static_cast<unsigned long>(k));
  for (std::size_t r = 0; r < cur.size(); ++r) out[r] = GiNaC::numeric(cln::cl_RA(cur[r]) / scale);
  return out;
}

const RemovalTable& removal_table(int d, int r) {
  static std::mutex mutex;
  static std::map<std::pair<int, int>, RemovalTable> cache;
  const std::lock_guard lock(mutex);
  auto [it, inserted] = cache.try_emplace({d, r});
  if (inserted && r > 0) {
    RemovalTable& t = it->second;
    const SymShape in(d, r), out(d, r - 1);
    t.rank.resize(in.size() * static_cast<std::size_t>(r));
    multi_index a = in.first(), rest(static_cast<std::size_t>(r) - 1);
    std::size_t rho = 0;
    do {
      for (int q = 0; q < r; ++q) {
        std::copy(a.begin(), a.begin() + q, rest.begin());
        std::copy(a.begin() + q + 1, a.end(), rest.begin() + q);
        t.rank[rho * static_cast<std::size_t>(r) + static_cast<std::size_t>(q)] =
            static_cast<std::uint32_t>(out.rank(rest));
      }
      ++rho;
    } while (in.next(a));
  }
  return it->second;
}

template <Field T>
void add_derivative(int d, int r, const std::vector<T>& P, const std::vector<T>& v,
                    std::vector<T>& Q) {
  if (r == 0) return;
  const RemovalTable& rem = removal_table(d, r);
  const SymShape shape(d, r);
  multi_index a = shape.first();
  const auto ur = static_cast<std::size_t>(r);
  std::size_t rho = 0;
  do {
    const T& c = P[rho];
    if (!vanishes(c)) {
      // Each distinct unit once, at its last position, with its multiplicity.
      for (std::size_t q = 0; q < ur; ++q) {
        if (q + 1 < ur && a[q + 1] == a[q]) continue;
        const T& vu = v[static_cast<std::size_t>(a[q])];
        if (vanishes(vu)) continue;
        std::size_t first = q;
        while (first > 0 && a[first - 1] == a[q]) --first;
        Q[rem.rank[rho * ur + q]] += from_int<T>(static_cast<long>(q - first + 1)) * c * vu;
      }
    }
    ++rho;
  } while (shape.next(a));
}

template <Field T>
void multiply_linear(int d, int r, const std::vector<T>& P, const std::vector<T>& w,
                     std::vector<T>& Q) {
  const RemovalTable& rem = removal_table(d, r + 1);
  const SymShape shape(d, r + 1);
  Q.assign(shape.size(), T(0));
  multi_index b = shape.first();
  const auto ur = static_cast<std::size_t>(r) + 1;
  std::size_t rho = 0;
  do {
    T sum(0);
    for (std::size_t q = 0; q < ur; ++q) {
      if (q + 1 < ur && b[q + 1] == b[q]) continue;
      const T& wu = w[static_cast<std::size_t>(b[q])];
      if (vanishes(wu)) continue;
      const T& x = P[rem.rank[rho * ur + q]];
      if (!vanishes(x)) sum += x * wu;
    }
    Q[rho] = sum;
    ++rho;
  } while (shape.next(b));
}

#define FLOWACTION_INSTANTIATE(T)                                                       \
  template SymTensor<T> transform_legs<T>(const SymTensor<T>&, const std::vector<T>&);  \
  template void add_derivative(int, int, const std::vector<T>&, const std::vector<T>&,  \
                               std::vector<T>&);                                        \
  template void multiply_linear(int, int, const std::vector<T>&, const std::vector<T>&, \
                                std::vector<T>&);
FLOWACTION_FIELDS(FLOWACTION_INSTANTIATE)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
