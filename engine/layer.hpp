// The layers of a model with their weights in a coefficient field: the maps z = f(y) of
// DESIGN §3, their forward pass, and the Taylor data (jets) the pullback contracts.
#pragma once

#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "engine/field.hpp"
#include "engine/model.hpp"

namespace flowaction {

// Which weights stay symbols in the symbolic field: "layerN.FIELD" selects every entry of that
// field of layer N (numbered from 1). Entry names: FIELD_N then _i per index (alpha_2,
// alpha_2_0, W_1_0_1, W1_4_0_1).
class SymbolTable {
 public:
  SymbolTable() = default;
  explicit SymbolTable(std::set<std::string> selected) : selected_(std::move(selected)) {}
  bool selects(int layer_number, const std::string& field) const;
  const GiNaC::realsymbol& symbol(const std::string& name);
  const std::map<std::string, GiNaC::realsymbol>& symbols() const { return symbols_; }

 private:
  std::set<std::string> selected_;
  std::map<std::string, GiNaC::realsymbol> symbols_;
};

std::string weight_name(const Tensor& t, int layer_number, std::size_t flat_index);

// A unit's polynomial φ(u) = Σ_k c[k] u^k (c[0] = 0).
template <class T>
using Polynomial = std::vector<T>;

// φ⁽ᵐ⁾(u).
template <class T>
T derivative(const Polynomial<T>& c, int m, const T& u);

template <class T>
struct AffineMap {
  int dim = 0;
  std::vector<T> W;  // dim×dim row-major: W[i*dim + j] = ∂zᵢ/∂yⱼ
  std::vector<T> b;
};

template <class T>
struct ActivationMap {
  std::vector<Polynomial<T>> phi;  // one per unit
};

template <class T>
struct CouplingMap {
  std::vector<int> A, B;  // units that pass, units that are shifted
  int hidden = 0;
  std::vector<T> W1, b1;           // hidden×|A|, hidden
  std::vector<Polynomial<T>> phi;  // one per hidden unit
  std::vector<T> W2, b2;           // |B|×hidden, |B|
};

template <class T>
using LayerMap = std::variant<AffineMap<T>, ActivationMap<T>, CouplingMap<T>>;

// The model's layers in field T; with a SymbolTable, the selected weights become its symbols.
template <class T>
std::vector<LayerMap<T>> instantiate(const Model& model, SymbolTable* symbols = nullptr);

// det W of an affine layer (exact rationals or expressions).
GiNaC::ex determinant(const AffineMap<GiNaC::ex>& a);

// z = f(y).
template <class T>
std::vector<T> forward(const LayerMap<T>& layer, const std::vector<T>& y);

// The hidden pre-activations W1 y_A + b1 of a coupling layer.
template <class T>
std::vector<T> coupling_preactivation(const CouplingMap<T>& c, const std::vector<T>& y);

}  // namespace flowaction
