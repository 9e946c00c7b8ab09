// Perturbative cumulants against independent computations: the published series of 0-dimensional
// phi^4 (DESIGN §6), the moments of exp(−S) expanded in the couplings and integrated term by term
// with Gaussian moments (GiNaC, in 1 and 2 dimensions), and a ring of 4 lattice sites integrated
// numerically over R^4.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "engine/cumulants.hpp"
#include "engine/error.hpp"
#include "frontends/cli.hpp"
#include "tests/temp_dir.hpp"

using namespace flowaction;
using GiNaC::ex;
using GiNaC::numeric;

namespace {

bool same(const ex& a, const ex& b) {
  return GiNaC::normal(GiNaC::expand(a - b)).is_zero();
}

// The part of a polynomial in t of degree ≤ n, then t = 1.
ex truncate(const ex& p, const GiNaC::symbol& t, int n) {
  const ex e = GiNaC::expand(p);
  ex out = 0;
  for (int j = 0; j <= n; ++j) out += e.coeff(t, j);
  return out;
}

// The independent side. A bookkeeping t weighs each vertex Γ⁽ᵏ⁾ by t^|k−2|, so that a diagram of
// L loops and n legs is of order t^(2L − 2 + n). With S = ½xᵀΓ⁽²⁾x + V(x): moments
// ⟨P⟩ = ⟨P e^{−V}⟩₀ / ⟨e^{−V}⟩₀, e^{−V} expanded in t and integrated monomial by monomial with the
// Gaussian moments of the generating function exp(½ JᵀGJ) (Isserlis); cumulants from moments over
// set partitions; ln(Z/Z₀) = ln⟨e^{−V}⟩₀.
struct SeriesOracle {
  int d;
  int degree;  // highest power of t kept
  GiNaC::symbol t{"t"};
  std::vector<GiNaC::symbol> x, J;
  ex weight;  // e^{−V} to t^degree, a polynomial in x and t
  std::vector<ex> G;
  ex gaussian;  // exp(½ JᵀGJ) to the needed degree in J
  ex z;         // Z/Z₀ = ⟨e^{−V}⟩₀ and its inverse, to t^degree
  ex inverse_z;
  std::map<std::vector<int>, ex> moments;

  SeriesOracle(const Action<ex>& a, const std::vector<ex>& propagator, int degree_)
      : d(a.dim), degree(degree_), G(propagator) {
    for (int i = 0; i < d; ++i) {
      x.emplace_back("x" + std::to_string(i));
      J.emplace_back("J" + std::to_string(i));
    }
    // V(x) = Σ_k Σ_sorted α Γ_α x^α / α!, each order k with t^|k−2|.
    ex V = 0;
    int max_x = 0;
    for (int k = 1; k <= a.order(); ++k) {
      if (k == 2) continue;
      const SymTensor<ex>& g = a.vertices[static_cast<std::size_t>(k)];
      multi_index index(static_cast<std::size_t>(k), 0);
      do {
        ex mono = g.at(index) / static_cast<long>(multiplicity_factorial(index));
        for (int i : index) mono *= x[static_cast<std::size_t>(i)];
        V += GiNaC::pow(t, std::abs(k - 2)) * mono;
      } while (next_lex(index, d));
      max_x = std::max(max_x, k);
    }
    // e^{−V} = Σ_m (−V)^m / m!, cut at t^degree after every product.
    weight = 1;
    ex term = 1;
    for (int m = 1; m <= degree; ++m) {
      term = truncate_keep_t(GiNaC::expand(term * (-V) / m));
      weight += term;
    }
    // Gaussian moments up to the highest x-degree that can occur: degree · max_x + 4.
    const int top = degree * max_x + 4;
    ex q = 0;
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j)
        q += G[static_cast<std::size_t>(i * d + j)] * J[static_cast<std::size_t>(i)] *
             J[static_cast<std::size_t>(j)] / 2;
    gaussian = 1;
    ex power = 1;
    for (int m = 1; 2 * m <= top; ++m) {
      power = GiNaC::expand(power * q / m);
      gaussian += power;
    }
    z = integrate(1);
    // 1/z = Σ_m (1 − z)^m, z = 1 + O(t).
    inverse_z = 1;
    ex rest = 1;
    for (int m = 1; m <= degree; ++m) {
      rest = truncate_keep_t(GiNaC::expand(rest * (1 - z)));
      inverse_z += rest;
    }
  }

