// The engine against the brute-force series oracle on seeded random models: every layer type,
// biases, a nonzero expansion point, all three coefficient fields.
#include <doctest/doctest.h>

#include <cmath>

#include "engine_results.hpp"

using flowaction::field_kind;
using GiNaC::ex;
using GiNaC::numeric;

namespace {

struct Case {
  int dim, layers, order;
  unsigned seed;
};

std::vector<numeric> random_point(std::mt19937& rng, int d) {
  std::vector<numeric> x;
  for (int i = 0; i < d; ++i)
    x.push_back(numeric(std::uniform_int_distribution<int>(-5, 5)(rng), 10));
  return x;
}

double as_double(const ex& e) {
  return GiNaC::ex_to<numeric>(e.evalf()).to_double();
}

// Γ⁽⁰⁾ holds logarithms, which GiNaC does not combine: compare to 40 digits.
bool equal_to_40_digits(const ex& a, const ex& b) {
  GiNaC::Digits = 50;
  return std::fabs(as_double((a - b).evalf() * numeric(10).power(40))) < 1.0;
}

}  // namespace

TEST_CASE("exact and float vertices equal the series oracle on random flows") {
  // d ≤ 4, L ≤ 4, K ≤ 6, every layer type, biases, x₀ ≠ 0.
  std::vector<Case> cases;
  for (unsigned seed = 1; seed <= 40; ++seed)
    cases.push_back({1 + static_cast<int>(seed % 4), 1 + static_cast<int>((seed / 4) % 4),
                     3 + static_cast<int>(seed % 4), seed});
  cases.push_back({4, 4, 6, 41});
  cases.push_back({4, 4, 6, 42});
  int layer_types_seen[3] = {0, 0, 0};
  for (const Case& c : cases) {
    std::mt19937 rng(c.seed);
    const auto x0 = random_point(rng, c.dim);
    const oracle::Model m = oracle::random_model(rng, c.dim, c.layers, x0);
    for (const auto& L : m.layers)
      ++layer_types_seen[L.type == "affine" ? 0 : L.type == "activation" ? 1 : 2];
    const std::string text = oracle::manifest(m);
    CAPTURE(text);
    const oracle::vertices expect = oracle::series_vertices(m, x0, c.order);
    const oracle::vertices exact =
        testing_support::engine_vertices(text, x0, c.order, field_kind::exact);
    const oracle::vertices fl =
        testing_support::engine_vertices(text, x0, c.order, field_kind::float64);
    REQUIRE(exact.size() == expect.size());
    for (const auto& entry : expect) {
      // Not a structured binding: clang before 16 cannot capture one in a lambda.
      const auto& key = entry.first;
      const auto& value = entry.second;
      CAPTURE(key.first);
      CAPTURE(key.second);
      const ex got = exact.at(key);
      if (key.first == 0) {
        CHECK(equal_to_40_digits(got, value));
        CHECK(flowaction::to_string(got).find('.') == std::string::npos);  // no float crept in
      } else {
        CHECK_MESSAGE((got - value).expand().is_zero(), "engine ", got, " vs oracle ", value);
      }
      const double want = as_double(value), f = as_double(fl.at(key));
      CHECK(std::fabs(f - want) <= 1e-10 * std::max(std::fabs(want), 1.0));
    }
  }
  CHECK(layer_types_seen[0] > 0);
  CHECK(layer_types_seen[1] > 0);
  CHECK(layer_types_seen[2] > 0);
}

TEST_CASE("flows with ActNorm layers (negative scales too) equal the series oracle") {
  int actnorms = 0;
  for (unsigned seed = 60; seed < 72; ++seed) {
    std::mt19937 rng(seed);
    const int d = 1 + static_cast<int>(seed % 3), L = 2 + static_cast<int>(seed % 3), K = 4;
    const auto x0 = random_point(rng, d);
    const oracle::Model m = oracle::random_model(rng, d, L, x0, true, true);
    for (const auto& layer : m.layers) actnorms += layer.type == "actnorm";
    const std::string text = oracle::manifest(m);
    CAPTURE(text);
    const oracle::vertices expect = oracle::series_vertices(m, x0, K);
    const oracle::vertices exact = testing_support::engine_vertices(text, x0, K, field_kind::exact);
    const oracle::vertices fl = testing_support::engine_vertices(text, x0, K, field_kind::float64);
    REQUIRE(exact.size() == expect.size());
    for (const auto& entry : expect) {
      // Not a structured binding: clang before 16 cannot capture one in a lambda.
      const auto& key = entry.first;
      const auto& value = entry.second;
      CAPTURE(key.first);
      CAPTURE(key.second);
      if (key.first == 0)
        CHECK(equal_to_40_digits(exact.at(key), value));
      else
        CHECK((exact.at(key) - value).expand().is_zero());
      const double want = as_double(value), f = as_double(fl.at(key));
      CHECK(std::fabs(f - want) <= 1e-10 * std::max(std::fabs(want), 1.0));
    }
  }
  CHECK(actnorms >= 4);
}

