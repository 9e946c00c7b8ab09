// Independent references for the tests, sharing no code with the engine: random models kept as
// plain matrices, their manifest text, a brute-force GiNaC series of S(x₀ + tδ), and a direct
// forward pass of −ln p(x).
#pragma once

#include <ginac/ginac.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace oracle {

using GiNaC::numeric;
using matrix = std::vector<std::vector<numeric>>;

struct Layer {
  std::string type;            // affine, activation, coupling, actnorm
  matrix W;                    // affine
  std::vector<numeric> b;      // affine bias, actnorm shift
  std::vector<numeric> scale;  // actnorm
  matrix coeffs;               // activation: per unit; coupling: per hidden unit; c₁ … c_p
  std::vector<int> mask;
  matrix W1, W2;
  std::vector<numeric> b1, b2;
};

struct Model {
  int dim = 0;
  std::vector<Layer> layers;
};

// Vertex components: (order, sorted index) → Γ.
using vertices = std::map<std::pair<int, std::vector<int>>, GiNaC::ex>;

// A random model whose weights are short decimals (exact in the manifest), invertible at x0.
Model random_model(std::mt19937& rng, int dim, int layers, const std::vector<numeric>& x0,
                   bool allow_coupling = true, bool allow_actnorm = false);
std::string manifest(const Model& m);
// Exact decimal text of a rational with a terminating expansion.
std::string decimal(const numeric& q);

// Γ by series expansion of S(x₀ + tδ) in t (every vertex, orders 0 … K). The logarithms of the
// Jacobian are expanded by the Mercator series truncated after every product, or — slower, the
// plainest brute force — by GiNaC's series().
vertices series_vertices(const Model& m, const std::vector<numeric>& x0, int K,
                         bool ginac_series = false);

// −ln p(x) by a forward pass, evaluated to `digits` decimal digits.
numeric direct_action(const Model& m, const std::vector<numeric>& x, int digits = 60);

}  // namespace oracle
