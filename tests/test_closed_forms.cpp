// Vertices that follow in closed form, derived by hand (DESIGN §4), against the engine.
#include <doctest/doctest.h>

#include "engine_results.hpp"

using flowaction::field_kind;
using GiNaC::ex;
using GiNaC::numeric;

TEST_CASE(
    "one affine layer: Gamma2 = W^T W, Gamma1 = W^T b, Gamma0 = |b|^2/2 + (d/2) ln 2pi - ln|det "
    "W|") {
  const std::string text = R"({"format": "flowaction/1", "dim": 3, "layers": [
    {"type": "affine", "W": [[1.5, -0.25, 0], [0.5, 2, 0.125], [-1, 0.75, 0.5]], "b": [0.1, -0.2, 0.3]}]})";
  const numeric W[3][3] = {{numeric(3, 2), numeric(-1, 4), 0},
                           {numeric(1, 2), 2, numeric(1, 8)},
                           {-1, numeric(3, 4), numeric(1, 2)}};
  const numeric b[3] = {numeric(1, 10), numeric(-2, 10), numeric(3, 10)};
  const auto v = testing_support::engine_vertices(text, {}, 4, field_kind::exact);
  for (int i = 0; i < 3; ++i) {
    numeric g1 = 0;
    for (int k = 0; k < 3; ++k) g1 += W[k][i] * b[k];
    CHECK(v.at({1, {i}}) == g1);
    for (int j = i; j < 3; ++j) {
      numeric g2 = 0;
      for (int k = 0; k < 3; ++k) g2 += W[k][i] * W[k][j];
      CHECK(v.at({2, {i, j}}) == g2);
    }
  }
  // det W by cofactors.
  const numeric det = W[0][0] * (W[1][1] * W[2][2] - W[1][2] * W[2][1]) -
                      W[0][1] * (W[1][0] * W[2][2] - W[1][2] * W[2][0]) +
                      W[0][2] * (W[1][0] * W[2][1] - W[1][1] * W[2][0]);
  const ex gamma0 = (b[0] * b[0] + b[1] * b[1] + b[2] * b[2]) / 2 +
                    numeric(3, 2) * GiNaC::log(2 * GiNaC::Pi) - GiNaC::log(ex(GiNaC::abs(det)));
  CHECK((v.at({0, {}}) - gamma0).expand().is_zero());
  for (const auto& [key, value] : v)
    if (key.first > 2) CHECK(value.is_zero());
}

TEST_CASE("the worked example of DESIGN section 4 and its closed form in alpha") {
  const std::string text =
      R"({"format": "flowaction/1", "dim": 1, "layers": [{"type": "activation", "alpha": 0.25}]})";
  const auto v = testing_support::engine_vertices(text, {}, 5, field_kind::exact);
  CHECK(v.at({1, {0}}) == numeric(-1, 2));
  CHECK(v.at({2, {0, 0}}) == numeric(5, 4));
  CHECK(v.at({3, {0, 0, 0}}) == numeric(5, 4));
  CHECK(v.at({4, {0, 0, 0, 0}}) == numeric(9, 8));
  // S(y) = (y + αy²)²/2 − ln(1 + 2αy) + ln(2π)/2, differentiated by hand:
  // Γ1 = −2α, Γ2 = 1 + 4α², Γ3 = 6α − 16α³, Γ4 = 12α² + 96α⁴, Γ5 = −768α⁵.
  std::vector<std::string> names;
  const auto s =
      testing_support::engine_vertices(text, {}, 5, field_kind::symbolic, {"layer1.alpha"}, &names);
  REQUIRE(names == std::vector<std::string>{"alpha_1"});
  GiNaC::symbol a;
  const auto get = [&](int k) {
    // Replace the engine's symbol by ours, found by name.
    ex e = s.at({k, std::vector<int>(k, 0)});
    GiNaC::exmap m;
    for (GiNaC::const_preorder_iterator it = e.preorder_begin(); it != e.preorder_end(); ++it)
      if (GiNaC::is_a<GiNaC::symbol>(*it) &&
          GiNaC::ex_to<GiNaC::symbol>(*it).get_name() == "alpha_1")
        m[*it] = a;
    return e.subs(m);
  };
  CHECK((get(1) - (-2 * a)).expand().is_zero());
  CHECK((get(2) - (1 + 4 * GiNaC::pow(a, 2))).expand().is_zero());
  CHECK((get(3) - (6 * a - 16 * GiNaC::pow(a, 3))).expand().is_zero());
  CHECK((get(4) - (12 * GiNaC::pow(a, 2) + 96 * GiNaC::pow(a, 4))).expand().is_zero());
  CHECK((get(5) - (-768 * GiNaC::pow(a, 5))).expand().is_zero());
}

