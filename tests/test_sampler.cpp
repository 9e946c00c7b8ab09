// The φ⁴ lattice sampler: the action and its kinetic matrix against closed forms, the
// autocorrelation estimator on a process with known τ, and HMC moments against the exact free
// propagator (−Δ + m²)⁻¹ and against numerical quadrature of the one-site integral.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <numbers>
#include <random>

#include "engine/error.hpp"
#include "trainer/phi4_sampler.hpp"

using namespace flowaction;
using namespace flowaction::train;

namespace {

// Mean of f over the samples and its standard error from bins of 20 consecutive samples (so
// that residual autocorrelation after thinning would widen, not hide, the error).
template <class F>
std::pair<double, double> mean_and_error(const HmcResult& r, F&& f) {
  const std::size_t bin = 20, bins = r.rows / bin;
  std::vector<double> means(bins, 0.0);
  for (std::size_t b = 0; b < bins; ++b) {
    for (std::size_t s = b * bin; s < (b + 1) * bin; ++s) means[b] += f(&r.samples[s * r.cols]);
    means[b] /= bin;
  }
  double m = 0, v = 0;
  for (double x : means) m += x;
  m /= bins;
  for (double x : means) v += (x - m) * (x - m);
  v /= (bins - 1);
  return {m, std::sqrt(v / bins)};
}

}  // namespace

TEST_CASE("sampler: lattice parsing") {
  CHECK(parse_lattice("8").sites() == 8);
  CHECK_FALSE(parse_lattice("8").torus);
  const Lattice t = parse_lattice("3x4");
  CHECK(t.torus);
  CHECK(t.n0 == 3);
  CHECK(t.n1 == 4);
  CHECK_THROWS_AS(parse_lattice("0"), flowaction::Error);
  CHECK_THROWS_AS(parse_lattice("4x"), flowaction::Error);
  CHECK_THROWS_AS(parse_lattice("a"), flowaction::Error);
}

TEST_CASE(
    "sampler: K = -Laplacian + m2 has the eigenvalues 4 sin^2(pi k/N) + m2 on rings and tori") {
  const double m2 = 0.7;
  for (const char* spec : {"1", "2", "3", "5", "1x3", "2x2", "3x4"}) {
    CAPTURE(spec);
    Phi4Theory th{parse_lattice(spec), m2, 0.0};
    const Eigen::MatrixXd K = phi4_kinetic_matrix(th);
    CHECK((K - K.transpose()).norm() == 0.0);
    std::vector<double> expected;
    const int n0 = th.lattice.n0, n1 = th.lattice.n1;
    for (int a = 0; a < n0; ++a)
      for (int b = 0; b < n1; ++b) {
        const double s0 = std::sin(std::numbers::pi * a / n0),
                     s1 = std::sin(std::numbers::pi * b / n1);
        expected.push_back(4 * s0 * s0 + 4 * s1 * s1 + m2);
      }
    std::sort(expected.begin(), expected.end());
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(K);
    for (int k = 0; k < K.rows(); ++k)
      CHECK(es.eigenvalues()[k] == doctest::Approx(expected[k]).epsilon(1e-12));
  }
  // Two sites: the neighbours on both sides coincide, S = (φ1 − φ0)² + ½m²(φ0² + φ1²).
  Phi4Theory two{parse_lattice("2"), m2, 0.0};
  const Eigen::MatrixXd K2 = phi4_kinetic_matrix(two);
  CHECK(K2(0, 0) == doctest::Approx(2 + m2));
  CHECK(K2(0, 1) == doctest::Approx(-2));
  CHECK(phi4_kinetic_matrix(Phi4Theory{parse_lattice("1"), m2, 0.0})(0, 0) == doctest::Approx(m2));
}

