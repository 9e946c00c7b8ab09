// Models the benchmarks build: weights as short decimals, exact in the manifest.
#pragma once

#include <random>
#include <stdexcept>
#include <variant>

#include "engine/model.hpp"
#include "engine/overload.hpp"
#include "tests/oracle.hpp"

namespace flowaction::bench {

// Affine layers near the identity alternating with quadratic activations, weights as short
// decimals (k/(125 d), k/1000: exact in the manifest and short as rationals).
inline oracle::Model alternating_model(int d, int L, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> w(-100, 100), a(1, 50), b(-50, 50);
  oracle::Model m;
  m.dim = d;
  for (int l = 0; l < L; ++l) {
    oracle::Layer layer;
    if (l % 2 == 0) {
      layer.type = "affine";
      layer.W.assign(d, std::vector<GiNaC::numeric>(d));
      for (int i = 0; i < d; ++i)
        for (int j = 0; j < d; ++j)
          layer.W[i][j] = GiNaC::numeric(i == j ? 1 : 0) + GiNaC::numeric(w(rng), 125 * d);
      for (int i = 0; i < d; ++i) layer.b.push_back(GiNaC::numeric(b(rng), 1000));
    } else {
      layer.type = "activation";
      for (int i = 0; i < d; ++i) layer.coeffs.push_back({1, GiNaC::numeric(a(rng), 1000)});
    }
    m.layers.push_back(layer);
  }
  return m;
}

// Couplings with alternating halves, hidden width H, φ(u) = c1 u + c2 u² + c3 u³ per hidden unit.
inline oracle::Model coupling_model(int d, int L, int H, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> w(-100, 100), c(-30, 30);
  auto small = [&](int den) { return GiNaC::numeric(w(rng), den); };
  oracle::Model m;
  m.dim = d;
  for (int l = 0; l < L; ++l) {
    oracle::Layer layer;
    layer.type = "coupling";
    layer.mask.assign(d, 0);
    for (int i = 0; i < d; ++i) layer.mask[i] = (i < d / 2) == (l % 2 == 0) ? 1 : 0;
    const int nb = d / 2, na = d - nb;
    for (int h = 0; h < H; ++h) {
      std::vector<GiNaC::numeric> row;
      for (int a = 0; a < na; ++a) row.push_back(small(100 * na));
      layer.W1.push_back(row);
      layer.b1.push_back(small(1000));
      layer.coeffs.push_back({1, GiNaC::numeric(c(rng), 1000), GiNaC::numeric(c(rng), 1000)});
    }
    for (int b = 0; b < nb; ++b) {
      std::vector<GiNaC::numeric> row;
      for (int h = 0; h < H; ++h) row.push_back(small(100 * H));
      layer.W2.push_back(row);
      layer.b2.push_back(small(1000));
    }
    m.layers.push_back(layer);
  }
  return m;
}

// A model read by the engine (any manifest, its tensors from any file) as the oracle's plain
// matrices, for timing the brute force on trained models.
inline oracle::Model to_oracle(const Model& model) {
  using GiNaC::numeric;
  const auto vec = [](const Tensor& t) { return t.values; };
  const auto mat = [](const Tensor& t) {
    oracle::matrix m(static_cast<std::size_t>(t.shape.at(0)));
    const auto cols = static_cast<std::size_t>(t.shape.at(1));
    for (std::size_t r = 0; r < m.size(); ++r)
      m[r].assign(t.values.begin() + static_cast<long>(r * cols),
                  t.values.begin() + static_cast<long>((r + 1) * cols));
    return m;
  };
  // φ per unit as c₁ … c_p: "alpha" is φ(u) = u + αu² (scalar or per unit), "coeffs" a shared
  // row or one row per unit.
  const auto phi = [&](const Tensor& alpha, const Tensor& coeffs, int units) {
    oracle::matrix out(static_cast<std::size_t>(units));
    for (int u = 0; u < units; ++u) {
      if (!alpha.empty()) {
        out[u] = {numeric(1), alpha.values[alpha.shape.empty() ? 0 : static_cast<std::size_t>(u)]};
      } else if (coeffs.shape.size() == 1) {
        out[u] = coeffs.values;
      } else {
        out[u] = mat(coeffs)[static_cast<std::size_t>(u)];
      }
    }
    return out;
  };
  oracle::Model m;
  m.dim = model.dim;
  for (const Layer& layer : model.layers) {
    oracle::Layer o;
    std::visit(overload{[&](const AffineLayer& l) {
                          o.type = "affine", o.W = mat(l.W);
                          o.b = l.b.empty() ? std::vector<numeric>(model.dim, 0) : vec(l.b);
                        },
                        [&](const ActivationLayer& l) {
                          o.type = "activation", o.coeffs = phi(l.alpha, l.coeffs, model.dim);
                        },
                        [&](const CouplingLayer& l) {
                          o.type = "coupling";
                          for (const numeric& x : l.mask.values) o.mask.push_back(x.to_int());
                          o.W1 = mat(l.W1), o.W2 = mat(l.W2);
                          o.b1 = l.b1.empty() ? std::vector<numeric>(l.hidden(), 0) : vec(l.b1);
                          o.b2 = l.b2.empty() ? std::vector<numeric>(o.W2.size(), 0) : vec(l.b2);
                          o.coeffs = phi(l.alpha, l.coeffs, l.hidden());
                        },
                        [&](const ActNormLayer& l) {
                          o.type = "actnorm", o.scale = vec(l.scale);
                          o.b = l.shift.empty() ? std::vector<numeric>(model.dim, 0) : vec(l.shift);
                        }},
               layer);
    m.layers.push_back(o);
  }
  return m;
}

}  // namespace flowaction::bench
