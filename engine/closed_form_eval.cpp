#include "engine/closed_form_eval.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>

#include "engine/error.hpp"
#include "engine/layer.hpp"
#include "engine/overload.hpp"

namespace flowaction {

namespace {

using GiNaC::ex;

// The numbers a closed form refers to, for one model at one point.
struct Values {
  int dim = 0;
  std::vector<LayerMap<double>> maps;
  std::vector<std::vector<double>> units;      // units[l - 1]: values entering layer l
  std::vector<std::vector<double>> hidden;     // hidden[l - 1]: a coupling's pre-activations
  std::vector<int> hidden_count;               // per layer
  std::vector<std::vector<double>> W, W1, W2;  // dense: W d×d, W1 H×d, W2 d×H (zero-padded)
  std::vector<double> log_det;

  const Polynomial<double>& phi(std::size_t l, std::size_t i) const {
    if (const auto* a = std::get_if<ActivationMap<double>>(&maps[l])) return a->phi[i];
    if (const auto* c = std::get_if<CouplingMap<double>>(&maps[l])) return c->phi[i];
    throw Error(fmt::format("closed form: layer {} has no phi", l + 1));
  }

  double quantity(const Quantity& q, int value) const {
    const auto l = static_cast<std::size_t>(q.layer - 1);
    const auto i = static_cast<std::size_t>(value);
    switch (q.what) {
      case Quantity::kind::alpha:  // u + αu^p: α is the top coefficient
        return phi(l, i).back();
      case Quantity::kind::coefficient: {
        const auto& c = phi(l, i);
        const auto k = static_cast<std::size_t>(q.power);
        return k < c.size() ? c[k] : 0.0;
      }
      case Quantity::kind::scale:
        return std::get<ActNormMap<double>>(maps[l]).s[i];
      case Quantity::kind::unit_value:
        return units[l][i];
      case Quantity::kind::hidden_value:
        return hidden[l][i];
    }
    return 0;
  }
};

Values values_of(const ClosedForm& form, const Model& model, const std::vector<double>& x0) {
  const std::size_t L = form.arch.layers.size();
  if (model.layers.size() != L)
    throw Error(fmt::format("{}: the model has {} layers, the architecture {}", model.source,
                            model.layers.size(), L));
  Values v;
  v.dim = model.dim;
  v.maps = instantiate<double>(model);
  const auto d = static_cast<std::size_t>(model.dim);
  std::vector<double> y = x0.empty() ? std::vector<double>(d, 0.0) : x0;
  v.hidden.resize(L);
  v.hidden_count.assign(L, 0);
  v.W.resize(L);
  v.W1.resize(L);
  v.W2.resize(L);
  v.log_det.assign(L, 0.0);
  for (std::size_t l = 0; l < L; ++l) {
    const ArchLayer& a = form.arch.layers[l];
    const std::string type = layer_type_name(model.layers[l]);
    const char* want[] = {"affine", "activation", "coupling", "actnorm"};
    if (type != want[static_cast<int>(a.type)])
      throw Error(fmt::format("{}: layer {} is {}, the architecture has {}", model.source, l + 1,
                              type, a.token));
    v.units.push_back(y);
    // φ must have the architecture's shape: c₁ = 1, and u + αu^p has nothing in between.
    const auto check_phi = [&](const std::vector<Polynomial<double>>& phis) {
      for (const auto& c : phis) {
        const auto top = static_cast<std::size_t>(a.degree) + 1;
        bool ok =
            (a.coefficients ? c.size() <= top : c.size() == top) && c.size() >= 2 && c[1] == 1;
        for (std::size_t k = 2; ok && !a.coefficients && k + 1 < c.size(); ++k) ok = c[k] == 0;
        if (!ok)
          throw Error(
              fmt::format("{}: layer {}: phi is not of the form {}", model.source, l + 1, a.token));
      }
    };
    if (const auto* act = std::get_if<ActivationMap<double>>(&v.maps[l])) check_phi(act->phi);
    if (const auto* cpl = std::get_if<CouplingMap<double>>(&v.maps[l])) check_phi(cpl->phi);
    std::visit(overload{
                   [&](const AffineMap<double>& m) {
                     v.W[l] = m.W;
                     v.log_det[l] = field_traits<double>::log_abs_det(m.W, model.dim);
                   },
                   [&](const CouplingMap<double>& c) {
                     const auto H = static_cast<std::size_t>(c.hidden);
                     v.hidden_count[l] = c.hidden;
                     v.hidden[l] = coupling_preactivation(c, y);
                     v.W1[l].assign(H * d, 0.0);
                     v.W2[l].assign(d * H, 0.0);
                     for (std::size_t h = 0; h < H; ++h) {
                       for (std::size_t k = 0; k < c.A.size(); ++k)
                         v.W1[l][h * d + static_cast<std::size_t>(c.A[k])] =
                             c.W1[h * c.A.size() + k];
                       for (std::size_t k = 0; k < c.B.size(); ++k)
                         v.W2[l][static_cast<std::size_t>(c.B[k]) * H + h] = c.W2[k * H + h];
                     }
                   },
                   [](const auto&) {},
               },
               v.maps[l]);
    y = forward(v.maps[l], y);
  }
  v.units.push_back(y);
  return v;
}

// A coefficient evaluated with its per-index symbols bound to units.
class Coefficient {
 public:
  Coefficient(const ex& e, const Values& values) : e_(e), values_(values) {
    for (auto it = e.preorder_begin(); it != e.preorder_end(); ++it) {
      if (!GiNaC::is_a<GiNaC::symbol>(*it)) continue;
      if (const auto q = closed_symbol_of(*it))
        bound_.emplace(*it, *q);
      else if (const auto l = log_det_layer(*it))
        fixed_.emplace(*it, values.log_det[static_cast<std::size_t>(*l - 1)]);
      else if (it->is_equal(dimension_symbol()))
        fixed_.emplace(*it, values.dim);
      else
        throw Error(fmt::format("closed form: unknown symbol {}", to_string(*it)));
    }
  }

