#include "engine/layer.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "engine/overload.hpp"

namespace flowaction {

bool SymbolTable::selects(int layer_number, const std::string& field) const {
  return selected_.count(fmt::format("layer{}.{}", layer_number, field)) > 0;
}

const GiNaC::realsymbol& SymbolTable::symbol(const std::string& name, const std::string& tex) {
  auto it = symbols_.find(name);
  // Braced, so that GiNaC's LaTeX of a power (x^{2}) is never a double superscript.
  if (it == symbols_.end())
    it = symbols_.emplace(name, GiNaC::realsymbol(name, "{" + tex + "}")).first;
  return it->second;
}

namespace {

// The entry indices of a flat position: {} for a scalar, {i} or {i, j}.
std::vector<std::size_t> entry_indices(const Tensor& t, std::size_t flat_index) {
  if (t.shape.size() == 1) return {flat_index};
  if (t.shape.size() == 2) {
    const auto cols = static_cast<std::size_t>(t.shape[1]);
    return {flat_index / cols, flat_index % cols};
  }
  return {};
}

}  // namespace

std::string weight_name(const Tensor& t, int layer_number, std::size_t flat_index) {
  std::string name = fmt::format("{}_{}", t.name, layer_number);
  for (std::size_t i : entry_indices(t, flat_index)) name += fmt::format("_{}", i);
  return name;
}

std::string weight_tex(const Tensor& t, std::string_view stem, int layer_number,
                       std::size_t flat_index) {
  const auto idx = entry_indices(t, flat_index);
  std::string tex = fmt::format("{}^{{({})}}", stem, layer_number);
  if (idx.empty()) return tex;
  // Single digits run together (W_{01}); larger indices are separated (W_{10,2}).
  const bool short_indices =
      std::all_of(idx.begin(), idx.end(), [](std::size_t i) { return i < 10; });
  std::string sub;
  for (std::size_t k = 0; k < idx.size(); ++k)
    sub += (k && !short_indices ? "," : "") + std::to_string(idx[k]);
  return tex + "_{" + sub + "}";
}

template <Field T>
T derivative(const Polynomial<T>& c, int m, const T& u) {
  // At u = 0 only c_m m! is left. Horner would form (c_k k!/(k−m)!)·0 for the higher terms, which
  // in double is NaN once such a coefficient overflows (α = 1e308: 2α = inf), making φ′ = NaN.
  if (vanishes(u)) {
    if (m >= static_cast<int>(c.size())) return T(0);
    T f = from_int<T>(1);
    for (int t = 2; t <= m; ++t) f *= from_int<T>(t);
    return c[m] * f;
  }
  // Horner on Σ_{k≥m} c_k k!/(k−m)! u^{k−m}.
  T r(0);
  for (int k = static_cast<int>(c.size()) - 1; k >= m; --k) {
    T f = from_int<T>(1);
    for (int t = k - m + 1; t <= k; ++t) f *= from_int<T>(t);
    r = r * u + c[k] * f;
  }
  return r;
}

namespace {

// Builds one layer's map in field T: weights become symbols where the table selects them.
template <Field T>
struct Instantiate {
  const LayerSpec& spec;
  int dim;
  int number;  // 1-based layer number
  SymbolTable* symbols;