  // Keeps the powers t^0 … t^degree (and t).
  ex truncate_keep_t(const ex& p) const {
    ex out = 0;
    for (int j = 0; j <= degree; ++j) out += p.coeff(t, j) * GiNaC::pow(t, j);
    return out;
  }

  // ⟨x^α⟩₀ for the exponents α, from the coefficient of J^α.
  ex gaussian_moment(const std::vector<int>& alpha) const {
    ex c = gaussian;
    for (int i = 0; i < d; ++i) {
      const int a = alpha[static_cast<std::size_t>(i)];
      c = c.coeff(J[static_cast<std::size_t>(i)], a) * GiNaC::factorial(a);
    }
    return c;
  }

  // ⟨P e^{−V}⟩₀ for a polynomial P in x, as a polynomial in t.
  ex integrate(const ex& P) const {
    const ex integrand = GiNaC::expand(P * weight);
    ex out = 0;
    std::vector<int> alpha(static_cast<std::size_t>(d), 0);
    auto rec = [&](auto&& self, std::size_t i, const ex& c) -> void {
      if (c.is_zero()) return;
      if (i == static_cast<std::size_t>(d)) {
        out += c * gaussian_moment(alpha);
        return;
      }
      for (int a = c.ldegree(x[i]); a <= c.degree(x[i]); ++a) {
        alpha[i] = a;
        self(self, i + 1, c.coeff(x[i], a));
      }
    };
    rec(rec, 0, integrand);
    return GiNaC::expand(out);
  }

  // ln(Z/Z₀) to t^degree.
  ex log_z() const {
    // ln z = Σ_m (−1)^(m+1) (z − 1)^m / m, z = 1 + O(t).
    ex out = 0, power = 1;
    for (int m = 1; m <= degree; ++m) {
      power = truncate_keep_t(GiNaC::expand(power * (z - 1)));
      out += (m % 2 == 1 ? 1 : -1) * power / m;
    }
    return GiNaC::expand(out);
  }

  // The moment ⟨Π_{i∈units} x_i⟩ to t^degree, remembered.
  ex moment(std::vector<int> units) {
    std::sort(units.begin(), units.end());
    if (auto it = moments.find(units); it != moments.end()) return it->second;
    ex p = 1;
    for (int i : units) p *= x[static_cast<std::size_t>(i)];
    return moments[units] = truncate_keep_t(GiNaC::expand(integrate(p) * inverse_z));
  }

  // The connected function of the units in `units`, to t^degree: Σ over the set partitions π
  // of the units of (−1)^(|π|−1) (|π|−1)! Π_{B∈π} ⟨Π_{i∈B} x_i⟩.
  ex cumulant(const std::vector<int>& units) {
    const std::size_t n = units.size();
    ex k = 0;
    std::vector<std::vector<int>> blocks;
    auto partitions = [&](auto&& self, std::size_t e) -> void {
      if (e == n) {
        const auto b = static_cast<long>(blocks.size());
        ex term = GiNaC::factorial(b - 1) * (b % 2 == 1 ? 1 : -1);
        for (const auto& B : blocks) {
          std::vector<int> u;
          for (int i : B) u.push_back(units[static_cast<std::size_t>(i)]);
          term = truncate_keep_t(GiNaC::expand(term * moment(u)));
        }
        k += term;
        return;
      }
      for (std::size_t i = 0; i < blocks.size(); ++i) {
        blocks[i].push_back(static_cast<int>(e));
        self(self, e + 1);
        blocks[i].pop_back();
      }
      blocks.push_back({static_cast<int>(e)});
      self(self, e + 1);
      blocks.pop_back();
    };
    partitions(partitions, 0);
    return GiNaC::expand(k);
  }

  // What diagrams of at most L loops and n legs sum to: the terms up to t^(2L − 2 + n), t = 1.
  ex to_loops(const ex& p, int loops, int legs) const {
    return truncate(p, t, 2 * loops - 2 + legs);
  }
};

}  // namespace