TEST_CASE("L quadratic couplings give an action polynomial of degree 2^(L+1)") {
  // Each coupling with φ(u) = u + αu² doubles the degree of the shift; ½|z|² doubles it again.
  const std::string coupling_a =
      R"({"type": "coupling", "mask": [0, 1], "W1": [[0.5]], "b1": [0.1], "alpha": 0.3, "W2": [[0.7]], "b2": [-0.2]})";
  const std::string coupling_b =
      R"({"type": "coupling", "mask": [1, 0], "W1": [[-0.4]], "b1": [0.2], "alpha": 0.5, "W2": [[0.6]], "b2": [0.1]})";
  const std::string affine = R"({"type": "affine", "W": [[1, 0.5], [-0.25, 1]], "b": [0.1, 0]})";
  for (int L = 1; L <= 2; ++L) {
    std::string layers = affine;
    for (int l = 0; l < L; ++l) layers += ", " + (l % 2 ? coupling_b : coupling_a);
    const std::string text = R"({"format": "flowaction/1", "dim": 2, "layers": [)" + layers + "]}";
    const int degree = 1 << (L + 1);
    const std::vector<numeric> x0 = {numeric(3, 10), numeric(-1, 5)};
    const auto v = testing_support::engine_vertices(text, x0, degree + 1, field_kind::exact);
    bool top_nonzero = false;
    for (const auto& [key, value] : v) {
      if (key.first == degree && !value.is_zero()) top_nonzero = true;
      if (key.first == degree + 1) CHECK(value.is_zero());
    }
    CHECK(top_nonzero);
  }
}

TEST_CASE("ActNorm then a quadratic unit, symbolic in the scale: the chain rule by hand") {
  // x -> y = s x + t -> z = y + a y^2 (a = 1/4, t = 1/2). With u = s x + t:
  // S(x) = (u + a u^2)^2 / 2 - ln(1 + 2 a u) - ln|s| + ln(2 pi)/2, and d/dx = s d/du, so
  // Gamma_k(x = 0) = s^k F^(k)(t) with F(u) = (u + a u^2)^2 / 2 - ln(1 + 2 a u).
  const std::string text = R"({"format": "flowaction/1", "dim": 1, "layers": [
    {"type": "actnorm", "scale": [-1.5], "shift": [0.5]},
    {"type": "activation", "alpha": 0.25}]})";
  std::vector<std::string> names;
  const auto v =
      testing_support::engine_vertices(text, {}, 4, field_kind::symbolic, {"layer1.scale"}, &names);
  REQUIRE(names == std::vector<std::string>{"scale_1_0"});
  GiNaC::symbol s("s"), u("u");
  const ex a = numeric(1, 4), F = GiNaC::pow(u + a * u * u, 2) / 2 - GiNaC::log(1 + 2 * a * u);
  for (int k = 1; k <= 4; ++k) {
    ex e = v.at({k, std::vector<int>(static_cast<std::size_t>(k), 0)});
    GiNaC::exmap m;
    for (GiNaC::const_preorder_iterator it = e.preorder_begin(); it != e.preorder_end(); ++it)
      if (GiNaC::is_a<GiNaC::symbol>(*it)) m[*it] = s;
    e = e.subs(m);
    const ex want = GiNaC::pow(s, k) * F.diff(u, k).subs(u == numeric(1, 2));
    CAPTURE(k);
    CHECK_MESSAGE(GiNaC::normal(e - want).is_zero(), e, " vs ", want);
  }
}
