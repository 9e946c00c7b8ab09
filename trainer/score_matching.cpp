#include "trainer/score_matching.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "engine/error.hpp"

namespace flowaction::train {

std::vector<monomial> all_monomials(int d, int max_degree) {
  std::vector<monomial> out;
  for (int k = 1; k <= max_degree; ++k) {
    monomial m(static_cast<std::size_t>(k), 0);
    std::function<void(int, int)> rec = [&](int pos, int from) {
      if (pos == k) {
        out.push_back(m);
        return;
      }
      for (int i = from; i < d; ++i) m[pos] = i, rec(pos + 1, i);
    };
    rec(0, 0);
  }
  return out;
}

std::vector<monomial> local_monomials(const std::vector<std::vector<int>>& neighbours,
                                      int max_degree) {
  auto near = [&](int a, int b) {
    return a == b ||
           std::find(neighbours[a].begin(), neighbours[a].end(), b) != neighbours[a].end();
  };
  std::vector<monomial> out;
  for (const monomial& m : all_monomials(static_cast<int>(neighbours.size()), max_degree)) {
    bool local = true;
    for (std::size_t p = 0; p < m.size() && local; ++p)
      for (std::size_t q = p + 1; q < m.size() && local; ++q) local = near(m[p], m[q]);
    if (local) out.push_back(m);
  }
  return out;
}

ScoreMatchingFit score_matching(const Eigen::MatrixXd& data, const std::vector<monomial>& basis,
                                double ridge) {
  const Eigen::Index d = data.rows(), N = data.cols(), M = static_cast<Eigen::Index>(basis.size());
  if (N < 1 || M < 1) throw Error("score matching needs samples and a basis");
  // For each unit i, the monomials that contain it: the i-th component of their gradients is
  // the only one they contribute to. A = Σᵢ E[gᵢ gᵢᵀ] with gᵢ = ∂ᵢ x^α over those monomials.
  std::vector<std::vector<Eigen::Index>> containing(static_cast<std::size_t>(d));
  for (Eigen::Index a = 0; a < M; ++a) {
    const monomial& m = basis[static_cast<std::size_t>(a)];
    for (std::size_t p = 0; p < m.size(); ++p)
      if (p == 0 || m[p] != m[p - 1]) containing[static_cast<std::size_t>(m[p])].push_back(a);
  }
  // x^β for a multi-index, with the powers of one sample.
  auto value = [&](const monomial& m, Eigen::Index s, int skip_unit, int skip) {
    double v = 1;
    for (int u : m) {
      if (u == skip_unit && skip > 0) {
        --skip;
        continue;
      }
      v *= data(u, s);
    }
    return v;
  };
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(M, M);
  Eigen::VectorXd b = Eigen::VectorXd::Zero(M);
  constexpr Eigen::Index block = 4096;
  for (std::size_t i = 0; i < containing.size(); ++i) {
    const auto& idx = containing[i];
    if (idx.empty()) continue;
    const auto Mi = static_cast<Eigen::Index>(idx.size());
    Eigen::MatrixXd G(block, Mi);
    Eigen::MatrixXd Ai = Eigen::MatrixXd::Zero(Mi, Mi);
    for (Eigen::Index s0 = 0; s0 < N; s0 += block) {
      const Eigen::Index rows = std::min(block, N - s0);
      for (Eigen::Index c = 0; c < Mi; ++c) {
        const monomial& m = basis[static_cast<std::size_t>(idx[c])];
        const auto power = static_cast<int>(std::count(m.begin(), m.end(), static_cast<int>(i)));
        for (Eigen::Index r = 0; r < rows; ++r)
          G(r, c) = power * value(m, s0 + r, static_cast<int>(i), 1);  // ∂ᵢ x^α
        // Δ: ∂ᵢ² x^α = αᵢ(αᵢ − 1) x^{α − 2eᵢ}
        if (power >= 2)
          for (Eigen::Index r = 0; r < rows; ++r)
            b[idx[c]] += power * (power - 1) * value(m, s0 + r, static_cast<int>(i), 2);
      }
      Ai.noalias() += G.topRows(rows).transpose() * G.topRows(rows);
    }
    for (Eigen::Index p = 0; p < Mi; ++p)
      for (Eigen::Index q = 0; q < Mi; ++q) A(idx[p], idx[q]) += Ai(p, q);
  }
  A /= static_cast<double>(N);
  b /= static_cast<double>(N);
  if (ridge > 0) A.diagonal().array() += ridge;
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(A);
  const Eigen::VectorXd D = ldlt.vectorD().cwiseAbs();
  if (ldlt.info() != Eigen::Success || !(D.minCoeff() > 1e-12 * D.maxCoeff()))
    throw Error(
        fmt::format("score matching: the {}x{} system is singular (too few samples, {}, "
                    "for the basis?)",
                    M, M, N));
  ScoreMatchingFit fit;
  fit.basis = basis;
  fit.coefficients = ldlt.solve(b);
  fit.objective = 0.5 * fit.coefficients.dot(A * fit.coefficients) - b.dot(fit.coefficients);
  return fit;
}

}  // namespace flowaction::train
