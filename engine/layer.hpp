// The layers of a model with their weights in a coefficient field: the maps z = f(y) of
// DESIGN §3, their forward pass, and their jets at a point (engine/jet.hpp), which is all the
// pullback knows of them.
#pragma once

#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "engine/field.hpp"
#include "engine/jet.hpp"
#include "engine/model.hpp"

namespace flowaction {

// Which weights stay symbols in the symbolic field: "layerN.FIELD" selects every entry of that
// field of layer N (numbered from 1). Entry names: FIELD_N then _i per index (alpha_2,
// alpha_2_0, W_1_0_1, W1_4_0_1); TeX names \alpha^{(2)}_{0}, W^{(1)}_{01}.
class SymbolTable {
 public:
  SymbolTable() = default;
  explicit SymbolTable(std::set<std::string> selected) : selected_(std::move(selected)) {}
  bool selects(int layer_number, const std::string& field) const;
  const GiNaC::realsymbol& symbol(const std::string& name, const std::string& tex);
  const std::map<std::string, GiNaC::realsymbol>& symbols() const { return symbols_; }

 private:
  std::set<std::string> selected_;
  std::map<std::string, GiNaC::realsymbol> symbols_;
};

// The plain and the TeX name of one weight entry.
std::string weight_name(const Tensor& t, int layer_number, std::size_t flat_index);
std::string weight_tex(const Tensor& t, std::string_view stem, int layer_number,
                       std::size_t flat_index);

// A unit's polynomial φ(u) = Σ_k c[k] u^k (c[0] = 0).
template <Field T>
using Polynomial = std::vector<T>;

// φ⁽ᵐ⁾(u).
template <Field T>
T derivative(const Polynomial<T>& c, int m, const T& u);

template <Field T>
struct AffineMap {
  int dim = 0;
  std::vector<T> W;  // dim×dim row-major: W[i*dim + j] = ∂zᵢ/∂yⱼ
  std::vector<T> b;
};

template <Field T>
struct ActivationMap {
  std::vector<Polynomial<T>> phi;  // one per unit
};

template <Field T>
struct CouplingMap {
  std::vector<int> A, B;  // units that pass, units that are shifted
  int hidden = 0;
  std::vector<T> W1, b1;           // hidden×|A|, hidden
  std::vector<Polynomial<T>> phi;  // one per hidden unit
  std::vector<T> W2, b2;           // |B|×hidden, |B|
};

template <Field T>
struct ActNormMap {
  std::vector<T> s, t;  // zᵢ = sᵢ yᵢ + tᵢ
};

// One alternative per layer type, in the order of flowaction::Layer.
template <Field T>
using LayerMap = std::variant<AffineMap<T>, ActivationMap<T>, CouplingMap<T>, ActNormMap<T>>;

// The model's layers in field T; with a SymbolTable, the selected weights become its symbols.
template <Field T>
std::vector<LayerMap<T>> instantiate(const Model& model, SymbolTable* symbols = nullptr);

// z = f(y).
template <Field T>
std::vector<T> forward(const LayerMap<T>& layer, const std::vector<T>& y);

// The jet of the layer at y₀ up to the derivatives an order-K pullback uses (G⁽ᵐ⁾, m ≤ K + 1).
template <Field T>
Jet<T> jet(const LayerMap<T>& layer, const std::vector<T>& y0, int K);

// The hidden pre-activations W1 y_A + b1 of a coupling layer.
template <Field T>
std::vector<T> coupling_preactivation(const CouplingMap<T>& c, const std::vector<T>& y);

}  // namespace flowaction
