// Models the benchmarks build: weights as short decimals, exact in the manifest.
#pragma once

#include <random>

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

}  // namespace flowaction::bench