TEST_CASE("sampler: action = ½ φᵀKφ + λ/4! Σφ⁴ and its gradient matches finite differences") {
  for (const char* spec : {"1", "2", "4", "3x2"}) {
    CAPTURE(spec);
    Phi4Theory th{parse_lattice(spec), -0.4, 2.5};
    const int d = th.lattice.sites();
    std::mt19937_64 rng(1);
    std::normal_distribution<double> n;
    Eigen::VectorXd phi(d);
    for (int i = 0; i < d; ++i) phi[i] = n(rng);
    const Eigen::MatrixXd K = phi4_kinetic_matrix(th);
    const double expected = 0.5 * phi.dot(K * phi) + th.lambda / 24 * phi.array().pow(4).sum();
    CHECK(phi4_action(th, {phi.data(), static_cast<std::size_t>(d)}) ==
          doctest::Approx(expected).epsilon(1e-13));
    std::vector<double> g(d);
    phi4_gradient(th, {phi.data(), static_cast<std::size_t>(d)}, g);
    for (int i = 0; i < d; ++i) {
      Eigen::VectorXd up = phi, down = phi;
      up[i] += 1e-6;
      down[i] -= 1e-6;
      const double fd = (phi4_action(th, {up.data(), static_cast<std::size_t>(d)}) -
                         phi4_action(th, {down.data(), static_cast<std::size_t>(d)})) /
                        2e-6;
      CHECK(g[i] == doctest::Approx(fd).epsilon(1e-7));
    }
  }
}

TEST_CASE("sampler: tau_int of an AR(1) process is (1 + rho) / (2 (1 - rho))") {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> n;
  for (double rho : {0.0, 0.5, 0.8}) {
    CAPTURE(rho);
    std::vector<double> x(200000);
    double v = 0;
    for (double& e : x) e = v = rho * v + std::sqrt(1 - rho * rho) * n(rng);
    const double expected = (1 + rho) / (2 * (1 - rho));
    // The statistical error of τ with window W is about τ·√(2(2W+1)/N) ≈ 1–2 % here.
    CHECK(integrated_autocorrelation_time(x) == doctest::Approx(expected).epsilon(0.06));
  }
}

TEST_CASE("sampler: the free field reproduces <phi phi> = (-Laplacian + m2)^-1 within error bars") {
  for (const char* spec : {"4", "2x2"}) {
    CAPTURE(spec);
    Phi4Theory th{parse_lattice(spec), 0.5, 0.0};
    HmcOptions o;
    o.samples = 10000;
    o.seed = 3;
    o.thermalise = 400;
    o.pilot = 1000;
    const HmcResult r = sample_phi4(th, o);
    CHECK(r.acceptance > 0.6);
    CHECK(r.thin >= 1);
    CHECK(r.tau_output < 1.0);
    const Eigen::MatrixXd C = phi4_kinetic_matrix(th).inverse();
    const int d = th.lattice.sites();
    for (int i = 0; i < d; ++i) {
      const auto [m1, e1] = mean_and_error(r, [&](const double* p) { return p[i]; });
      CHECK(std::fabs(m1) <= 4 * e1);
      for (int j = i; j < d; ++j) {
        // Not a structured binding: clang before 16 cannot capture one in a lambda.
        const auto me = mean_and_error(r, [&](const double* p) { return p[i] * p[j]; });
        const double m = me.first, e = me.second;
        CAPTURE(i);
        CAPTURE(j);
        CAPTURE(m);
        CAPTURE(e);
        // Gaussian error of a second moment: √((C_ii C_jj + C_ij²)/N); the binned estimate must
        // be close to it (i.e. the samples are about independent) and the mean within 4 σ.
        const double gauss = std::sqrt((C(i, i) * C(j, j) + C(i, j) * C(i, j)) / r.rows);
        CHECK(e < 1.5 * gauss);
        CHECK(std::fabs(m - C(i, j)) <= 4 * e);
      }
    }
  }
}

