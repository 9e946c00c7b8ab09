#include "frontends/phi4_truth.hpp"

#include <fmt/format.h>

namespace flowaction {

TrueAction phi4_truth(const train::Phi4Theory& th) {
  const int d = th.lattice.sites();
  TrueAction t{Action<double>(d, 4), {}};
  const Eigen::MatrixXd K = train::phi4_kinetic_matrix(th);
  for (int i = 0; i < d; ++i)
    for (int j = i; j < d; ++j) t.action.vertices[2].at(std::vector<int>{i, j}) = K(i, j);
  for (int i = 0; i < d; ++i) {
    t.action.vertices[3].at(std::vector<int>{i, i, i}) = th.kappa;
    t.action.vertices[4].at(std::vector<int>{i, i, i, i}) = th.lambda;
  }
  t.info.field = field_kind::float64;
  t.info.at.assign(static_cast<std::size_t>(d), "0");
  t.info.source = fmt::format(
      "lattice phi^4 theory on a {} with periodic boundaries (site x = i*M + j on a torus), m2 = "
      "{}, kappa = {}, lambda = {}: S = sum_x [1/2 sum_mu (phi_(x+mu) - phi_x)^2 + 1/2 m2 phi_x^2 "
      "+ kappa/3! phi_x^3 + lambda/4! phi_x^4]; Gamma^(0) = ln Z is not included",
      th.lattice.name(), th.m2, th.kappa, th.lambda);
  return t;
}

}  // namespace flowaction
