#include "frontends/verify_measures.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <numeric>

#include "engine/cumulants.hpp"
#include "engine/error.hpp"
#include "frontends/action_reader.hpp"
#include "trainer/score_matching.hpp"

namespace flowaction {

using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

double entry_of(const SymTensor<double>& t, std::vector<int> index) {
  std::sort(index.begin(), index.end());
  return t.at(index);
}

double entry(const Action<double>& a, std::vector<int> index) {
  const std::size_t k = index.size();
  return entry_of(a.vertices[k], std::move(index));
}

double mean(const std::vector<double>& v) {
  if (v.empty()) return NAN;
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// The couplings (i < j) the truth's Γ⁽²⁾ has.
std::vector<std::pair<int, int>> couplings(const Action<double>& truth) {
  std::vector<std::pair<int, int>> out;
  for (int i = 0; i < truth.dim; ++i)
    for (int j = i + 1; j < truth.dim; ++j)
      if (entry(truth, {i, j}) != 0) out.emplace_back(i, j);
  return out;
}

}  // namespace

VertexErrors vertex_errors(const Action<double>& est, const Action<double>& truth) {
  VertexErrors e;
  const int d = truth.dim;
  std::vector<double> diag, coup, local3, local4;
  for (int i = 0; i < d; ++i) {
    const double t2 = entry(truth, {i, i});
    if (t2 != 0) diag.push_back((entry(est, {i, i}) - t2) / t2);
    if (truth.order() >= 3 && est.order() >= 3) {
      const double t3 = entry(truth, {i, i, i});
      if (t3 != 0) local3.push_back((entry(est, {i, i, i}) - t3) / t3);
    }
    if (truth.order() >= 4 && est.order() >= 4) {
      const double t4 = entry(truth, {i, i, i, i});
      if (t4 != 0) local4.push_back((entry(est, {i, i, i, i}) - t4) / t4);
    }
  }
  for (auto [i, j] : couplings(truth)) {
    const double t = entry(truth, {i, j});
    coup.push_back((entry(est, {i, j}) - t) / t);
  }
  e.gamma2_diagonal = mean(diag);
  e.gamma2_couplings = mean(coup);
  e.gamma3_local = mean(local3);
  e.gamma4_local = mean(local4);
  for (int k = 1; k <= std::min(est.order(), truth.order()); ++k) {
    double spurious = 0, largest = 0;
    const auto& g = est.vertices[k];
    const auto& t = truth.vertices[k];
    for (std::size_t r = 0; r < g.size(); ++r) {
      largest = std::max(largest, std::fabs(t[r]));
      if (t[r] == 0) spurious = std::max(spurious, std::fabs(g[r]));
    }
    e.spurious_abs.push_back(spurious);
    e.spurious_rel.push_back(largest > 0 ? spurious / largest : NAN);
  }
  return e;
}

LocalCumulants cumulants_of(const MatrixXd& x, const Action<double>& truth) {
  LocalCumulants c{0, 0, 0, 0};
  const Eigen::Index d = x.rows();
  const auto n = static_cast<double>(x.cols());
  const MatrixXd centred = x.colwise() - x.rowwise().mean();
  for (Eigen::Index i = 0; i < d; ++i) {
    const Eigen::ArrayXd y = centred.row(i).array();
    const double m2 = (y * y).sum() / n, m3 = (y * y * y).sum() / n, m4 = (y * y * y * y).sum() / n;
    c.c2_diagonal += m2 / d;
    c.c3_local += m3 / d;
    c.c4_local += (m4 - 3 * m2 * m2) / d;
  }
  const auto pairs = couplings(truth);
  c.c2_couplings = pairs.empty() ? NAN : 0.0;
  for (auto [i, j] : pairs)
    c.c2_couplings += centred.row(i).dot(centred.row(j)) / n / static_cast<double>(pairs.size());
  return c;
}

LocalCumulants perturbative_cumulants(const Action<double>& action, const Action<double>& truth,
                                      int loops) {
  const Cumulants<double> w =
      cumulants(action, std::vector<double>(action.dim, 0.0), CumulantRequest{loops, 4});
  auto at = [&](std::vector<int> index) { return entry_of(w.connected[index.size()], index); };
  LocalCumulants c{0, 0, 0, 0};
  const int d = action.dim;
  for (int i = 0; i < d; ++i) {
    c.c2_diagonal += at({i, i}) / d;
    c.c3_local += at({i, i, i}) / d;
    c.c4_local += at({i, i, i, i}) / d;
  }
  const auto pairs = couplings(truth);
  c.c2_couplings = pairs.empty() ? NAN : 0.0;
  for (auto [i, j] : pairs) c.c2_couplings += at({i, j}) / static_cast<double>(pairs.size());
  return c;
}

Truth read_truth(const std::filesystem::path& path) {
  const ActionFile f = read_action(path);
  Truth t;
  t.info = f.info;
  t.info.field = field_kind::float64;
  t.name = path.string();
  if (const auto* a = std::get_if<Action<double>>(&f.action)) {
    t.action = *a;
    return t;
  }
  const auto& a = std::get<Action<GiNaC::ex>>(f.action);
  t.action = Action<double>(a.dim, a.order());
  for (int k = 0; k <= a.order(); ++k)
    for (std::size_t r = 0; r < a.vertices[k].size(); ++r) {
      const GiNaC::ex& v = a.vertices[k][r];
      if (!GiNaC::is_a<GiNaC::numeric>(v) || !GiNaC::ex_to<GiNaC::numeric>(v).is_real())
        throw Error(
            fmt::format("{}: field 'vertices': a vertex of order {} is '{}'; verify needs "
                        "numbers for the truth",
                        path.string(), k, fmt::streamed(v)));
      t.action.vertices[k][r] = GiNaC::ex_to<GiNaC::numeric>(v).to_double();
    }
  return t;
}

// S = ½(x − μ)ᵀ Σ⁻¹ (x − μ) + ½ ln det(2πΣ), expanded at 0.
Action<double> gaussian_action(const MatrixXd& x, int order) {
  const VectorXd mu = x.rowwise().mean();
  const MatrixXd c = x.colwise() - mu;
  const MatrixXd cov = c * c.transpose() / static_cast<double>(x.cols());
  const Eigen::LLT<MatrixXd> llt(cov);
  if (llt.info() != Eigen::Success) throw Error("the sample covariance is singular");
  const MatrixXd P = llt.solve(MatrixXd::Identity(cov.rows(), cov.cols()));
  const int d = static_cast<int>(x.rows());
  Action<double> a(d, order);
  double half_log_det = 0;
  for (int i = 0; i < d; ++i) half_log_det += std::log(llt.matrixL()(i, i));
  a.vertices[0][0] = 0.5 * mu.dot(P * mu) + half_log_det + 0.5 * d * std::log(2 * M_PI);
  const VectorXd g1 = -P * mu;
  for (int i = 0; i < d && order >= 1; ++i) a.vertices[1][static_cast<std::size_t>(i)] = g1[i];
  for (int i = 0; i < d && order >= 2; ++i)
    for (int j = i; j < d; ++j) a.vertices[2].at(std::vector<int>{i, j}) = P(i, j);
  return a;
}

// Γ_α = α! c_α of the fitted polynomial (Γ⁽⁰⁾ unknown: score matching never normalises).
Action<double> score_matching_action(const MatrixXd& x, const Action<double>& truth, int order) {
  const int d = static_cast<int>(x.rows());
  std::vector<train::monomial> basis = train::all_monomials(d, 4);
  if (basis.size() > 1000) {  // large lattices: terms within the truth's neighbourhoods
    std::vector<std::vector<int>> neighbours(static_cast<std::size_t>(d));
    for (auto [i, j] : couplings(truth)) neighbours[i].push_back(j), neighbours[j].push_back(i);
    basis = train::local_monomials(neighbours, 4);
  }
  const train::ScoreMatchingFit fit = train::score_matching(x, basis);
  Action<double> a(d, order);
  a.vertices[0][0] = NAN;
  for (std::size_t b = 0; b < basis.size(); ++b) {
    const auto& m = basis[b];
    if (static_cast<int>(m.size()) > order) continue;
    a.vertices[m.size()].at(m) = static_cast<double>(multiplicity_factorial(m)) *
                                 fit.coefficients[static_cast<Eigen::Index>(b)];
  }
  return a;
}

}  // namespace flowaction
