#include "engine/model.hpp"

namespace flowaction {

std::string layer_type_name(const Layer& layer) {
  struct {
    std::string operator()(const AffineLayer&) const { return "affine"; }
    std::string operator()(const ActivationLayer&) const { return "activation"; }
    std::string operator()(const CouplingLayer&) const { return "coupling"; }
  } name;
  return std::visit(name, layer);
}

int act_degree(const Tensor& act) {
  if (act.name == "alpha") return 2;
  return act.shape.empty() ? 1 : act.shape.back();
}

std::vector<ActCoefficient> act_coefficients(const Tensor& act, int row) {
  std::vector<ActCoefficient> c;
  if (act.name == "alpha") {
    c.push_back({1, -1});
    c.push_back({2, act.shape.empty() ? 0 : row});
    return c;
  }
  const int p = act_degree(act);
  const int base = act.shape.size() == 2 ? row * p : 0;
  for (int k = 1; k <= p; ++k) c.push_back({k, base + k - 1});
  return c;
}

}  // namespace flowaction