TEST_CASE("symbolic vertices equal the exact ones after substituting the weights") {
  // One field of one layer kept symbolic per run. A symbol upstream of an activation makes its
  // expansion point symbolic and the vertices rational functions; those runs are kept small.
  struct SymCase {
    Case c;
    int layer;
  };
  const std::vector<SymCase> cases = {{{2, 2, 4, 21}, 1}, {{2, 2, 4, 21}, 2}, {{2, 3, 3, 22}, 2},
                                      {{2, 3, 3, 22}, 3}, {{1, 3, 5, 24}, 1}, {{1, 3, 5, 24}, 2},
                                      {{1, 3, 5, 24}, 3}, {{2, 4, 4, 25}, 4}};
  std::set<std::string> kinds_seen;
  for (const auto& [c, layer] : cases) {
    std::mt19937 rng(c.seed);
    const auto x0 = random_point(rng, c.dim);
    const oracle::Model m = oracle::random_model(rng, c.dim, c.layers, x0);
    const auto& SL = m.layers[static_cast<std::size_t>(layer - 1)];
    kinds_seen.insert(SL.type);
    const char* field = SL.type == "affine" ? "W" : SL.type == "activation" ? "coeffs" : "W2";
    const std::set<std::string> symbols{"layer" + std::to_string(layer) + "." + field};
    const std::string text = oracle::manifest(m);
    CAPTURE(text);
    std::vector<std::string> names;
    const oracle::vertices sym =
        testing_support::engine_vertices(text, x0, c.order, field_kind::symbolic, symbols, &names);
    const oracle::vertices exact =
        testing_support::engine_vertices(text, x0, c.order, field_kind::exact);
    REQUIRE(!names.empty());
    // The symbols' values, by their documented names.
    GiNaC::lst values;
    bool held_symbols = false;
    for (const auto& [key, e] : sym) {
      for (GiNaC::const_preorder_iterator it = e.preorder_begin(); it != e.preorder_end(); ++it) {
        if (!GiNaC::is_a<GiNaC::symbol>(*it)) continue;
        held_symbols = true;
        const std::string name = GiNaC::ex_to<GiNaC::symbol>(*it).get_name();
        // FIELD_N_i_j → layer N's tensor entry (i, j).
        int layer = 0, i = 0, j = 0;
        char field[16] = {0};
        const int n = std::sscanf(name.c_str(), "%15[A-Za-z0-9]_%d_%d_%d", field, &layer, &i, &j);
        REQUIRE(n == 4);
        const auto& L = m.layers[static_cast<std::size_t>(layer - 1)];
        const std::string f = field;
        const numeric v = f == "W" ? L.W[i][j] : f == "coeffs" ? L.coeffs[i][j] : L.W2[i][j];
        values.append(GiNaC::relational(*it, v));
      }
    }
    CHECK(held_symbols);
    for (const auto& entry : sym) {
      // Not a structured binding: clang before 16 cannot capture one in a lambda.
      const auto& key = entry.first;
      const auto& e = entry.second;
      CAPTURE(key.first);
      CAPTURE(key.second);
      const ex substituted = e.subs(values);
      if (key.first == 0) {
        CHECK(equal_to_40_digits(substituted, exact.at(key)));
      } else {
        CHECK_MESSAGE(GiNaC::normal(substituted - exact.at(key)).is_zero(), "symbolic ", e,
                      " exact ", exact.at(key));
      }
    }
  }
  CHECK(kinds_seen.size() == 3);
}

TEST_CASE("the Taylor polynomial matches a forward pass of -ln p to order K+1") {
  // Error of the order-K polynomial at x₀ + hv scales as h^(K+1): halving h divides it by 2^(K+1).
  const std::vector<Case> cases = {{2, 3, 3, 31}, {3, 3, 4, 32}, {2, 4, 2, 33}};
  for (const Case& c : cases) {
    std::mt19937 rng(c.seed);
    const auto x0 = random_point(rng, c.dim);
    const oracle::Model m = oracle::random_model(rng, c.dim, c.layers, x0);
    const oracle::vertices v =
        testing_support::engine_vertices(oracle::manifest(m), x0, c.order, field_kind::exact);
    std::vector<numeric> dir;
    for (int i = 0; i < c.dim; ++i)
      dir.push_back(numeric(std::uniform_int_distribution<int>(-9, 9)(rng), 10) + numeric(1, 20));
    GiNaC::Digits = 60;
    auto taylor = [&](const numeric& h) {
      ex s = 0;
      for (const auto& [key, g] : v) {
        numeric mono = 1, afact = 1;
        std::vector<int> mult(c.dim, 0);
        for (int i : key.second) mono *= h * dir[i], ++mult[i];
        for (int a : mult) afact *= GiNaC::factorial(numeric(a));
        s += g * mono / afact;
      }
      return GiNaC::ex_to<numeric>(s.evalf());
    };
    auto error = [&](const numeric& h) {
      std::vector<numeric> x;
      for (int i = 0; i < c.dim; ++i) x.push_back(x0[i] + h * dir[i]);
      return GiNaC::abs(oracle::direct_action(m, x) - taylor(h));
    };
    const double expected = std::pow(2.0, c.order + 1);
    numeric h(1, 64);
    numeric e_prev = error(h);
    for (int step = 0; step < 3; ++step) {
      h /= 2;
      const numeric e = error(h);
      const double ratio = (e_prev / e).to_double();
      CAPTURE(step);
      CHECK(ratio > 0.8 * expected);
      CHECK(ratio < 1.25 * expected);
      e_prev = e;
    }
  }
}
