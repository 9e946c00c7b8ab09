// A flow as read from a manifest: its layers with exact (rational) weights, listed data → latent.
#pragma once

#include <ginac/ginac.h>

#include <string>
#include <variant>
#include <vector>

namespace flowaction {

// One weight field of a layer, exactly as the manifest gives it (row-major values).
struct Tensor {
  std::string name;        // the manifest field: "W", "b", "alpha", "coeffs", "W1", ...
  std::vector<int> shape;  // {} scalar, {n} vector, {r, c} matrix
  std::vector<GiNaC::numeric> values;
  std::string dtype = "decimal";  // "decimal" inline; else the tensor file's dtype ("F32", "<f8")
  std::string stored_as;          // the tensor's name in the tensor file, empty if inline

  std::size_t size() const { return values.size(); }
  bool empty() const { return values.empty(); }
};

// z = W y + b; W is d×d, row = output unit.
struct AffineLayer {
  Tensor W, b;  // b may be empty (zero)
};

// zᵢ = φᵢ(yᵢ) with φᵢ(u) = Σ_k c_{i,k} u^k, from "alpha" (φ(u) = u + αu², α scalar or per unit)
// or "coeffs" (shared [c₁, c₂, …] or one row per unit).
struct ActivationLayer {
  Tensor act;  // as given: name "alpha" or "coeffs"
};

// Additive coupling: z_A = y_A, z_B = y_B + W2 φ(W1 y_A + b1) + b2 (A: mask 0, B: mask 1).
struct CouplingLayer {
  std::vector<int> mask;
  Tensor W1, b1, act, W2, b2;  // W1: hidden×|A|, W2: |B|×hidden; act as in ActivationLayer
};

using Layer = std::variant<AffineLayer, ActivationLayer, CouplingLayer>;

struct Model {
  int dim = 0;
  std::vector<Layer> layers;  // data → latent
  std::string source;         // the file it was read from, for messages
};

std::string layer_type_name(const Layer& layer);

// Coefficient c_{row,k} (k = 1 … degree) of the polynomial φ of a unit / hidden unit, and the
// flat index into act.values it comes from (for symbol names); c₁ = 1 for "alpha".
struct ActCoefficient {
  int power;        // k
  int value_index;  // index into act.values, or -1 for the implied c₁ = 1 of "alpha"
};
int act_degree(const Tensor& act);
std::vector<ActCoefficient> act_coefficients(const Tensor& act, int row);

}  // namespace flowaction
