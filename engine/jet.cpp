#include "engine/jet.hpp"

#include "engine/overload.hpp"

namespace flowaction {

template <Field T>
diagrams::ClassFilter class_filter(const Jet<T>& jet) {
  return std::visit(overload{
                        [](const LinearJet<T>&) {
                          return diagrams::ClassFilter{1, false};
                        },
                        [](const DiagonalJet<T>& j) {
                          return diagrams::ClassFilter{j.degree, true};
                        },
                        [](const RankOneJet<T>& j) {
                          return diagrams::ClassFilter{j.degree, false};
                        },
                        [](const DenseJet<T>& j) {
                          return diagrams::ClassFilter{j.degree, true};
                        },
                    },
                    jet);
}

diagrams::ClassFilter class_filter(const LayerSpec& spec) {
  diagrams::ClassFilter f;
  if (spec.degree > 0) f.degree = spec.degree;
  f.rings = spec.jet != jet_structure::rank_one && f.degree > 1;
  return f;
}

template <Field T>
std::vector<T> first_derivative(const Jet<T>& jet) {
  return std::visit(overload{
                        [](const LinearJet<T>& j) { return j.G1; },
                        [](const RankOneJet<T>& j) { return j.G1; },
                        [](const DiagonalJet<T>& j) {
                          const auto d = static_cast<std::size_t>(j.dim);
                          std::vector<T> G1(d * d, T(0));
                          for (std::size_t i = 0; i < d; ++i) G1[i * d + i] = j.D[i][1];
                          return G1;
                        },
                        [](const DenseJet<T>& j) {
                          const auto d = static_cast<std::size_t>(j.dim);
                          std::vector<T> G1(d * d, T(0));
                          for (std::size_t i = 0; i < d; ++i)
                            for (std::size_t k = 0; k < d; ++k) G1[i * d + k] = j.G[1][i][k];
                          return G1;
                        },
                    },
                    jet);
}

template <Field T>
DenseJet<T> to_dense(const Jet<T>& jet) {
  DenseJet<T> out;
  const std::vector<T> G1 = first_derivative(jet);
  std::visit([&](const auto& j) { out.dim = j.dim; }, jet);
  out.degree = class_filter(jet).degree;
  const int d = out.dim;
  const auto ud = static_cast<std::size_t>(d);
  out.G.resize(static_cast<std::size_t>(out.degree) + 1);
  for (int m = 1; m <= out.degree; ++m) out.G[m].assign(ud, SymTensor<T>(d, m));
  for (std::size_t i = 0; i < ud; ++i)
    for (std::size_t k = 0; k < ud; ++k) out.G[1][i][k] = G1[i * ud + k];
  std::visit(overload{
                 [](const LinearJet<T>&) {},
                 [](const DenseJet<T>& j) { /* copied below */
                                            (void)j;
                 },
                 [&](const DiagonalJet<T>& j) {
                   for (int m = 2; m <= j.degree; ++m)
                     for (int i = 0; i < d; ++i)
                       out.G[m][i].at(std::vector<int>(static_cast<std::size_t>(m), i)) = j.D[i][m];
                 },
                 [&](const RankOneJet<T>& j) {
                   for (int m = 2; m <= j.degree; ++m)
                     for (int i = 0; i < d; ++i) {
                       SymTensor<T>& g = out.G[m][i];
                       multi_index J = g.shape().first();
                       std::size_t r = 0;
                       do {
                         T sum(0);
                         for (std::size_t h = 0; h < static_cast<std::size_t>(j.hidden); ++h) {
                           T term = j.phi[h][m] * j.v[h * ud + i];
                           if (vanishes(term)) continue;
                           for (int jj : J) term *= j.w[h * ud + jj];
                           sum += term;
                         }
                         g[r++] = sum;
                       } while (g.shape().next(J));
                     }
                 },
             },
             jet);
  if (const auto* dense = std::get_if<DenseJet<T>>(&jet)) return *dense;
  return out;
}

template <Field T>
T log_abs_det(const Jet<T>& jet) {
  return std::visit(
      overload{
          [](const LinearJet<T>& j) { return field_traits<T>::log_abs_det(j.G1, j.dim); },
          [](const RankOneJet<T>&) { return T(0); },  // unit triangular
          [](const DiagonalJet<T>& j) {
            T s(0);
            for (const auto& D : j.D) s += log_abs(D[1]);
            return s;
          },
          [](const DenseJet<T>& j) {
            return field_traits<T>::log_abs_det(first_derivative(Jet<T>(j)), j.dim);
          },
      },
      jet);
}

#define FLOWACTION_INSTANTIATE(T)                             \
  template diagrams::ClassFilter class_filter(const Jet<T>&); \
  template std::vector<T> first_derivative(const Jet<T>&);    \
  template DenseJet<T> to_dense(const Jet<T>&);               \
  template T log_abs_det(const Jet<T>&);
FLOWACTION_FIELDS(FLOWACTION_INSTANTIATE)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