  double operator()(const std::vector<int>& assignment) const {
    assignment_ = &assignment;
    return eval(e_);
  }

 private:
  double eval(const ex& e) const {
    if (GiNaC::is_a<GiNaC::numeric>(e)) return GiNaC::ex_to<GiNaC::numeric>(e).to_double();
    if (GiNaC::is_a<GiNaC::symbol>(e)) {
      if (const auto it = fixed_.find(e); it != fixed_.end()) return it->second;
      const auto& [q, index] = bound_.at(e);
      return values_.quantity(q, (*assignment_)[static_cast<std::size_t>(index)]);
    }
    if (GiNaC::is_a<GiNaC::add>(e)) {
      double s = 0;
      for (std::size_t i = 0; i < e.nops(); ++i) s += eval(e.op(i));
      return s;
    }
    if (GiNaC::is_a<GiNaC::mul>(e)) {
      double p = 1;
      for (std::size_t i = 0; i < e.nops(); ++i) p *= eval(e.op(i));
      return p;
    }
    if (GiNaC::is_a<GiNaC::power>(e)) return std::pow(eval(e.op(0)), eval(e.op(1)));
    if (GiNaC::is_a<GiNaC::constant>(e)) return GiNaC::ex_to<GiNaC::numeric>(e.evalf()).to_double();
    if (GiNaC::is_exactly_a<GiNaC::function>(e)) {
      const std::string name = GiNaC::ex_to<GiNaC::function>(e).get_name();
      if (name == "log") return std::log(eval(e.op(0)));
      if (name == "abs") return std::fabs(eval(e.op(0)));
    }
    throw Error(fmt::format("closed form: cannot evaluate {}", to_string(e)));
  }

  ex e_;
  const Values& values_;
  std::map<ex, std::pair<Quantity, int>, GiNaC::ex_is_less> bound_;
  std::map<ex, double, GiNaC::ex_is_less> fixed_;
  mutable const std::vector<int>* assignment_ = nullptr;
};

// Adds [T] to g: every assignment of T's indices, each to the component of its sorted legs,
// times the number of orders of the legs that give the same tuple.
void add_term(const ClosedTerm& t, const Values& v, SymTensor<double>& g) {
  const auto I = t.ranges.size();
  std::vector<int> range(I);
  for (std::size_t i = 0; i < I; ++i)
    range[i] = t.ranges[i] == 0 ? v.dim : v.hidden_count[static_cast<std::size_t>(t.ranges[i] - 1)];
  const Coefficient coefficient(t.coefficient, v);
  std::vector<int> a(I, 0);
  multi_index legs(t.legs.size());
  const auto d = static_cast<std::size_t>(v.dim);
  while (true) {
    double w = 1;
    for (const IndexedWeight& x : t.weights) {
      const auto l = static_cast<std::size_t>(x.layer - 1);
      const auto o = static_cast<std::size_t>(a[static_cast<std::size_t>(x.out)]);
      const auto i = static_cast<std::size_t>(a[static_cast<std::size_t>(x.in)]);
      const auto H = static_cast<std::size_t>(v.hidden_count[l]);
      w *= x.what == IndexedWeight::kind::W    ? v.W[l][o * d + i]
           : x.what == IndexedWeight::kind::W1 ? v.W1[l][o * d + i]
                                               : v.W2[l][o * H + i];
      if (w == 0) break;
    }
    if (w != 0) {
      for (std::size_t s = 0; s < t.legs.size(); ++s)
        legs[s] = a[static_cast<std::size_t>(t.legs[s])];
      std::sort(legs.begin(), legs.end());
      double orders = 1;
      for (std::size_t s = 1, run = 1; s < legs.size(); ++s) {
        run = legs[s] == legs[s - 1] ? run + 1 : 1;
        orders *= static_cast<double>(run);
      }
      g.at(legs) += w * orders * coefficient(a);
    }
    std::size_t k = 0;
    while (k < I && ++a[k] == range[k]) a[k++] = 0;
    if (k == I) break;
  }
}

}  // namespace

Action<double> evaluate(const ClosedForm& form, const Model& model, const std::vector<double>& x0) {
  const Values v = values_of(form, model, x0);
  Action<double> out(model.dim, form.order);
  for (int n = 0; n <= form.order; ++n)
    for (const ClosedTerm& t : form.vertices[static_cast<std::size_t>(n)])
      add_term(t, v, out.vertices[static_cast<std::size_t>(n)]);
  return out;
}

}  // namespace flowaction
