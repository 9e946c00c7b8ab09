#include "engine/layer.hpp"

#include <fmt/format.h>

namespace flowaction {

bool SymbolTable::selects(int layer_number, const std::string& field) const {
  return selected_.count(fmt::format("layer{}.{}", layer_number, field)) > 0;
}

const GiNaC::realsymbol& SymbolTable::symbol(const std::string& name) {
  auto it = symbols_.find(name);
  if (it == symbols_.end()) it = symbols_.emplace(name, GiNaC::realsymbol(name)).first;
  return it->second;
}

std::string weight_name(const Tensor& t, int layer_number, std::size_t flat_index) {
  std::string name = fmt::format("{}_{}", t.name, layer_number);
  if (t.shape.size() == 1) name += fmt::format("_{}", flat_index);
  if (t.shape.size() == 2) {
    const auto cols = static_cast<std::size_t>(t.shape[1]);
    name += fmt::format("_{}_{}", flat_index / cols, flat_index % cols);
  }
  return name;
}

template <class T>
T derivative(const Polynomial<T>& c, int m, const T& u) {
  // Horner on Σ_{k≥m} c_k k!/(k−m)! u^{k−m}.
  T r(0);
  for (int k = static_cast<int>(c.size()) - 1; k >= m; --k) {
    T f(1);
    for (int t = k - m + 1; t <= k; ++t) f *= T(t);
    r = r * u + c[k] * f;
  }
  return r;
}

namespace {

template <class T>
T weight(const Tensor& t, std::size_t i, int layer_number, SymbolTable* symbols) {
  if constexpr (std::is_same_v<T, GiNaC::ex>) {
    if (symbols && symbols->selects(layer_number, t.name))
      return symbols->symbol(weight_name(t, layer_number, i));
  }
  return from_rational<T>(t.values[i]);
}

template <class T>
std::vector<T> weights(const Tensor& t, int layer_number, SymbolTable* symbols, std::size_t n) {
  std::vector<T> v(n, T(0));  // an omitted bias is zero
  for (std::size_t i = 0; i < t.size() && i < n; ++i) v[i] = weight<T>(t, i, layer_number, symbols);
  return v;
}

template <class T>
std::vector<Polynomial<T>> polynomials(const Tensor& act, int rows, int layer_number,
                                       SymbolTable* symbols) {
  std::vector<Polynomial<T>> phi(static_cast<std::size_t>(rows));
  const int p = act_degree(act);
  for (int r = 0; r < rows; ++r) {
    Polynomial<T>& c = phi[r];
    c.assign(static_cast<std::size_t>(p) + 1, T(0));
    for (const ActCoefficient& a : act_coefficients(act, r))
      c[a.power] = a.value_index < 0 ? T(1)
                                     : weight<T>(act, static_cast<std::size_t>(a.value_index),
                                                 layer_number, symbols);
  }
  return phi;
}

}  // namespace

template <class T>
std::vector<LayerMap<T>> instantiate(const Model& model, SymbolTable* symbols) {
  std::vector<LayerMap<T>> out;
  const int d = model.dim;
  const auto ud = static_cast<std::size_t>(d);
  int number = 0;
  for (const Layer& layer : model.layers) {
    ++number;
    if (const auto* a = std::get_if<AffineLayer>(&layer)) {
      out.emplace_back(AffineMap<T>{d, weights<T>(a->W, number, symbols, ud * ud),
                                    weights<T>(a->b, number, symbols, ud)});
    } else if (const auto* s = std::get_if<ActivationLayer>(&layer)) {
      out.emplace_back(ActivationMap<T>{polynomials<T>(s->act, d, number, symbols)});
    } else {
      const auto& c = std::get<CouplingLayer>(layer);
      CouplingMap<T> m;
      for (int i = 0; i < d; ++i) (c.mask[i] ? m.B : m.A).push_back(i);
      m.hidden = c.W1.shape.at(0);
      const auto h = static_cast<std::size_t>(m.hidden);
      m.W1 = weights<T>(c.W1, number, symbols, h * m.A.size());
      m.b1 = weights<T>(c.b1, number, symbols, h);
      m.phi = polynomials<T>(c.act, m.hidden, number, symbols);
      m.W2 = weights<T>(c.W2, number, symbols, m.B.size() * h);
      m.b2 = weights<T>(c.b2, number, symbols, m.B.size());
      out.emplace_back(std::move(m));
    }
  }
  return out;
}

GiNaC::ex determinant(const AffineMap<GiNaC::ex>& a) {
  const auto d = static_cast<unsigned>(a.dim);
  GiNaC::matrix W(d, d);
  for (unsigned i = 0; i < d; ++i)
    for (unsigned j = 0; j < d; ++j) W(i, j) = a.W[i * d + j];
  return W.determinant();
}

template <class T>
std::vector<T> coupling_preactivation(const CouplingMap<T>& c, const std::vector<T>& y) {
  std::vector<T> u(c.b1);
  for (int h = 0; h < c.hidden; ++h)
    for (std::size_t a = 0; a < c.A.size(); ++a) u[h] += c.W1[h * c.A.size() + a] * y[c.A[a]];
  return u;
}

template <class T>
std::vector<T> forward(const LayerMap<T>& layer, const std::vector<T>& y) {
  const std::size_t d = y.size();
  if (const auto* a = std::get_if<AffineMap<T>>(&layer)) {
    std::vector<T> z(a->b);
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = 0; j < d; ++j) z[i] += a->W[i * d + j] * y[j];
    return z;
  }
  if (const auto* s = std::get_if<ActivationMap<T>>(&layer)) {
    std::vector<T> z(d);
    for (std::size_t i = 0; i < d; ++i) z[i] = derivative(s->phi[i], 0, y[i]);
    return z;
  }
  const auto& c = std::get<CouplingMap<T>>(layer);
  const std::vector<T> u = coupling_preactivation(c, y);
  std::vector<T> z(y);
  for (std::size_t b = 0; b < c.B.size(); ++b) {
    T shift = c.b2[b];
    for (int h = 0; h < c.hidden; ++h)
      shift += c.W2[b * c.hidden + h] * derivative(c.phi[h], 0, u[h]);
    z[c.B[b]] += shift;
  }
  return z;
}

#define FLOWACTION_INSTANTIATE(T)                                               \
  template T derivative(const Polynomial<T>&, int, const T&);                   \
  template std::vector<LayerMap<T>> instantiate<T>(const Model&, SymbolTable*); \
  template std::vector<T> forward(const LayerMap<T>&, const std::vector<T>&);   \
  template std::vector<T> coupling_preactivation(const CouplingMap<T>&, const std::vector<T>&);
FLOWACTION_INSTANTIATE(double)
FLOWACTION_INSTANTIATE(GiNaC::ex)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