TEST_CASE("0-dimensional phi^4: ln(Z/Z0) to g^6 and <x^2> to g^5 as published, <x^4>_c") {
  const GiNaC::realsymbol g("g");
  Action<ex> a(1, 4);
  a.vertices[2][0] = 1;
  a.vertices[4][0] = g;
  // The g^n vacuum diagrams have n + 1 loops: 7 loops reach g^6 (DESIGN §6).
  const Cumulants<ex> c7 = cumulants(a, {0}, CumulantRequest{7, 1});
  CHECK(same(c7.log_z, -g / 8 + g * g / 12 - 11 * GiNaC::pow(g, 3) / 96 +
                           17 * GiNaC::pow(g, 4) / 72 - 619 * GiNaC::pow(g, 5) / 960 +
                           709 * GiNaC::pow(g, 6) / 324));
  CHECK(c7.connected[1][0].is_zero());  // odd functions vanish
  // The g^n 2-point diagrams have n loops.
  const Cumulants<ex> c5 = cumulants(a, {0}, CumulantRequest{5, 4});
  CHECK(same(c5.connected[2][0], 1 - g / 2 + 2 * g * g / 3 - 11 * GiNaC::pow(g, 3) / 8 +
                                     34 * GiNaC::pow(g, 4) / 9 - 619 * GiNaC::pow(g, 5) / 48));
  // ⟨x⁴⟩_c: the g^n 4-point diagrams have n − 1 loops; the series in t² = g, to g^6.
  SeriesOracle oracle(a, {1}, 12);
  const ex x4 = oracle.to_loops(oracle.cumulant({0, 0, 0, 0}), 5, 4);
  CHECK(same(c5.connected[4][0], x4));
  CHECK(same(x4.coeff(g, 1), -1));  // the bare vertex
  CHECK(same(x4.coeff(g, 2), numeric(7, 2)));
  CHECK(c5.connected[3][0].is_zero());
}

TEST_CASE("0-dimensional phi^3 + phi^4 with a source, symbolic, against the moment series") {
  const GiNaC::realsymbol h("h"), g3("g3"), g4("g4");
  Action<ex> a(1, 4);
  a.vertices[1][0] = h;
  a.vertices[2][0] = 1;
  a.vertices[3][0] = g3;
  a.vertices[4][0] = g4;
  const int loops = 3;
  const Cumulants<ex> c = cumulants(a, {0}, CumulantRequest{loops, 4});
  SeriesOracle oracle(a, {1}, 2 * loops + 2);
  CHECK(same(c.log_z, oracle.to_loops(oracle.log_z(), loops, 0)));
  for (int n = 1; n <= 4; ++n) {
    CAPTURE(n);
    const ex expected = oracle.to_loops(
        oracle.cumulant(std::vector<int>(static_cast<std::size_t>(n), 0)), loops, n);
    CHECK(same(c.connected[static_cast<std::size_t>(n)][0], expected));
  }
  // ⟨x⟩ = −h + … : the source on its line, then the cubic tadpole −g3/2.
  CHECK(same(c.connected[1][0].subs(GiNaC::lst{g3 == 0, g4 == 0}).coeff(h, 1), -1));
  CHECK(same(c.connected[1][0].subs(GiNaC::lst{h == 0, g4 == 0}).coeff(g3, 1), numeric(-1, 2)));
}

TEST_CASE("0-dimensional phi^3 + phi^4: every vacuum diagram up to 6 loops") {
  const GiNaC::realsymbol g3("g3"), g4("g4");
  Action<ex> a(1, 4);
  a.vertices[2][0] = 1;
  a.vertices[3][0] = g3;
  a.vertices[4][0] = g4;
  const Cumulants<ex> c = cumulants(a, {0}, CumulantRequest{6, 0});
  SeriesOracle oracle(a, {1}, 10);
  CHECK(same(c.log_z, oracle.to_loops(oracle.log_z(), 6, 0)));
  // The two cubic 2-loop diagrams: the dumbbell 1/8 and the theta 1/12.
  CHECK(same(c.log_z.coeff(g3, 2).subs(g4 == 0), numeric(1, 8) + numeric(1, 12)));
}