  T weight(const Tensor& t, std::size_t i) const {
    if (symbols && symbols->selects(number, t.name)) {
      const FieldSpec* f = spec.field(t.name);
      return field_traits<T>::weight(
          t.values[i], &symbols->symbol(weight_name(t, number, i),
                                        weight_tex(t, f ? f->tex : t.name, number, i)));
    }
    return field_traits<T>::weight(t.values[i], nullptr);
  }
  // n entries; an omitted bias is zero, a scalar is broadcast.
  std::vector<T> weights(const Tensor& t, std::size_t n) const {
    std::vector<T> v(n, T(0));
    for (std::size_t i = 0; i < n && !t.empty(); ++i) v[i] = weight(t, t.size() == 1 ? 0 : i);
    return v;
  }
  std::vector<Polynomial<T>> polynomials(const Tensor& phi, int rows) const {
    std::vector<Polynomial<T>> out(static_cast<std::size_t>(rows));
    const int p = act_degree(phi);
    for (int r = 0; r < rows; ++r) {
      Polynomial<T>& c = out[r];
      c.assign(static_cast<std::size_t>(p) + 1, T(0));
      for (const ActCoefficient& a : act_coefficients(phi, r))
        c[a.power] =
            a.value_index < 0 ? T(1) : weight(phi, static_cast<std::size_t>(a.value_index));
    }
    return out;
  }

