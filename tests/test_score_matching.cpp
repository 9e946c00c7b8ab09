// Score matching of a polynomial action (the baseline of DESIGN §10): against its normal
// equations written out by hand from sample moments, against the Gaussian maximum likelihood it
// reduces to for a quadratic basis, and recovering a known quartic theory from exact samples.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "engine/error.hpp"
#include "trainer/score_matching.hpp"

using namespace flowaction::train;

TEST_CASE("score matching: the 1-d normal equations from sample moments") {
  // Basis x, x², x³, x⁴: A_jk = j k E[x^(j+k-2)], b_j = j (j-1) E[x^(j-2)].
  std::mt19937_64 rng(3);
  std::gamma_distribution<double> g(2.0, 0.7);  // skewed, so every moment matters
  Eigen::MatrixXd x(1, 5000);
  for (Eigen::Index s = 0; s < x.cols(); ++s) x(0, s) = g(rng) - 1.4;
  double m[7] = {0};
  for (Eigen::Index s = 0; s < x.cols(); ++s)
    for (int k = 0; k <= 6; ++k) m[k] += std::pow(x(0, s), k) / static_cast<double>(x.cols());
  Eigen::Matrix4d A;
  Eigen::Vector4d b;
  for (int j = 1; j <= 4; ++j) {
    b[j - 1] = j >= 2 ? j * (j - 1) * m[j - 2] : 0.0;
    for (int k = 1; k <= 4; ++k) A(j - 1, k - 1) = j * k * m[j + k - 2];
  }
  const Eigen::Vector4d want = A.ldlt().solve(b);
  const ScoreMatchingFit fit = score_matching(x, all_monomials(1, 4));
  REQUIRE(fit.basis.size() == 4);
  for (int j = 0; j < 4; ++j) CHECK(fit.coefficients[j] == doctest::Approx(want[j]).epsilon(1e-9));
}

TEST_CASE("score matching: a quadratic basis gives the Gaussian maximum likelihood") {
  // For the Gaussian family the score-matching estimate is the MLE: Γ⁽²⁾ = Σ̂⁻¹ (covariance
  // divided by N), Γ⁽¹⁾ = −Σ̂⁻¹ μ̂.
  const int d = 3;
  std::mt19937_64 rng(5);
  std::normal_distribution<double> n;
  Eigen::Matrix3d L;
  L << 1, 0, 0, 0.5, 1.2, 0, -0.3, 0.4, 0.8;
  Eigen::MatrixXd x(d, 3000);
  for (Eigen::Index s = 0; s < x.cols(); ++s) {
    Eigen::Vector3d z(n(rng), n(rng), n(rng));
    x.col(s) = L * z + Eigen::Vector3d(0.2, -0.1, 0.4);
  }
  const Eigen::Vector3d mu = x.rowwise().mean();
  const Eigen::MatrixXd c = x.colwise() - mu;
  const Eigen::Matrix3d P = (c * c.transpose() / static_cast<double>(x.cols())).inverse();
  const ScoreMatchingFit fit = score_matching(x, all_monomials(d, 2));
  for (std::size_t a = 0; a < fit.basis.size(); ++a) {
    const monomial& m = fit.basis[a];
    const double got = fit.coefficients[static_cast<Eigen::Index>(a)];
    CAPTURE(a);
    if (m.size() == 1) CHECK(got == doctest::Approx(-(P * mu)[m[0]]).epsilon(1e-9));
    if (m.size() == 2)  // c_{ii} = P_ii / 2, c_{ij} = P_ij (i < j)
      CHECK(got == doctest::Approx(m[0] == m[1] ? P(m[0], m[0]) / 2 : P(m[0], m[1])).epsilon(1e-9));
  }
}

TEST_CASE("score matching: a quartic theory is recovered from exact samples") {
  // p(x) ∝ exp(−x²/2 − λx⁴/4!), λ = 1.2, sampled exactly by rejection from N(0, 1), each sample
  // with its mirror image: the odd moments vanish, so the odd coefficients are exactly 0.
  const double lambda = 1.2;
  std::mt19937_64 rng(11);
  std::normal_distribution<double> n;
  std::uniform_real_distribution<double> u;
  Eigen::MatrixXd x(1, 400000);
  for (Eigen::Index s = 0; s < x.cols();) {
    const double y = n(rng);
    if (u(rng) < std::exp(-lambda * std::pow(y, 4) / 24)) x(0, s++) = y, x(0, s++) = -y;
  }
  const ScoreMatchingFit fit = score_matching(x, all_monomials(1, 4));
  CHECK(std::fabs(fit.coefficients[0]) < 1e-12);
  CHECK(std::fabs(fit.coefficients[2]) < 1e-12);
  // The spread over 40 seeds of this estimator at this size (NumPy, same formulas) is 0.0050 for
  // c₂ and 0.0014 for c₄: four standard deviations.
  CHECK(std::fabs(fit.coefficients[1] - 0.5) < 0.02);
  CHECK(std::fabs(fit.coefficients[3] - lambda / 24) < 0.0055);
}

TEST_CASE("score matching: bases and a singular system") {
  // 1 + 2 + 3 + 4 monomials of degrees 1 … 4 in 2 variables; C(d + k − 1, k) in general.
  CHECK(all_monomials(2, 4).size() == 2 + 3 + 4 + 5);
  CHECK(all_monomials(4, 4).size() == 69);
  // Ring of 4: local monomials have units pairwise equal or adjacent. Degree 2: 4 squares and
  // 4 neighbour products; units {0, 2} are not neighbours.
  const std::vector<std::vector<int>> ring = {{1, 3}, {0, 2}, {1, 3}, {2, 0}};
  std::size_t degree2 = 0;
  for (const monomial& m : local_monomials(ring, 2)) degree2 += m.size() == 2;
  CHECK(degree2 == 8);
  Eigen::MatrixXd one(1, 1);
  one << 0.3;
  CHECK_THROWS_AS(score_matching(one, all_monomials(1, 4)), flowaction::Error);
}