TEST_CASE("sampler: one site with lambda > 0 reproduces <phi^2> and <phi^4> from quadrature") {
  for (double m2 : {1.0, -1.0}) {
    CAPTURE(m2);
    Phi4Theory th{parse_lattice("1"), m2, 6.0};
    // ∫ φ^k e^{−S} dφ by the trapezoidal rule on [−12, 12] (exponentially accurate for this
    // smooth, rapidly decaying integrand).
    double z = 0, q2 = 0, q4 = 0;
    const int n = 24000;
    const double h = 24.0 / n;
    for (int k = 0; k <= n; ++k) {
      const double x = -12 + h * k;
      const double w = std::exp(-(0.5 * m2 * x * x + th.lambda / 24 * x * x * x * x));
      z += w;
      q2 += w * x * x;
      q4 += w * x * x * x * x;
    }
    const double exact2 = q2 / z, exact4 = q4 / z;
    HmcOptions o;
    o.samples = 20000;
    o.seed = 11;
    o.thermalise = 400;
    o.pilot = 1000;
    const HmcResult r = sample_phi4(th, o);
    // Not a structured binding: clang before 16 cannot capture one in a lambda.
    const auto me2 = mean_and_error(r, [](const double* p) { return p[0] * p[0]; });
    const auto me4 = mean_and_error(r, [](const double* p) { return p[0] * p[0] * p[0] * p[0]; });
    const double m2s = me2.first, e2 = me2.second, m4s = me4.first, e4 = me4.second;
    CAPTURE(exact2);
    CAPTURE(m2s);
    CAPTURE(e2);
    CAPTURE(exact4);
    CAPTURE(m4s);
    CAPTURE(e4);
    CHECK(std::fabs(m2s - exact2) <= 4 * e2);
    CHECK(std::fabs(m4s - exact4) <= 4 * e4);
    CHECK(e2 < 0.02 * exact2);  // the comparison has teeth: 2 % or better
  }
}

TEST_CASE("sampler: bad parameters are refused") {
  HmcOptions o;
  o.samples = 10;
  CHECK_THROWS_AS(sample_phi4(Phi4Theory{parse_lattice("3"), -1.0, 0.0}, o), flowaction::Error);
  CHECK_THROWS_AS(sample_phi4(Phi4Theory{parse_lattice("3"), 1.0, -1.0}, o), flowaction::Error);
}

TEST_CASE(
    "sampler: the step starts from the curvature: the largest eigenvalue of K for lambda = 0") {
  for (const char* spec : {"1", "2", "3", "4", "7", "2x3", "5x4"})
    for (double m2 : {0.5, 1e6}) {
      CAPTURE(spec);
      CAPTURE(m2);
      const Phi4Theory th{parse_lattice(spec), m2, 0.0};
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(phi4_kinetic_matrix(th));
      CHECK(phi4_max_curvature(th) == doctest::Approx(es.eigenvalues().maxCoeff()).epsilon(1e-12));
    }
  // The quartic term adds curvature at the field scale, in both phases.
  CHECK(phi4_max_curvature({parse_lattice("4"), 0.5, 6.0}) > 4.5);
  CHECK(phi4_max_curvature({parse_lattice("4"), -4.0, 1.0}) > 12.0);
}

TEST_CASE("sampler: a run whose tuning, acceptance or effective sample size fails is an Error") {
  const Phi4Theory th{parse_lattice("4"), 0.5, 1.0};
  HmcOptions o;
  o.samples = 200;
  o.thermalise = 100;
  o.pilot = 200;
  HmcOptions tune = o;
  tune.min_tuned_acceptance = 1.01;  // a band no window reaches
  tune.max_tuning_windows = 3;
  CHECK_THROWS_WITH_AS(sample_phi4(th, tune), doctest::Contains("HMC step tuning failed"),
                       flowaction::Error);
  HmcOptions accept = o;
  accept.min_acceptance = 1.01;
  CHECK_THROWS_WITH_AS(sample_phi4(th, accept), doctest::Contains("HMC acceptance"),
                       flowaction::Error);
  HmcOptions ess = o;
  ess.min_effective_fraction = 1.5;  // more than N effective samples: impossible
  CHECK_THROWS_WITH_AS(sample_phi4(th, ess), doctest::Contains("effective samples"),
                       flowaction::Error);
  HmcOptions none = o;
  none.pilot = 0;
  const HmcResult r = sample_phi4(th, none);
  CHECK_FALSE(r.tau_measured);
  CHECK(r.thin == 1);
  CHECK(r.effective_samples > 0);
}

