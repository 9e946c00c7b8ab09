// closed-form --arch: the derived index expressions, evaluated on random concrete weights at
// d = 2, 3, 4, against the engine's exact vertices of the same model (checked, not trusted).
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <random>
#include <sstream>

#include "engine/architecture.hpp"
#include "engine/closed_form.hpp"
#include "engine/closed_form_eval.hpp"
#include "engine/closed_form_print.hpp"
#include "engine_results.hpp"
#include "frontends/cli.hpp"

using namespace flowaction;

namespace {

// A decimal in [-range, range] with one or two digits after the point (exact in the manifest).
struct Weights {
  std::mt19937 rng;
  std::string number(double range) {
    std::uniform_int_distribution<int> u(-static_cast<int>(range * 20),
                                         static_cast<int>(range * 20));
    return fmt::format("{}", u(rng) / 20.0);
  }
  std::string vector(int n, double range) {
    std::vector<std::string> v;
    for (int i = 0; i < n; ++i) v.push_back(number(range));
    return fmt::format("[{}]", fmt::join(v, ", "));
  }
  std::string matrix(int r, int c, double range, bool diagonal_boost = false) {
    std::vector<std::string> rows;
    for (int i = 0; i < r; ++i) {
      std::vector<std::string> row;
      for (int j = 0; j < c; ++j) {
        double x = std::stod(number(range));
        if (diagonal_boost && i == j) x += 1.5;
        row.push_back(fmt::format("{}", x));
      }
      rows.push_back(fmt::format("[{}]", fmt::join(row, ", ")));
    }
    return fmt::format("[{}]", fmt::join(rows, ", "));
  }
};

// φ per unit (or hidden unit) as "coeffs" rows of the architecture's shape.
std::string phi_rows(const ArchLayer& a, int rows, Weights& w) {
  std::vector<std::string> out;
  for (int r = 0; r < rows; ++r) {
    std::vector<std::string> c{"1"};
    for (int k = 2; k <= a.degree; ++k)
      c.push_back(a.coefficients || k == a.degree ? w.number(0.3) : "0");
    out.push_back(fmt::format("[{}]", fmt::join(c, ", ")));
  }
  return fmt::format("[{}]", fmt::join(out, ", "));
}

std::string random_model(const Architecture& arch, int d, unsigned seed) {
  Weights w{std::mt19937(seed)};
  std::vector<std::string> layers;
  for (const ArchLayer& a : arch.layers) {
    switch (a.type) {
      case ArchLayer::kind::affine:
        layers.push_back(fmt::format(R"({{"type": "affine", "W": {}{}}})",
                                     w.matrix(d, d, 0.5, true),
                                     a.bias ? fmt::format(R"(, "b": {})", w.vector(d, 0.3)) : ""));
        break;
      case ArchLayer::kind::activation:
        layers.push_back(
            fmt::format(R"({{"type": "activation", "coeffs": {}}})", phi_rows(a, d, w)));
        break;
      case ArchLayer::kind::actnorm:
        layers.push_back(
            fmt::format(R"({{"type": "actnorm", "scale": [{}]{}}})",
                        fmt::join(std::vector<std::string>(d, "1.25"), ", "),
                        a.bias ? fmt::format(R"(, "shift": {})", w.vector(d, 0.3)) : ""));
        break;
      case ArchLayer::kind::coupling: {
        const int nb = d / 2, na = d - nb, H = 2;
        std::vector<std::string> mask;
        for (int i = 0; i < d; ++i) mask.push_back(i % 2 ? "1" : "0");
        layers.push_back(fmt::format(
            R"({{"type": "coupling", "mask": [{}], "W1": {}, "coeffs": {}, "W2": {}{}}})",
            fmt::join(mask, ", "), w.matrix(H, na, 0.8), phi_rows(a, H, w), w.matrix(nb, H, 0.8),
            a.bias ? fmt::format(R"(, "b1": {}, "b2": {})", w.vector(H, 0.3), w.vector(nb, 0.3))
                   : ""));
        break;
      }
    }
  }
  return fmt::format(R"({{"format": "flowaction/1", "dim": {}, "layers": [{}]}})", d,
                     fmt::join(layers, ", "));
}

// Every component of orders 0 … K, closed form against the engine.
void check(const std::string& spec, int K, int d, bool symbolic_point, unsigned seed) {
  CAPTURE(spec);
  CAPTURE(d);
  const Architecture arch = parse_architecture(spec);
  const ClosedForm form = closed_form(arch, K, symbolic_point);
  const std::string manifest = random_model(arch, d, seed);
  CAPTURE(manifest);
  std::vector<GiNaC::numeric> x0;
  std::vector<double> x0d;
  if (symbolic_point)
    for (int i = 0; i < d; ++i) {
      x0.push_back(GiNaC::numeric(i % 2 ? -1 : 1, 5 + i));
      x0d.push_back(x0.back().to_double());
    }
  const auto exact = testing_support::engine_vertices(manifest, x0, K, field_kind::exact);
  const Model model = parse_manifest(manifest, "random.flow.json");
  const Action<double> closed = evaluate(form, model, x0d);
  int compared = 0;
  for (const auto& entry : exact) {
    // Not a structured binding: clang before 16 cannot capture one in a lambda.
    const auto& key = entry.first;
    const auto& value = entry.second;
    const double want = GiNaC::ex_to<GiNaC::numeric>(value.evalf()).to_double();
    const double got = closed.vertices[static_cast<std::size_t>(key.first)].at(key.second);
    CAPTURE(key.first);
    CAPTURE(key.second);
    CHECK(got == doctest::Approx(want).epsilon(1e-9).scale(1.0));
    ++compared;
  }
  CHECK(compared > 0);
}

}  // namespace

