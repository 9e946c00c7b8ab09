#include "engine/model.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace flowaction {

namespace {

constexpr FieldSpec affine_fields[] = {
    {"W", presence::required, true, "d x d, row = output unit", "W"},
    {"b", presence::zero_if_absent, true, "d (absent: zero)", "b"},
};
constexpr FieldSpec activation_fields[] = {
    {"alpha", presence::one_of, true, "scalar or d: phi(u) = u + alpha u^2", "\\alpha"},
    {"coeffs", presence::one_of, true, "[c1, c2, ...] shared, or d x p (one row per unit), c1 != 0",
     "c"},
};
constexpr FieldSpec coupling_fields[] = {
    {"mask", presence::required, false, "d entries 0 (passing, A) or 1 (shifted, B)", "m"},
    {"W1", presence::required, true, "hidden x |A|", "{W_1}"},
    {"b1", presence::zero_if_absent, true, "hidden (absent: zero)", "{b_1}"},
    {"alpha", presence::one_of, true, "scalar or hidden: phi(u) = u + alpha u^2", "\\alpha"},
    {"coeffs", presence::one_of, true, "[c1, c2, ...] shared, or hidden x p, c1 != 0", "c"},
    {"W2", presence::required, true, "|B| x hidden", "{W_2}"},
    {"b2", presence::zero_if_absent, true, "|B| (absent: zero)", "{b_2}"},
};
constexpr FieldSpec actnorm_fields[] = {
    {"scale", presence::required, true, "d, nonzero", "s"},
    {"shift", presence::zero_if_absent, true, "d (absent: zero)", "t"},
};

}  // namespace

const LayerSpec AffineLayer::spec{
    "affine",
    "z = W y + b",
    "-ln|det W| (constant)",
    jet_structure::linear,
    1,
    affine_fields,
    "$G^{(1)}_{a;\\,j} = W_{aj}$ and nothing else: every leg passes, and the Jacobian is the "
    "constant $-\\ln|\\det W|$ in $\\Gamma'^{(0)}$."};
const LayerSpec ActivationLayer::spec{"activation",
                                      "z_i = phi_i(y_i), phi(u) = u + alpha u^2 or sum_k c_k u^k",
                                      "-sum_i ln phi_i'(y_i) (rings)",
                                      jet_structure::diagonal,
                                      0,
                                      activation_fields,
                                      "$G^{(m)}_{a;\\,j_1\\dots j_m} = \\varphi_a^{(m)}(y_{0a})\\,"
                                      "\\delta_{aj_1}\\cdots\\delta_{aj_m}$: a leg passes or "
                                      "splits within its unit, and the rings sit on the "
                                      "diagonal."};
const LayerSpec CouplingLayer::spec{
    "coupling",
    "z_A = y_A, z_B = y_B + W2 phi(W1 y_A + b1) + b2 (A: mask 0, B: mask 1)",
    "0 (volume preserving)",
    jet_structure::rank_one,
    0,
    coupling_fields,
    "$G^{(m)}_{i;\\,j_1\\dots j_m} = \\sum_h (W_2)_{ih}\\,\\varphi_h^{(m)}(u_{0h})\\,"
    "(W_1)_{hj_1}\\cdots(W_1)_{hj_m}$ for $i \\in B$, $j \\in A$ (plus $\\delta_{ij}$ in "
    "$G^{(1)}$): only legs in $B$ split, into legs in $A$; the Jacobian is triangular, so there "
    "are no rings."};
const LayerSpec ActNormLayer::spec{"actnorm",
                                   "z_i = s_i y_i + t_i (Glow's ActNorm)",
                                   "-sum_i ln|s_i| (constant)",
                                   jet_structure::diagonal,
                                   1,
                                   actnorm_fields,
                                   "$G^{(1)}_{a;\\,j} = s_a\\,\\delta_{aj}$ and nothing else: "
                                   "every leg passes, and the Jacobian is the constant "
                                   "$-\\sum_a \\ln|s_a|$ in $\\Gamma'^{(0)}$."};

