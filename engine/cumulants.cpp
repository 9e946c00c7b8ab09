#include "engine/cumulants.hpp"

#include <cln/integer.h>
#include <cln/rational.h>
#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <optional>

#include "engine/diagram_contraction.hpp"
#include "engine/error.hpp"

namespace flowaction {

using diagrams::FeynmanDiagram;

namespace {

template <Field T>
bool any_nonzero(const SymTensor<T>& t) {
  return std::any_of(t.data().begin(), t.data().end(), [](const T& x) { return !vanishes(x); });
}

// (Γ⁽²⁾)⁻¹ for a positive-definite Γ⁽²⁾ (row-major d×d).
std::vector<double> inverse_positive(const std::vector<double>& M, int d) {
  using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const RowMat A = Eigen::Map<const RowMat>(M.data(), d, d);
  const Eigen::LLT<RowMat> llt(A);
  if (llt.info() != Eigen::Success) {
    if (Eigen::FullPivLU<RowMat>(A).rank() < d) throw Error("Gamma^(2) is singular");
    throw Error(
        "Gamma^(2) is not positive definite: exp(-S) has no Gaussian part to expand around");
  }
  const RowMat G = llt.solve(RowMat::Identity(d, d));
  return std::vector<double>(G.data(), G.data() + static_cast<std::ptrdiff_t>(d) * d);
}

std::vector<GiNaC::ex> inverse_positive(const std::vector<GiNaC::ex>& M, int d) {
  const auto n = static_cast<unsigned>(d);
  GiNaC::matrix A(n, n);
  for (unsigned i = 0; i < n; ++i)
    for (unsigned j = 0; j < n; ++j) A(i, j) = M[i * n + j];
  if (GiNaC::normal(A.determinant()).is_zero()) throw Error("Gamma^(2) is singular");
  // LDLᵀ without pivoting: every pivot of a positive-definite matrix is positive. Pivots that
  // hold symbols cannot be checked.
  std::vector<GiNaC::ex> L(n * n, 0), D(n, 0);
  for (unsigned j = 0; j < n; ++j) {
    GiNaC::ex djj = A(j, j);
    for (unsigned k = 0; k < j; ++k) djj -= L[j * n + k] * L[j * n + k] * D[k];
    D[j] = GiNaC::normal(djj);
    if (GiNaC::is_a<GiNaC::numeric>(D[j]) && !(GiNaC::ex_to<GiNaC::numeric>(D[j]) > 0))
      throw Error(fmt::format(
          "Gamma^(2) is not positive definite (its leading {}x{} block is not): exp(-S) has no "
          "Gaussian part to expand around",
          j + 1, j + 1));
    for (unsigned i = j + 1; i < n; ++i) {
      GiNaC::ex lij = A(i, j);
      for (unsigned k = 0; k < j; ++k) lij -= L[i * n + k] * L[j * n + k] * D[k];
      L[i * n + j] = GiNaC::normal(lij / D[j]);
    }
  }
  const GiNaC::matrix G = A.inverse();
  std::vector<GiNaC::ex> out(n * n);
  for (unsigned i = 0; i < n; ++i)
    for (unsigned j = 0; j < n; ++j) {
      out[i * n + j] = G(i, j);
      simplify(out[i * n + j]);
    }
  return out;
}

// −Γ⁽ᵏ⁾ as a dense tensor over dᵏ entries, row-major.
template <Field T>
std::vector<T> dense_vertex(const SymTensor<T>& gamma) {
  const int d = gamma.dim(), k = gamma.order();
  std::vector<T> out(dense_size(d, k, fmt::format("Gamma^({})", k)));
  multi_index index(static_cast<std::size_t>(k), 0), sorted;
  for (T& x : out) {
    sorted = index;
    std::sort(sorted.begin(), sorted.end());
    x = T(0) - gamma.at(sorted);
    for (int p = k - 1; p >= 0; --p) {
      if (++index[static_cast<std::size_t>(p)] < d) break;
      index[static_cast<std::size_t>(p)] = 0;
    }
  }
  return out;
}

}  // namespace

template <Field T>
diagrams::FeynmanRules feynman_rules(const Action<T>& action) {
  diagrams::FeynmanRules rules;
  for (int k = 3; k <= action.order(); ++k)
    if (any_nonzero(action.vertices[static_cast<std::size_t>(k)])) rules.valences.push_back(k);
  rules.sources = action.order() >= 1 && any_nonzero(action.vertices[1]);
  return rules;
}

template <Field T>
std::vector<T> propagator(const Action<T>& action) {
  const int d = action.dim;
  if (action.order() < 2) throw Error("the action has no Gamma^(2): nothing to expand around");
  std::vector<T> M(static_cast<std::size_t>(d) * d);
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j)
      M[static_cast<std::size_t>(i * d + j)] =
          action.vertices[2].at(std::vector<int>{std::min(i, j), std::max(i, j)});
  return inverse_positive(M, d);
}

