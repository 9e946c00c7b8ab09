#include "trainer/augment.hpp"

#include <fmt/format.h>

#include <set>

#include "engine/error.hpp"

namespace flowaction::train {

std::size_t Augment::images() const {
  return std::max<std::size_t>(1, permutations.size()) * (z2 ? 2 : 1);
}

std::vector<std::vector<int>> lattice_symmetries(const Lattice& lattice, bool translate,
                                                 bool reflect) {
  const int n0 = lattice.n0, n1 = lattice.n1;
  const int d = n0 * n1;
  auto site = [&](int i, int j) { return ((i % n0 + n0) % n0) * n1 + ((j % n1 + n1) % n1); };
  std::vector<std::vector<int>> out;
  std::set<std::vector<int>> seen;
  const bool square = lattice.torus && n0 == n1 && n0 > 1;
  for (int swap = 0; swap <= (reflect && square ? 1 : 0); ++swap)
    for (int r0 = 0; r0 <= (reflect ? 1 : 0); ++r0)
      for (int r1 = 0; r1 <= (reflect ? 1 : 0); ++r1)
        for (int a = 0; a < (translate ? n0 : 1); ++a)
          for (int b = 0; b < (translate ? n1 : 1); ++b) {
            std::vector<int> p(static_cast<std::size_t>(d));
            for (int i = 0; i < n0; ++i)
              for (int j = 0; j < n1; ++j) {
                int u = r0 ? -i : i, v = r1 ? -j : j;
                if (swap) std::swap(u, v);
                p[static_cast<std::size_t>(site(i, j))] = site(u + a, v + b);
              }
            if (seen.insert(p).second) out.push_back(std::move(p));
          }
  return out;
}

Augment parse_augment(std::string_view spec, const std::optional<Lattice>& lattice) {
  Augment a;
  a.name = std::string(spec);
  if (spec.empty() || spec == "none") {
    a.name.clear();
    return a;
  }
  bool translate = false, reflect = false;
  std::size_t start = 0;
  while (start <= spec.size()) {
    const std::size_t comma = spec.find(',', start);
    const std::string_view part = spec.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (part == "z2")
      a.z2 = true;
    else if (part == "translate")
      translate = true;
    else if (part == "reflect")
      reflect = true;
    else
      throw Error(fmt::format(
          "--augment '{}': unknown symmetry '{}' (expected z2, translate, reflect or none)", spec,
          part));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if ((translate || reflect) && !lattice)
    throw Error(fmt::format(
        "--augment {}: translate and reflect need the lattice of the data (--lattice N or NxM)",
        spec));
  if (translate || reflect) a.permutations = lattice_symmetries(*lattice, translate, reflect);
  return a;
}

Eigen::MatrixXd augment(const Eigen::MatrixXd& data, const Augment& a) {
  const Eigen::Index d = data.rows(), n = data.cols();
  std::vector<std::vector<int>> perms = a.permutations;
  if (perms.empty()) {
    perms.emplace_back(static_cast<std::size_t>(d));
    for (Eigen::Index i = 0; i < d; ++i)
      perms.back()[static_cast<std::size_t>(i)] = static_cast<int>(i);
  }
  const auto g = static_cast<Eigen::Index>(perms.size());
  Eigen::MatrixXd out(d, n * g * (a.z2 ? 2 : 1));
  for (Eigen::Index k = 0; k < g; ++k) {
    const auto& p = perms[static_cast<std::size_t>(k)];
    if (static_cast<Eigen::Index>(p.size()) != d)
      throw Error(
          fmt::format("--augment: the lattice has {} sites, the data {} units", p.size(), d));
    for (Eigen::Index i = 0; i < d; ++i)
      out.row(p[static_cast<std::size_t>(i)]).segment(k * n, n) = data.row(i);
  }
  if (a.z2) out.rightCols(n * g) = -out.leftCols(n * g);
  return out;
}

}  // namespace flowaction::train