const FieldSpec* LayerSpec::field(std::string_view name) const {
  for (const FieldSpec& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

namespace {

template <class... L>
constexpr std::array<const LayerSpec*, sizeof...(L)> specs_of(std::variant<L...>*) {
  return {&L::spec...};
}
const auto registry = specs_of(static_cast<Layer*>(nullptr));

template <std::size_t I = 0>
Layer make_layer_at(std::size_t index) {
  if constexpr (I < std::variant_size_v<Layer>) {
    if (index == I) return Layer(std::in_place_index<I>);
    return make_layer_at<I + 1>(index);
  } else {
    throw std::invalid_argument("make_layer: no such layer type");
  }
}

using problem = std::optional<LayerProblem>;

problem fail(std::string_view field, std::string problem_text) {
  return LayerProblem{std::string(field), std::move(problem_text)};
}

problem expect_shape(const Tensor& t, const std::vector<int>& shape) {
  if (t.empty() || t.shape == shape) return {};
  return fail(t.name, fmt::format("expected {}, got {}", shape_text(shape), shape_text(t.shape)));
}

// φ from "alpha" (a scalar or one per row) or "coeffs" (shared, or one row per row).
problem check_phi(const Tensor& alpha, const Tensor& coeffs, int rows, const char* rows_name) {
  if (alpha.empty() == coeffs.empty()) return fail("", "give exactly one of 'alpha' and 'coeffs'");
  if (!alpha.empty()) {
    if (!alpha.shape.empty() && alpha.shape != std::vector<int>{rows})
      return fail("alpha", fmt::format("expected a scalar or one value per {} ({}), got {}",
                                       rows_name, rows, shape_text(alpha.shape)));
    return {};
  }
  const auto& s = coeffs.shape;
  if (s.size() > 2 || (s.size() == 2 && s[0] != rows))
    return fail("coeffs", fmt::format("expected a vector or one row per {} ({} rows), got {}",
                                      rows_name, rows, shape_text(s)));
  const int p = act_degree(coeffs);
  const int n_rows = s.size() == 2 ? rows : 1;
  for (int r = 0; r < n_rows; ++r)
    if (coeffs.values[static_cast<std::size_t>(r * p)].is_zero())
      return fail("coeffs",
                  fmt::format("c1 = 0{}: phi must have a nonzero linear term to be invertible",
                              n_rows > 1 ? fmt::format(" in row {}", r) : ""));
  return {};
}

problem check(const AffineLayer& a, int d) {
  if (auto p = expect_shape(a.W, {d, d})) return p;
  return expect_shape(a.b, {d});
}

problem check(const ActivationLayer& a, int d) {
  return check_phi(a.alpha, a.coeffs, d, "unit");
}

problem check(const CouplingLayer& c, int d) {
  if (auto p = expect_shape(c.mask, {d})) return p;
  int nb = 0;
  for (const auto& m : c.mask.values) {
    if (!(m.is_zero() || m == 1))
      return fail("mask", fmt::format("entries must be 0 or 1, found {}", m.to_double()));
    nb += m.is_zero() ? 0 : 1;
  }
  if (nb == 0 || nb == d)
    return fail("mask", fmt::format("leaves the {} set empty: a coupling needs units that pass (0) "
                                    "and units that are shifted (1)",
                                    nb == 0 ? "shifted (1)" : "passing (0)"));
  const int na = d - nb;
  if (c.W1.shape.size() != 2 || c.W1.shape[1] != na)
    return fail(
        "W1", fmt::format("expected a hidden x {} matrix (one column per unit with mask 0), got {}",
                          na, shape_text(c.W1.shape)));
  const int hidden = c.W1.shape[0];
  if (auto p = expect_shape(c.b1, {hidden})) return p;
  if (auto p = check_phi(c.alpha, c.coeffs, hidden, "hidden unit")) return p;
  if (auto p = expect_shape(c.W2, {nb, hidden})) return p;
  return expect_shape(c.b2, {nb});
}

problem check(const ActNormLayer& a, int d) {
  if (auto p = expect_shape(a.scale, {d})) return p;
  return expect_shape(a.shift, {d});
}

}  // namespace

std::span<const LayerSpec* const> layer_specs() {
  return registry;
}

const LayerSpec* find_layer_spec(std::string_view type) {
  for (const LayerSpec* s : registry)
    if (s->type == type) return s;
  return nullptr;
}

const LayerSpec& spec_of(const Layer& layer) {
  return *registry[layer.index()];
}

std::string layer_type_name(const Layer& layer) {
  return std::string(spec_of(layer).type);
}

Layer make_layer(std::string_view type) {
  for (std::size_t i = 0; i < registry.size(); ++i)
    if (registry[i]->type == type) return make_layer_at(i);
  throw std::invalid_argument(fmt::format("unknown layer type \"{}\"", type));
}

std::vector<const Tensor*> tensors_of(const Layer& layer) {
  return std::visit(
      [](const auto& l) {
        const auto t = l.tensors();
        return std::vector<const Tensor*>(t.begin(), t.end());
      },
      layer);
}

std::vector<Tensor*> tensors_of(Layer& layer) {
  return std::visit(
      [](auto& l) {
        const auto t = l.tensors();
        return std::vector<Tensor*>(t.begin(), t.end());
      },
      layer);
}

std::optional<LayerProblem> check_layer(const Layer& layer, int dim) {
  const LayerSpec& spec = spec_of(layer);
  const auto tensors = tensors_of(layer);
  for (std::size_t f = 0; f < tensors.size(); ++f)
    if (spec.fields[f].given == presence::required && tensors[f]->empty())
      return fail(spec.fields[f].name, "missing");
  return std::visit([dim](const auto& l) { return check(l, dim); }, layer);
}

std::vector<int> CouplingLayer::units(bool shifted) const {
  std::vector<int> u;
  for (std::size_t i = 0; i < mask.values.size(); ++i)
    if (mask.values[i].is_zero() != shifted) u.push_back(static_cast<int>(i));
  return u;
}

int act_degree(const Tensor& phi) {
  if (phi.name == "alpha") return 2;
  return phi.shape.empty() ? 1 : phi.shape.back();
}

std::vector<ActCoefficient> act_coefficients(const Tensor& phi, int row) {
  std::vector<ActCoefficient> c;
  if (phi.name == "alpha") {
    c.push_back({1, -1});
    c.push_back({2, phi.shape.empty() ? 0 : row});
    return c;
  }
  const int p = act_degree(phi);
  const int base = phi.shape.size() == 2 ? row * p : 0;
  for (int k = 1; k <= p; ++k) c.push_back({k, base + k - 1});
  return c;
}

std::string shape_text(const std::vector<int>& shape) {
  if (shape.empty()) return "a scalar";
  if (shape.size() == 1) return fmt::format("a vector of length {}", shape[0]);
  if (shape.size() == 2) return fmt::format("a {}x{} matrix", shape[0], shape[1]);
  return fmt::format("an array of shape ({})", fmt::join(shape, ", "));
}

}  // namespace flowaction