template <Field T>
FeynmanInputs<T> feynman_inputs(const Action<T>& action, const diagrams::FeynmanRules& rules) {
  FeynmanInputs<T> in;
  in.dim = action.dim;
  in.propagator = propagator(action);
  in.vertex.resize(static_cast<std::size_t>(std::max(action.order(), 1)) + 1);
  if (rules.sources) in.vertex[1] = dense_vertex(action.vertices[1]);
  for (int k : rules.valences)
    in.vertex[static_cast<std::size_t>(k)] =
        dense_vertex(action.vertices[static_cast<std::size_t>(k)]);
  return in;
}

template <Field T>
std::vector<T> diagram_value(const FeynmanDiagram& dg, const FeynmanInputs<T>& in) {
  std::vector<T> value = contract_diagram(dg, in.dim, in.propagator, in.vertex);
  for (T& x : value) simplify(x);
  return value;
}

namespace {

// Σ over diagrams with n legs of value/|Aut|, dense over the legs in one order.
template <Field T>
std::vector<T> diagram_sum(const std::vector<FeynmanDiagram>& diagrams, const FeynmanInputs<T>& in,
                           int n) {
  std::vector<T> sum(dense_size(in.dim, n, fmt::format("the {}-point function", n)), T(0));
  for (const FeynmanDiagram& dg : diagrams) {
    const std::vector<T> value = diagram_value(dg, in);
    const T w = from_rational<T>(GiNaC::numeric(1) /
                                 GiNaC::numeric(static_cast<unsigned long>(dg.automorphisms)));
    for (std::size_t i = 0; i < sum.size(); ++i)
      if (!vanishes(value[i])) sum[i] += value[i] * w;
  }
  return sum;
}

cln::cl_I integer(const GiNaC::numeric& q) {
  return cln::the<cln::cl_I>(q.to_cl_N());
}

// Exact rationals as integers over one common denominator.
struct Scaled {
  std::vector<cln::cl_I> values;
  cln::cl_I denominator = 1;
};

std::optional<Scaled> scaled(const std::vector<GiNaC::ex>& v) {
  Scaled s;
  for (const GiNaC::ex& x : v) {
    if (!GiNaC::is_a<GiNaC::numeric>(x) || !x.info(GiNaC::info_flags::rational))
      return std::nullopt;
    s.denominator = cln::lcm(s.denominator, integer(GiNaC::ex_to<GiNaC::numeric>(x).denom()));
  }
  for (const GiNaC::ex& x : v) {
    const GiNaC::numeric& q = GiNaC::ex_to<GiNaC::numeric>(x);
    s.values.push_back(integer(q.numer()) * cln::exquo(s.denominator, integer(q.denom())));
  }
  return s;
}

// Exact rationals: contracted as integers (no gcd in any product) and summed over the common
// denominator of all diagrams, one division per component at the end. Expressions: in the field.
std::vector<GiNaC::ex> diagram_sum(const std::vector<FeynmanDiagram>& diagrams,
                                   const FeynmanInputs<GiNaC::ex>& in, int n) {
  const std::optional<Scaled> G = scaled(in.propagator);
  if (!G) return diagram_sum<GiNaC::ex>(diagrams, in, n);
  std::vector<Scaled> vertex(in.vertex.size());
  for (std::size_t k = 0; k < in.vertex.size(); ++k) {
    if (in.vertex[k].empty()) continue;
    std::optional<Scaled> v = scaled(in.vertex[k]);
    if (!v) return diagram_sum<GiNaC::ex>(diagrams, in, n);
    vertex[k] = std::move(*v);
  }
  std::vector<std::vector<cln::cl_I>> integers(vertex.size());
  for (std::size_t k = 0; k < vertex.size(); ++k) integers[k] = vertex[k].values;
  // A diagram's value is its integer value over D_G^E Π_v D_v; its weight 1/|Aut|.
  std::vector<cln::cl_I> denominator;
  cln::cl_I common = 1;
  for (const FeynmanDiagram& dg : diagrams) {
    cln::cl_I den =
        cln::expt_pos(G->denominator, static_cast<unsigned long>(boost::num_edges(dg.graph))) *
        cln::cl_I(static_cast<unsigned long>(dg.automorphisms));
    for (std::size_t v = static_cast<std::size_t>(n); v < boost::num_vertices(dg.graph); ++v)
      den = den * vertex[static_cast<std::size_t>(dg.graph[v].legs)].denominator;
    common = cln::lcm(common, den);
    denominator.push_back(std::move(den));
  }
  std::vector<cln::cl_I> sum(dense_size(in.dim, n, fmt::format("the {}-point function", n)), 0);
  for (std::size_t i = 0; i < diagrams.size(); ++i) {
    const std::vector<cln::cl_I> value = contract_diagram(diagrams[i], in.dim, G->values, integers);
    const cln::cl_I scale = cln::exquo(common, denominator[i]);
    for (std::size_t j = 0; j < sum.size(); ++j)
      if (!cln::zerop(value[j])) sum[j] = sum[j] + value[j] * scale;
  }
  std::vector<GiNaC::ex> out;
  out.reserve(sum.size());
  for (const cln::cl_I& x : sum) out.push_back(GiNaC::numeric(cln::cl_N(x / common)));
  return out;
}

}  // namespace

