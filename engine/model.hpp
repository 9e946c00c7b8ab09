// A flow as read from a manifest — its layers with exact (rational) weights, listed data → latent
// — and the one registry of layer types (DESIGN §3, §9): each type's manifest name, map, fields
// with their shapes, and which fields may be kept as symbols. The manifest reader and writer,
// symbol requests, `inspect`, the trainer's export and the diagram listings all read it.
#pragma once

#include <ginac/ginac.h>

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace flowaction {

// One weight field of a layer, exactly as the manifest gives it (row-major values).
struct Tensor {
  std::string name;        // the manifest field: "W", "b", "alpha", "coeffs", "W1", ...
  std::vector<int> shape;  // {} scalar, {n} vector, {r, c} matrix
  std::vector<GiNaC::numeric> values;
  std::string dtype = "decimal";  // "decimal" inline; else the tensor file's dtype ("F32", "<f8")
  std::string stored_as{};        // the tensor's name in the tensor file, empty if inline

  std::size_t size() const { return values.size(); }
  bool empty() const { return values.empty(); }
};

// How a layer's jet is structured, which decides the diagram classes it can produce.
enum class jet_structure {
  linear,    // G⁽¹⁾ only: every leg passes
  diagonal,  // element-wise: legs split only within a unit; diagonal rings
  rank_one,  // additive coupling: G⁽ᵐ⁾ = Σ_h a_h ⊗ w_h^{⊗m}, triangular Jacobian, no rings
  dense,     // general
};

// Whether a field must be given: always, or absent meaning zero (biases), or one of a group
// (alpha or coeffs: exactly one).
enum class presence { required, zero_if_absent, one_of };

struct FieldSpec {
  std::string_view name;  // manifest key
  presence given;
  bool symbolic;           // a weight: counted as a parameter, may stay a symbol
  std::string_view shape;  // documentation of its shape rule
  std::string_view tex;    // TeX stem of its symbols: W^{(layer)}_{ij}
};

struct LayerSpec {
  std::string_view type;  // manifest "type"
  std::string_view map;   // the map y → z, one line
  std::string_view jacobian;
  jet_structure jet;
  int degree;  // polynomial degree of the map in y: 1 (linear), or 0 for "as its φ"
  std::span<const FieldSpec> fields;
  // What its layer vertices G⁽ᵐ⁾ are, one sentence of LaTeX (the diagram listings state it).
  std::string_view jet_tex = {};
  const FieldSpec* field(std::string_view name) const;
};

// z = W y + b; W is d×d, row = output unit.
struct AffineLayer {
  Tensor W, b;  // b may be empty (zero)
  static const LayerSpec spec;
  auto tensors() { return std::array{&W, &b}; }
  auto tensors() const { return std::array{&W, &b}; }
};

// zᵢ = φᵢ(yᵢ) with φᵢ(u) = Σ_k c_{i,k} u^k, from "alpha" (φ(u) = u + αu², α scalar or per unit)
// or "coeffs" (shared [c₁, c₂, …] or one row per unit): exactly one of them is present.
struct ActivationLayer {
  Tensor alpha, coeffs;
  static const LayerSpec spec;
  auto tensors() { return std::array{&alpha, &coeffs}; }
  auto tensors() const { return std::array{&alpha, &coeffs}; }
  const Tensor& phi() const { return alpha.empty() ? coeffs : alpha; }
};

// Additive coupling: z_A = y_A, z_B = y_B + W2 φ(W1 y_A + b1) + b2 (A: mask 0, B: mask 1).
struct CouplingLayer {
  Tensor mask, W1, b1, alpha, coeffs, W2, b2;  // W1: hidden×|A|, W2: |B|×hidden
  static const LayerSpec spec;
  auto tensors() { return std::array{&mask, &W1, &b1, &alpha, &coeffs, &W2, &b2}; }
  auto tensors() const { return std::array{&mask, &W1, &b1, &alpha, &coeffs, &W2, &b2}; }
  const Tensor& phi() const { return alpha.empty() ? coeffs : alpha; }
  int hidden() const { return W1.shape.empty() ? 0 : W1.shape[0]; }
  std::vector<int> units(bool shifted) const;  // the units with mask 1 (shifted) or 0 (passing)
};

// ActNorm (Glow): zᵢ = sᵢ yᵢ + tᵢ, one scale and shift per unit.
struct ActNormLayer {
  Tensor scale, shift;  // shift may be empty (zero)
  static const LayerSpec spec;
  auto tensors() { return std::array{&scale, &shift}; }
  auto tensors() const { return std::array{&scale, &shift}; }
};

// Every layer type. A new alternative is a compile error wherever a visitor does not handle it.
using Layer = std::variant<AffineLayer, ActivationLayer, CouplingLayer, ActNormLayer>;

struct Model {
  int dim = 0;
  std::vector<Layer> layers;  // data → latent
  std::string source;         // the file it was read from, for messages
  std::string tensor_file;    // the file its "tensors" names, if any (an input too)
};

// The registry, in the order of the variant.
std::span<const LayerSpec* const> layer_specs();
const LayerSpec* find_layer_spec(std::string_view type);
const LayerSpec& spec_of(const Layer& layer);
std::string layer_type_name(const Layer& layer);
// A layer of the named type with every field empty (the manifest reader fills it).
Layer make_layer(std::string_view type);
// The layer's tensors in the order of its spec's fields.
std::vector<const Tensor*> tensors_of(const Layer& layer);
std::vector<Tensor*> tensors_of(Layer& layer);

// The first inconsistency of a layer whose tensors are filled in, in a model of dimension dim
// (a field name, empty for the layer as a whole, and the problem), or nothing.
struct LayerProblem {
  std::string field;
  std::string problem;
};
std::optional<LayerProblem> check_layer(const Layer& layer, int dim);

// Coefficient c_{row,k} (k = 1 … degree) of the polynomial φ of a unit / hidden unit, and the
// flat index into the φ tensor it comes from (for symbol names); c₁ = 1 for "alpha".
struct ActCoefficient {
  int power;        // k
  int value_index;  // index into the tensor's values, or -1 for the implied c₁ = 1 of "alpha"
};
int act_degree(const Tensor& phi);
std::vector<ActCoefficient> act_coefficients(const Tensor& phi, int row);

// Human-readable shape: "a scalar", "a vector of length 3", "a 2x3 matrix".
std::string shape_text(const std::vector<int>& shape);

}  // namespace flowaction
