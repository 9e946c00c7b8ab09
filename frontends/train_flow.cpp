#include "frontends/train_flow.hpp"

#include <fmt/format.h>

#include "engine/error.hpp"
#include "engine/model.hpp"
#include "frontends/manifest.hpp"

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
    for (Eigen::Index c = 0; c < m.cols(); ++c) m(r, c) = t.values[static_cast<std::size_t>(r * m.cols() + c)].to_double();
  return m;
}

// φ of n units from "alpha" (quadratic) or "coeffs" of u + αu² or u + αu³ (c₁ = 1).
void read_phi(const Where& w, const Tensor& act, Eigen::Index n, train::activation_kind& kind, train::Vector& alpha) {
  if (act.name == "alpha") {
    kind = train::activation_kind::quadratic;
    alpha = vector_of(act, n);
    return;
  }
  const int p = act_degree(act);
  const Eigen::Index rows = act.shape.size() == 2 ? n : 1;
  auto c = [&](Eigen::Index r, int k) -> const GiNaC::numeric& { return act.values[static_cast<std::size_t>(r * p + k - 1)]; };
  // Which powers appear decides the kind; mixing u² and u³ is not a layer this trainer knows.
  bool has2 = false, has3 = false;
  for (Eigen::Index r = 0; r < rows; ++r) {
    bool higher = false;
    for (int k = 4; k <= p; ++k) higher = higher || !c(r, k).is_zero();
    if (c(r, 1) != 1 || higher) w.fail("coeffs", "generate supports phi(u) = u + alpha u^2 or u + alpha u^3 only (c1 = 1)");
    has2 = has2 || (p >= 2 && !c(r, 2).is_zero());
    has3 = has3 || (p >= 3 && !c(r, 3).is_zero());
  }
  if (has2 && has3) w.fail("coeffs", "mixes u^2 and u^3 terms; generate supports u + alpha u^2 or u + alpha u^3 only");
  kind = has2 ? train::activation_kind::quadratic : train::activation_kind::cubic;
  const int power = has2 ? 2 : 3;
  alpha.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) alpha[i] = p >= power ? c(rows == 1 ? 0 : i, power).to_double() : 0.0;
}

}  // namespace

train::Flow to_train_flow(const Model& model) {
  train::Flow f;
  f.dim = model.dim;
  const Eigen::Index d = model.dim;
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const Where w{model, l};
    const Layer& layer = model.layers[l];
    if (const auto* a = std::get_if<AffineLayer>(&layer)) {
      f.layers.emplace_back(train::AffineLayer{matrix_of(a->W), vector_of(a->b, d)});
    } else if (const auto* s = std::get_if<ActivationLayer>(&layer)) {
      train::ActivationLayer t;
      read_phi(w, s->act, d, t.kind, t.alpha);
      if (t.kind == train::activation_kind::cubic && t.alpha.minCoeff() < 0)
        w.fail(s->act.name, "u + alpha u^3 with alpha < 0 is not invertible");
      t.theta = t.alpha;
      if (t.kind == train::activation_kind::cubic)
        for (Eigen::Index i = 0; i < d; ++i) t.theta[i] = train::inverse_softplus(t.alpha[i]);
      f.layers.emplace_back(std::move(t));
    } else {
      const auto& c = std::get<CouplingLayer>(layer);
      train::CouplingLayer t;
      t.set_mask(c.mask);
      t.W1 = matrix_of(c.W1);
      t.b1 = vector_of(c.b1, t.W1.rows());
      read_phi(w, c.act, t.W1.rows(), t.kind, t.alpha);
      t.W2 = matrix_of(c.W2);
      t.b2 = vector_of(c.b2, t.W2.rows());
      f.layers.emplace_back(std::move(t));
    }
  }
  return f;
}

train::Flow read_train_flow(const std::filesystem::path& path) { return to_train_flow(read_manifest(path)); }

train::Flow parse_train_flow(std::string_view text, const std::string& source) {
  return to_train_flow(parse_manifest(text, source));
}

}  // namespace flowaction