TEST_CASE("two units, exact: every component against the moment series (Isserlis)") {
  // Vertices with off-diagonal components everywhere and a non-diagonal propagator.
  Action<ex> a(2, 4);
  a.vertices[1].at(std::vector<int>{0}) = numeric(1, 5);
  a.vertices[1].at(std::vector<int>{1}) = numeric(-1, 7);
  a.vertices[2].at(std::vector<int>{0, 0}) = 2;
  a.vertices[2].at(std::vector<int>{0, 1}) = numeric(-1, 2);
  a.vertices[2].at(std::vector<int>{1, 1}) = numeric(3, 2);
  const ex g3[] = {numeric(1, 3), numeric(-1, 4), numeric(1, 6), numeric(2, 5)};
  const ex g4[] = {numeric(1, 2), numeric(1, 8), numeric(-1, 9), numeric(1, 10), numeric(3, 4)};
  for (std::size_t r = 0; r < 4; ++r) a.vertices[3][r] = g3[r];
  for (std::size_t r = 0; r < 5; ++r) a.vertices[4][r] = g4[r];
  const std::vector<ex> G = propagator(a);
  // G Γ⁽²⁾ = 1, exactly.
  CHECK(same(G[0] * 2 + G[1] * numeric(-1, 2), 1));
  CHECK(same(G[0] * numeric(-1, 2) + G[1] * numeric(3, 2), 0));
  const int loops = 2;
  const Cumulants<ex> c = cumulants(a, {0, 0}, CumulantRequest{loops, 4});
  SeriesOracle oracle(a, G, 2 * loops + 2);
  CHECK(same(c.log_z, oracle.to_loops(oracle.log_z(), loops, 0)));
  for (int n = 1; n <= 4; ++n) {
    multi_index index(static_cast<std::size_t>(n), 0);
    do {
      CAPTURE(index);
      const ex expected = oracle.to_loops(oracle.cumulant(index), loops, n);
      const ex& got = c.connected[static_cast<std::size_t>(n)].at(index);
      CHECK(GiNaC::is_a<numeric>(got));
      CHECK(same(got, expected));
    } while (next_lex(index, 2));
  }
}

namespace {

// Moments of a ring of 4 sites, S = ½ xᵀKx + (λ/4!) Σᵢ xᵢ⁴ with K = (2 + m²) − (shift + shiftᵀ),
// integrated over R⁴ by the trapezoidal rule on N points per axis in [−X, X]. exp(−S) is a
// product around the ring of T(x, y) = exp(−f(x)/2 + xy − f(y)/2), f(x) = (2 + m²)x²/2 + λx⁴/24,
// so the 4-dimensional grid sum is the trace of the 4th power of the N × N matrix h·T.
struct RingMoments {
  double xx[3];  // ⟨x₀x₀⟩, ⟨x₀x₁⟩, ⟨x₀x₂⟩
  double x4c;    // ⟨x₀⁴⟩ − 3⟨x₀²⟩², the connected 4-point function at one site
  double z;
};

RingMoments ring_moments(double m2, double lambda, int N, double X) {
  const double h = 2 * X / (N - 1);
  Eigen::VectorXd x(N);
  for (int a = 0; a < N; ++a) x[a] = -X + a * h;
  auto f = [&](double u) { return (2 + m2) * u * u / 2 + lambda * u * u * u * u / 24; };
  Eigen::MatrixXd T(N, N);
  for (int a = 0; a < N; ++a)
    for (int b = 0; b < N; ++b) T(a, b) = h * std::exp(-f(x[a]) / 2 + x[a] * x[b] - f(x[b]) / 2);
  const Eigen::MatrixXd D = x.asDiagonal(), T2 = T * T, T3 = T2 * T, T4 = T2 * T2;
  RingMoments m;
  m.z = T4.trace();
  m.xx[0] = (D * D * T4).trace() / m.z;
  m.xx[1] = (D * T * D * T3).trace() / m.z;
  m.xx[2] = (D * T2 * D * T2).trace() / m.z;
  m.x4c = (D * D * D * D * T4).trace() / m.z - 3 * m.xx[0] * m.xx[0];
  return m;
}

std::string ring_action(double m2, double lambda) {
  std::string v;
  auto add = [&](int k, std::vector<int> index, double value) {
    v += fmt::format(R"({}{{"order": {}, "index": [{}], "value": "{}"}})", v.empty() ? "" : ",\n",
                     k, fmt::join(index, ","), value);
  };
  for (int i = 0; i < 4; ++i) {
    add(2, {i, i}, 2 + m2);
    add(4, {i, i, i, i}, lambda);
  }
  add(2, {0, 1}, -1);
  add(2, {1, 2}, -1);
  add(2, {2, 3}, -1);
  add(2, {0, 3}, -1);
  return R"({"format": "flowaction-action/1", "dim": 4, "order": 4, "field": "float", "vertices": [)" +
         v + "]}";
}

}  // namespace