TEST_CASE(
    "sampler: a ring of 4 with phi^3 + phi^4 reproduces moments of a grid integral over R^4") {
  // S = Σ_x [½(φ_{x+1} − φ_x)² + ½m²φ² + κ/3! φ³ + λ/4! φ⁴] on a ring of 4. The moments
  // ⟨φ₀²⟩, ⟨φ₀⁴⟩, ⟨φ₀φ₁⟩, ⟨φ₀⟩ (κ breaks φ → −φ) by a trapezoidal grid over [−L, L]⁴ —
  // exponentially convergent for this smooth, fast-decaying integrand: two grids must agree first.
  Phi4Theory th{parse_lattice("4"), 0.5, 6.0, 1.5};
  auto grid = [&](int n) {
    const double L = 5.5, h = 2 * L / (n - 1);
    std::vector<double> x(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) x[i] = -L + h * i;
    auto site = [&](double p) {
      return 0.5 * th.m2 * p * p + th.kappa / 6 * p * p * p + th.lambda / 24 * p * p * p * p;
    };
    std::vector<double> w(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) w[i] = site(x[i]);
    std::array<double, 5> m{};  // Z, φ₀, φ₀², φ₀⁴, φ₀φ₁
    for (int a = 0; a < n; ++a)
      for (int b = 0; b < n; ++b)
        for (int c = 0; c < n; ++c)
          for (int e = 0; e < n; ++e) {
            const double p0 = x[a], p1 = x[b], p2 = x[c], p3 = x[e];
            const double kin = 0.5 * ((p1 - p0) * (p1 - p0) + (p2 - p1) * (p2 - p1) +
                                      (p3 - p2) * (p3 - p2) + (p0 - p3) * (p0 - p3));
            const double p = std::exp(-(kin + w[a] + w[b] + w[c] + w[e]));
            m[0] += p, m[1] += p * p0, m[2] += p * p0 * p0, m[3] += p * p0 * p0 * p0 * p0,
                m[4] += p * p0 * p1;
          }
    return std::array<double, 4>{m[1] / m[0], m[2] / m[0], m[3] / m[0], m[4] / m[0]};
  };
  const auto exact = grid(44), finer = grid(52);
  for (int k = 0; k < 4; ++k) CHECK(std::fabs(exact[k] - finer[k]) < 1e-7);
  HmcOptions o;
  o.samples = 20000;
  o.seed = 9;
  const HmcResult r = sample_phi4(th, o);
  // Site averages over the ring (translation invariance) with their binned errors.
  const auto m1 =
      mean_and_error(r, [](const double* p) { return (p[0] + p[1] + p[2] + p[3]) / 4; });
  const auto m2 = mean_and_error(r, [](const double* p) {
    return (p[0] * p[0] + p[1] * p[1] + p[2] * p[2] + p[3] * p[3]) / 4;
  });
  const auto m4 = mean_and_error(r, [](const double* p) {
    double s = 0;
    for (int i = 0; i < 4; ++i) s += p[i] * p[i] * p[i] * p[i];
    return s / 4;
  });
  const auto c01 = mean_and_error(r, [](const double* p) {
    return (p[0] * p[1] + p[1] * p[2] + p[2] * p[3] + p[3] * p[0]) / 4;
  });
  CAPTURE(exact[0]);
  CAPTURE(exact[1]);
  CAPTURE(exact[2]);
  CAPTURE(exact[3]);
  CHECK(exact[0] < -0.05);  // the cubic term really skews the distribution
  CHECK(std::fabs(m1.first - exact[0]) < 4 * m1.second);
  CHECK(std::fabs(m2.first - exact[1]) < 4 * m2.second);
  CHECK(std::fabs(m4.first - exact[2]) < 4 * m4.second);
  CHECK(std::fabs(c01.first - exact[3]) < 4 * c01.second);
}