  LayerMap<T> operator()(const AffineLayer& a) const {
    const auto d = static_cast<std::size_t>(dim);
    return AffineMap<T>{dim, weights(a.W, d * d), weights(a.b, d)};
  }
  LayerMap<T> operator()(const ActivationLayer& a) const {
    return ActivationMap<T>{polynomials(a.phi(), dim)};
  }
  LayerMap<T> operator()(const CouplingLayer& c) const {
    CouplingMap<T> m;
    m.A = c.units(false);
    m.B = c.units(true);
    m.hidden = c.hidden();
    const auto h = static_cast<std::size_t>(m.hidden);
    m.W1 = weights(c.W1, h * m.A.size());
    m.b1 = weights(c.b1, h);
    m.phi = polynomials(c.phi(), m.hidden);
    m.W2 = weights(c.W2, m.B.size() * h);
    m.b2 = weights(c.b2, m.B.size());
    return m;
  }
  LayerMap<T> operator()(const ActNormLayer& a) const {
    const auto d = static_cast<std::size_t>(dim);
    return ActNormMap<T>{weights(a.scale, d), weights(a.shift, d)};
  }
};

}  // namespace

template <Field T>
std::vector<LayerMap<T>> instantiate(const Model& model, SymbolTable* symbols) {
  std::vector<LayerMap<T>> out;
  int number = 0;
  for (const Layer& layer : model.layers)
    out.push_back(std::visit(Instantiate<T>{spec_of(layer), model.dim, ++number, symbols}, layer));
  return out;
}

template <Field T>
std::vector<T> coupling_preactivation(const CouplingMap<T>& c, const std::vector<T>& y) {
  std::vector<T> u(c.b1);
  for (int h = 0; h < c.hidden; ++h)
    for (std::size_t a = 0; a < c.A.size(); ++a) u[h] += c.W1[h * c.A.size() + a] * y[c.A[a]];
  return u;
}

template <Field T>
std::vector<T> forward(const LayerMap<T>& layer, const std::vector<T>& y) {
  const std::size_t d = y.size();
  return std::visit(overload{
                        [&](const AffineMap<T>& a) {
                          std::vector<T> z(a.b);
                          for (std::size_t i = 0; i < d; ++i)
                            for (std::size_t j = 0; j < d; ++j) z[i] += a.W[i * d + j] * y[j];
                          return z;
                        },
                        [&](const ActivationMap<T>& s) {
                          std::vector<T> z(d);
                          for (std::size_t i = 0; i < d; ++i) z[i] = derivative(s.phi[i], 0, y[i]);
                          return z;
                        },
                        [&](const CouplingMap<T>& c) {
                          const std::vector<T> u = coupling_preactivation(c, y);
                          std::vector<T> z(y);
                          for (std::size_t b = 0; b < c.B.size(); ++b) {
                            T shift = c.b2[b];
                            for (int h = 0; h < c.hidden; ++h)
                              shift += c.W2[b * c.hidden + h] * derivative(c.phi[h], 0, u[h]);
                            z[c.B[b]] += shift;
                          }
                          return z;
                        },
                        [&](const ActNormMap<T>& a) {
                          std::vector<T> z(d);
                          for (std::size_t i = 0; i < d; ++i) z[i] = a.s[i] * y[i] + a.t[i];
                          return z;
                        },
                    },
                    layer);
}

template <Field T>
Jet<T> jet(const LayerMap<T>& layer, const std::vector<T>& y0, int K) {
  const int d = static_cast<int>(y0.size());
  const auto ud = static_cast<std::size_t>(d);
  return std::visit(
      overload{
          [&](const AffineMap<T>& a) -> Jet<T> {
            return LinearJet<T>{d, a.W};
          },
          [&](const ActivationMap<T>& s) -> Jet<T> {
            // Rings use G⁽ᵐ⁺¹⁾ with m ≤ K legs.
            int p = 1;
            for (const auto& phi : s.phi) p = std::max(p, static_cast<int>(phi.size()) - 1);
            DiagonalJet<T> j{d, std::min(p, K + 1), {}};
            j.D.assign(ud, std::vector<T>(static_cast<std::size_t>(j.degree) + 1, T(0)));
            for (std::size_t i = 0; i < ud; ++i)
              for (int m = 1; m <= j.degree; ++m) j.D[i][m] = derivative(s.phi[i], m, y0[i]);
            return j;
          },
          [&](const CouplingMap<T>& c) -> Jet<T> {
            // No rings: trees use G⁽ᵐ⁾ with m ≤ K.
            int p = 1;
            for (const auto& phi : c.phi) p = std::max(p, static_cast<int>(phi.size()) - 1);
            RankOneJet<T> j;
            j.dim = d;
            j.hidden = c.hidden;
            j.A = c.A;
            j.B = c.B;
            j.degree = std::max(1, std::min(p, K));
            const auto H = static_cast<std::size_t>(c.hidden);
            const std::vector<T> u0 = coupling_preactivation(c, y0);
            j.v.assign(H * ud, T(0));
            j.w.assign(H * ud, T(0));
            j.phi.assign(H, std::vector<T>(static_cast<std::size_t>(j.degree) + 1, T(0)));
            for (std::size_t h = 0; h < H; ++h) {
              for (std::size_t k = 0; k < c.A.size(); ++k)
                j.w[h * ud + c.A[k]] = c.W1[h * c.A.size() + k];
              for (std::size_t b = 0; b < c.B.size(); ++b) j.v[h * ud + c.B[b]] = c.W2[b * H + h];
              for (int m = 0; m <= j.degree; ++m) j.phi[h][m] = derivative(c.phi[h], m, u0[h]);
            }
            j.G1.assign(ud * ud, T(0));
            for (std::size_t i = 0; i < ud; ++i) j.G1[i * ud + i] = T(1);
            for (std::size_t h = 0; h < H; ++h)
              for (std::size_t i = 0; i < ud; ++i) {
                const T a = j.phi[h][1] * j.v[h * ud + i];
                if (!vanishes(a))
                  for (std::size_t k = 0; k < ud; ++k) j.G1[i * ud + k] += a * j.w[h * ud + k];
              }
            return j;
          },
          [&](const ActNormMap<T>& a) -> Jet<T> {
            DiagonalJet<T> j{d, 1, {}};
            for (std::size_t i = 0; i < ud; ++i) j.D.push_back({T(0), a.s[i]});
            return j;
          },
      },
      layer);
}

#define FLOWACTION_INSTANTIATE(T)                                               \
  template T derivative(const Polynomial<T>&, int, const T&);                   \
  template std::vector<LayerMap<T>> instantiate<T>(const Model&, SymbolTable*); \
  template std::vector<T> forward(const LayerMap<T>&, const std::vector<T>&);   \
  template Jet<T> jet(const LayerMap<T>&, const std::vector<T>&, int);          \
  template std::vector<T> coupling_preactivation(const CouplingMap<T>&, const std::vector<T>&);
FLOWACTION_FIELDS(FLOWACTION_INSTANTIATE)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