TEST_CASE("ring of 4 sites: 2-point and 4-point functions against the integral over R^4") {
  const double m2 = 1;
  // The transfer-matrix trace is the 4-dimensional grid sum: checked on a coarse grid.
  {
    const double lambda = 0.3, X = 6;
    const int N = 16;
    const double h = 2 * X / (N - 1);
    double z = 0, x0x1 = 0;
    for (int a = 0; a < N; ++a)
      for (int b = 0; b < N; ++b)
        for (int c = 0; c < N; ++c)
          for (int e = 0; e < N; ++e) {
            const double u[4] = {-X + a * h, -X + b * h, -X + c * h, -X + e * h};
            double S = 0;
            for (int i = 0; i < 4; ++i)
              S += (2 + m2) * u[i] * u[i] / 2 + lambda * std::pow(u[i], 4) / 24 -
                   u[i] * u[(i + 1) % 4];
            const double w = std::exp(-S) * h * h * h * h;
            z += w;
            x0x1 += w * u[0] * u[1];
          }
    const RingMoments coarse = ring_moments(m2, lambda, N, X);
    CHECK(coarse.z == doctest::Approx(z).epsilon(1e-12));
    CHECK(coarse.xx[1] == doctest::Approx(x0x1 / z).epsilon(1e-12));
  }
  // residual[c][L][r]: coupling λ = 0.3 / 2^c, at most L loops; r = ⟨x₀x₀⟩, ⟨x₀x₁⟩, ⟨x₀x₂⟩,
  // ⟨x₀⁴⟩_c.
  double residual[2][3][4];
  TempDir dir("cumulants_ring");
  for (int c = 0; c < 2; ++c) {
    const double lambda = 0.3 / (1 << c);
    // Converged: 121 and 161 points per axis agree to 1e-13.
    const RingMoments exact = ring_moments(m2, lambda, 161, 9);
    const RingMoments check = ring_moments(m2, lambda, 121, 9);
    for (int j = 0; j < 3; ++j) CHECK(std::fabs(exact.xx[j] - check.xx[j]) < 1e-13);
    const std::string file = dir.write("ring.json", ring_action(m2, lambda)).string();
    for (int loops = 0; loops <= 2; ++loops) {
      std::ostringstream out, err;
      REQUIRE(run_cli({"cumulants", file, "--loops", std::to_string(loops)}, out, err) == 0);
      const auto j = nlohmann::json::parse(out.str());
      std::map<std::vector<int>, double> w;
      for (const auto& e : j["cumulants"]) w[e["index"].get<std::vector<int>>()] = e["float"];
      // Translation invariance: every site alike.
      CHECK(w[{1, 1}] == doctest::Approx(w[{0, 0}]).epsilon(1e-12));
      CHECK(w[{1, 3}] == doctest::Approx(w[{0, 2}]).epsilon(1e-12));
      double* r = residual[c][loops];
      r[0] = std::fabs(w[{0, 0}] - exact.xx[0]);
      r[1] = std::fabs(w[{0, 1}] - exact.xx[1]);
      r[2] = std::fabs(w[{0, 2}] - exact.xx[2]);
      r[3] = std::fabs(w[{0, 0, 0, 0}] - exact.x4c);
      MESSAGE(
          fmt::format("lambda {}, loops {}: residuals {:.3e} {:.3e} {:.3e} (2-point), {:.3e} "
                      "(4-point)",
                      lambda, loops, r[0], r[1], r[2], r[3]));
    }
  }
  for (int r = 0; r < 4; ++r) {
    CAPTURE(r);
    // The residual shrinks with every loop …
    for (int loops = 1; loops <= 2; ++loops)
      CHECK(residual[0][loops][r] < 0.5 * residual[0][loops - 1][r]);
    // … and is of the next order in λ: the L-loop 2-point function is exact to λ^L, the
    // 4-point function to λ^(L+1), so halving λ divides the residual by about 2^(L+1) (2^(L+2)).
    for (int loops = 0; loops <= 2; ++loops) {
      CAPTURE(loops);
      const double expected = std::pow(2.0, loops + (r == 3 ? 2 : 1));
      CHECK(residual[0][loops][r] / residual[1][loops][r] > 0.75 * expected);
    }
  }
}
