#include "frontends/train_flow.hpp"

#include <fmt/format.h>

#include "engine/error.hpp"
#include "engine/model.hpp"
#include "engine/overload.hpp"
#include "frontends/exact_json.hpp"
#include "frontends/manifest.hpp"
#include "frontends/manifest_writer.hpp"

namespace flowaction {

namespace {

struct Where {
  const Model& model;
  std::size_t layer;
  [[noreturn]] void fail(std::string_view field, std::string_view what) const {
    throw Error(fmt::format("{}: layer {} ({}): field '{}': {}", model.source, layer + 1,
                            layer_type_name(model.layers[layer]), field, what));
  }
};

train::Vector vector_of(const Tensor& t, Eigen::Index n) {
  train::Vector v = train::Vector::Zero(n);  // an absent bias is zero
  if (t.empty()) return v;
  if (t.shape.empty()) return train::Vector::Constant(n, t.values[0].to_double());
  for (Eigen::Index i = 0; i < n; ++i) v[i] = t.values[static_cast<std::size_t>(i)].to_double();
  return v;
}

train::Matrix matrix_of(const Tensor& t) {
  train::Matrix m(t.shape.at(0), t.shape.at(1));
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c)
      m(r, c) = t.values[static_cast<std::size_t>(r * m.cols() + c)].to_double();
  return m;
}

// φ of n units from "alpha" (quadratic) or "coeffs" of u + αu² or u + αu³ (c₁ = 1).
void read_phi(const Where& w, const Tensor& phi, Eigen::Index n, train::activation_kind& kind,
              train::Vector& alpha) {
  if (phi.name == "alpha") {
    kind = train::activation_kind::quadratic;
    alpha = vector_of(phi, n);
    return;
  }
  const int p = act_degree(phi);
  const Eigen::Index rows = phi.shape.size() == 2 ? n : 1;
  auto c = [&](Eigen::Index r, int k) -> const GiNaC::numeric& {
    return phi.values[static_cast<std::size_t>(r * p + k - 1)];
  };
  // Which powers appear decides the kind; mixing u² and u³ is not a layer this trainer knows.
  bool has2 = false, has3 = false;
  for (Eigen::Index r = 0; r < rows; ++r) {
    bool higher = false;
    for (int k = 4; k <= p; ++k) higher = higher || !c(r, k).is_zero();
    if (c(r, 1) != 1 || higher)
      w.fail("coeffs", "generate supports phi(u) = u + alpha u^2 or u + alpha u^3 only (c1 = 1)");
    has2 = has2 || (p >= 2 && !c(r, 2).is_zero());
    has3 = has3 || (p >= 3 && !c(r, 3).is_zero());
  }
  if (has2 && has3)
    w.fail("coeffs",
           "mixes u^2 and u^3 terms; generate supports u + alpha u^2 or u + alpha u^3 only");
  kind = has2 ? train::activation_kind::quadratic : train::activation_kind::cubic;
  const int power = has2 ? 2 : 3;
  alpha.resize(n);
  for (Eigen::Index i = 0; i < n; ++i)
    alpha[i] = p >= power ? c(rows == 1 ? 0 : i, power).to_double() : 0.0;
}

// A double as the exact value of its shortest round-trip decimal.
GiNaC::numeric decimal_of(double x) {
  if (!std::isfinite(x)) throw Error("cannot write a model with a non-finite weight");
  return parse_decimal(fmt::format("{}", x));
}

Tensor tensor_of(std::string name, const train::Matrix& m) {
  Tensor t{std::move(name), {static_cast<int>(m.rows()), static_cast<int>(m.cols())}, {}};
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) t.values.push_back(decimal_of(m(r, c)));
  return t;
}

Tensor tensor_of(std::string name, const train::Vector& v) {
  Tensor t{std::move(name), {static_cast<int>(v.size())}, {}};
  for (Eigen::Index i = 0; i < v.size(); ++i) t.values.push_back(decimal_of(v[i]));
  return t;
}