template <Field T>
Cumulants<T> cumulants(const Action<T>& action, const std::vector<T>& x0,
                       const CumulantRequest& request) {
  const int d = action.dim;
  const diagrams::FeynmanRules rules = feynman_rules(action);
  const FeynmanInputs<T> in = feynman_inputs(action, rules);
  Cumulants<T> out;
  out.dim = d;
  out.loops = request.loops;
  out.log_z = diagram_sum(diagrams::feynman_diagrams(0, request.loops, rules), in, 0)[0];
  simplify(out.log_z);
  out.connected.emplace_back(d, 0);
  for (int n = 1; n <= request.order; ++n) {
    // The legs in one order; summing over all n! orders attaches the indices in every way.
    const std::vector<T> sum =
        diagram_sum(diagrams::feynman_diagrams(n, request.loops, rules), in, n);
    SymTensor<T> W(d, n);
    for (std::size_t r = 0; r < W.size(); ++r) {
      multi_index p = W.shape().unrank(r);
      // Each distinct arrangement stands for α! of the n! orders.
      const auto repeats = static_cast<long>(multiplicity_factorial(p));
      T acc(0);
      do {
        std::size_t flat = 0;
        for (int i : p) flat = flat * static_cast<std::size_t>(d) + static_cast<std::size_t>(i);
        acc += sum[flat];
      } while (std::next_permutation(p.begin(), p.end()));
      acc = acc * from_int<T>(repeats);
      if (n == 1) acc += x0[r];
      simplify(acc);
      W[r] = std::move(acc);
    }
    out.connected.push_back(std::move(W));
  }
  return out;
}

#define FLOWACTION_INSTANTIATE(T)                                                            \
  template diagrams::FeynmanRules feynman_rules(const Action<T>&);                           \
  template std::vector<T> propagator(const Action<T>&);                                      \
  template FeynmanInputs<T> feynman_inputs(const Action<T>&, const diagrams::FeynmanRules&); \
  template std::vector<T> diagram_value(const FeynmanDiagram&, const FeynmanInputs<T>&);     \
  template Cumulants<T> cumulants(const Action<T>&, const std::vector<T>&, const CumulantRequest&);
FLOWACTION_FIELDS(FLOWACTION_INSTANTIATE)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