TEST_CASE("closed form of affine + quadratic activation: the issue's Gamma3 and the engine") {
  const ClosedForm form = closed_form(parse_architecture("affine,activation"), 4, false);
  std::ostringstream s;
  print(form, text_context{&s});
  CHECK(s.str().find(
            "Gamma^(3)_{i j k} =\n      sum_{a} 2*alpha2_a*(3 - 8*alpha2_a^2) * W^(1)_{a i} * "
            "W^(1)_{a j} * W^(1)_{a k}") != std::string::npos);
  for (int d : {2, 3, 4}) check("affine,activation", 4, d, false, 11u + d);
}

TEST_CASE("closed forms against the engine: deeper and other architectures") {
  for (int d : {2, 3, 4}) {
    check("activation,affine,activation", 4, d, false, 21u + d);  // L = 3, K = 4
    check("affine,activation:cubic,affine,activation:cubic", 4, d, false, 31u + d);
  }
  check("activation:degree4,affine", 4, 3, false, 41u);
  check("affine,coupling", 4, 2, false, 51u);
  check("affine,coupling:cubic,affine", 3, 3, false, 52u);
  check("actnorm,affine,activation", 3, 3, false, 61u);
  check("affine,activation,affine,activation,affine,activation", 5, 2, false, 62u);  // L = 6
  check("affine,coupling:cubic,affine,coupling", 5, 2, false, 63u);
  check("activation:degree3,affine,activation", 6, 3, false, 64u);  // K = 6
}

TEST_CASE("the comparison notices a missing term (negative control)") {
  ClosedForm form =
      closed_form(parse_architecture("affine,activation:cubic,affine,activation:cubic"), 4, false);
  const std::string manifest = random_model(form.arch, 3, 5u);
  const Model model = parse_manifest(manifest, "random.flow.json");
  const auto exact = testing_support::engine_vertices(manifest, {}, 4, field_kind::exact);
  REQUIRE(form.vertices[4].size() > 1);
  form.vertices[4].pop_back();
  const Action<double> closed = evaluate(form, model);
  double worst = 0;
  for (const auto& [key, value] : exact)
    if (key.first == 4)
      worst = std::max(worst, std::fabs(closed.vertices[4].at(key.second) -
                                        GiNaC::ex_to<GiNaC::numeric>(value.evalf()).to_double()));
  CHECK(worst > 1e-3);
}

TEST_CASE("closed forms with biases and at a symbolic expansion point") {
  check("affine:bias,activation", 4, 3, false, 71u);
  check("affine,activation,affine:bias,activation:cubic", 3, 2, false, 72u);
  check("affine,activation", 3, 3, true, 81u);
  check("activation,affine,activation", 3, 2, true, 82u);
  check("affine:bias,coupling:bias", 3, 2, false, 91u);
  check("affine,activation:cubic,actnorm:bias,activation", 4, 3, true, 92u);
}