// φ as the manifest holds it, the same way for both kinds: per-unit "coeffs" [1, α] for
// quadratic and [1, 0, α] for cubic layers ("alpha" is left empty).
void phi_of(train::activation_kind kind, const train::Vector& alpha, Tensor& alpha_field,
            Tensor& coeffs_field) {
  const bool quadratic = kind == train::activation_kind::quadratic;
  alpha_field = Tensor{"alpha", {}, {}};
  coeffs_field = Tensor{"coeffs", {static_cast<int>(alpha.size()), quadratic ? 2 : 3}, {}};
  for (Eigen::Index i = 0; i < alpha.size(); ++i) {
    coeffs_field.values.push_back(1);
    if (!quadratic) coeffs_field.values.push_back(0);
    coeffs_field.values.push_back(decimal_of(alpha[i]));
  }
}

}  // namespace

train::Flow to_train_flow(const Model& model) {
  train::Flow f;
  f.dim = model.dim;
  const Eigen::Index d = model.dim;
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const Where w{model, l};
    f.layers.push_back(std::visit(
        overload{
            [&](const AffineLayer& a) -> train::Layer {
              return train::AffineLayer{matrix_of(a.W), vector_of(a.b, d)};
            },
            [&](const ActivationLayer& s) -> train::Layer {
              train::ActivationLayer t;
              read_phi(w, s.phi(), d, t.kind, t.alpha);
              if (t.kind == train::activation_kind::cubic && t.alpha.minCoeff() < 0)
                w.fail(s.phi().name, "u + alpha u^3 with alpha < 0 is not invertible");
              t.theta = t.alpha;
              return t;
            },
            [&](const CouplingLayer& c) -> train::Layer {
              train::CouplingLayer t;
              std::vector<int> mask;
              for (const auto& m : c.mask.values) mask.push_back(m.is_zero() ? 0 : 1);
              t.set_mask(mask);
              t.W1 = matrix_of(c.W1);
              t.b1 = vector_of(c.b1, t.W1.rows());
              read_phi(w, c.phi(), t.W1.rows(), t.kind, t.alpha);
              t.W2 = matrix_of(c.W2);
              t.b2 = vector_of(c.b2, t.W2.rows());
              return t;
            },
            [&](const ActNormLayer& a) -> train::Layer {
              const train::Vector s = vector_of(a.scale, d);
              for (Eigen::Index i = 0; i < d; ++i)
                if (!(s[i] > 0))
                  w.fail("scale", fmt::format("unit {}: scale {} <= 0; the trainer's ActNorm has "
                                              "positive scales (a sign flip belongs in an affine "
                                              "layer)",
                                              i, s[i]));
              return train::ActNormLayer(s, vector_of(a.shift, d));
            },
        },
        model.layers[l]));
  }
  return f;
}

Model to_model(const train::Flow& flow, const std::string& source) {
  Model m;
  m.dim = flow.dim;
  m.source = source;
  for (const train::Layer& layer : flow.layers)
    m.layers.push_back(std::visit(
        overload{
            [](const train::AffineLayer& a) -> Layer {
              return AffineLayer{tensor_of("W", a.W), tensor_of("b", a.b)};
            },
            [](const train::ActivationLayer& a) -> Layer {
              ActivationLayer out;
              phi_of(a.kind, a.alpha, out.alpha, out.coeffs);
              return out;
            },
            [](const train::CouplingLayer& c) -> Layer {
              CouplingLayer out;
              out.mask = Tensor{"mask", {static_cast<int>(c.mask.size())}, {}};
              for (int v : c.mask) out.mask.values.push_back(v);
              out.W1 = tensor_of("W1", c.W1);
              out.b1 = tensor_of("b1", c.b1);
              phi_of(c.kind, c.alpha, out.alpha, out.coeffs);
              out.W2 = tensor_of("W2", c.W2);
              out.b2 = tensor_of("b2", c.b2);
              return out;
            },
            // The scale the map uses (exp θ, synced), not θ: the manifest holds the layer map.
            [](const train::ActNormLayer& a) -> Layer {
              return ActNormLayer{tensor_of("scale", a.scale), tensor_of("shift", a.shift)};
            },
        },
        layer));
  return m;
}

train::Flow read_train_flow(const std::filesystem::path& path) {
  return to_train_flow(read_manifest(path));
}

train::Flow parse_train_flow(std::string_view text, const std::string& source) {
  return to_train_flow(parse_manifest(text, source));
}

std::string manifest_json(const train::Flow& flow) {
  return manifest_json(to_model(flow));
}

}  // namespace flowaction
