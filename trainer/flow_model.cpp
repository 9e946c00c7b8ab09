#include "trainer/flow_model.hpp"

#include <fmt/format.h>

#include <cmath>
#include <numbers>
#include <random>

#include "engine/error.hpp"

namespace flowaction::train {

std::string_view activation_name(activation_kind kind) {
  return kind == activation_kind::quadratic ? "quadratic" : "cubic";
}

void CouplingLayer::set_mask(std::vector<int> m) {
  mask = std::move(m);
  a_units.clear();
  b_units.clear();
  for (int i = 0; i < static_cast<int>(mask.size()); ++i)
    (mask[i] ? b_units : a_units).push_back(i);
}

ActNormLayer::ActNormLayer(Vector s, Vector t) : shift(std::move(t)), scale(std::move(s)) {
  if (shift.size() == 0) shift = Vector::Zero(scale.size());
  if (shift.size() != scale.size())
    throw Error(fmt::format("actnorm: {} scales but {} shifts", scale.size(), shift.size()));
  for (Eigen::Index i = 0; i < scale.size(); ++i)
    if (!(scale[i] > 0 && std::isfinite(scale[i])))
      throw Error(fmt::format(
          "actnorm: the scale of unit {} is {}; the trainer needs finite positive scales (it "
          "trains ln s)",
          i, scale[i]));
  theta = scale.array().log().matrix();
}

ActNormLayer ActNormLayer::identity(int dim) {
  return ActNormLayer(Vector::Ones(dim), Vector::Zero(dim));
}

namespace {

std::span<double> span_of(Matrix& m) {
  return {m.data(), static_cast<std::size_t>(m.size())};
}
std::span<double> span_of(Vector& v) {
  return {v.data(), static_cast<std::size_t>(v.size())};
}

}  // namespace

std::vector<std::span<double>> Flow::parameters() {
  std::vector<std::span<double>> out;
  for (Layer& layer : layers)
    std::visit(overload{[&](AffineLayer& a) {
                          out.push_back(span_of(a.W));
                          out.push_back(span_of(a.b));
                        },
                        [&](ActivationLayer& s) { out.push_back(span_of(s.theta)); },
                        [&](CouplingLayer& c) {
                          out.push_back(span_of(c.W1));
                          out.push_back(span_of(c.b1));
                          out.push_back(span_of(c.alpha));
                          out.push_back(span_of(c.W2));
                          out.push_back(span_of(c.b2));
                        },
                        [&](ActNormLayer& an) {
                          out.push_back(span_of(an.theta));
                          out.push_back(span_of(an.shift));
                        }},
               layer);
  return out;
}

std::vector<std::span<const double>> Flow::parameters() const {
  auto blocks = const_cast<Flow*>(this)->parameters();
  return {blocks.begin(), blocks.end()};
}

std::size_t Flow::parameter_count() const {
  std::size_t n = 0;
  for (auto b : parameters()) n += b.size();
  return n;
}

void Flow::sync() {
  for (Layer& layer : layers)
    std::visit(overload{[](AffineLayer&) {},
                        [](ActivationLayer& s) {
                          // The projection keeps a cubic layer invertible (φ′ = 1 + 3αu² > 0).
                          if (s.kind == activation_kind::cubic) s.theta = s.theta.cwiseMax(0.0);
                          s.alpha = s.theta;
                        },
                        [](CouplingLayer&) {},
                        [](ActNormLayer& an) { an.scale = an.theta.array().exp().matrix(); }},
               layer);
}

Flow Flow::zeros_like() const {
  Flow z = *this;
  for (auto b : z.parameters()) std::fill(b.begin(), b.end(), 0.0);
  // The derived values too (they are not parameters).
  for (Layer& layer : z.layers)
    std::visit(overload{[](AffineLayer&) {}, [](ActivationLayer& s) { s.alpha.setZero(); },
                        [](CouplingLayer&) {}, [](ActNormLayer& an) { an.scale.setZero(); }},
               layer);
  return z;
}

bool Flow::has_domain_limits() const {
  for (const Layer& layer : layers)
    if (std::visit(
            overload{[](const AffineLayer&) { return false; },
                     [](const ActivationLayer& s) { return s.kind == activation_kind::quadratic; },
                     [](const CouplingLayer&) { return false; },
                     [](const ActNormLayer&) { return false; }},
            layer))
      return true;
  return false;
}

namespace {

// ln|det W| and W⁻ᵀ into c.
void prepare_affine(const AffineLayer& a, std::size_t l, FlowConstants& c) {
  if (!a.W.allFinite() || !a.b.allFinite())
    throw Error(fmt::format("layer {} (affine): W or b is not finite", l + 1));
  Eigen::PartialPivLU<Matrix> lu(a.W);
  const auto& u = lu.matrixLU();
  double lad = 0, dmax = 0, dmin = INFINITY;
  for (Eigen::Index i = 0; i < u.rows(); ++i) {
    const double v = std::fabs(u(i, i));
    lad += std::log(v);
    dmax = std::max(dmax, v);
    dmin = std::min(dmin, v);
  }
  // Pivots spanning more than 12 orders of magnitude: W is numerically singular and both
  // ln|det W| and W⁻¹ are meaningless.
  if (!(dmin > 1e-12 * dmax) || !std::isfinite(lad))
    throw Error(
        fmt::format("layer {} (affine): field 'W' is singular in double precision "
                    "(smallest/largest LU pivot = {:.3g})",
                    l + 1, dmax > 0 ? dmin / dmax : 0.0));
  c.log_abs_det[l] = lad;
  c.inverse_transpose[l] = lu.inverse().transpose();
}

// Σ ln s_i into c. It is taken from scale (not θ), like the map, so that a flow read from a file
// computes exactly the action of the scales written there.
void prepare_actnorm(const ActNormLayer& an, std::size_t l, FlowConstants& c) {
  double lad = 0;
  for (Eigen::Index i = 0; i < an.scale.size(); ++i) {
    // exp(θ) overflows for θ > 709 and underflows to 0 for θ < −745.
    if (!(an.scale[i] > 0 && std::isfinite(an.scale[i])))
      throw Error(fmt::format("layer {} (actnorm): the scale of unit {} is {} (theta = {:.6g})",
                              l + 1, i, an.scale[i], an.theta[i]));
    lad += std::log(an.scale[i]);
  }
  if (!an.shift.allFinite())
    throw Error(fmt::format("layer {} (actnorm): the shift is not finite", l + 1));
  c.log_abs_det[l] = lad;
}

}  // namespace

FlowConstants prepare(const Flow& flow) {
  FlowConstants c;
  c.log_abs_det.assign(flow.layers.size(), 0.0);
  c.inverse_transpose.resize(flow.layers.size());
  for (std::size_t l = 0; l < flow.layers.size(); ++l) {
    std::visit(overload{[&](const AffineLayer& a) { prepare_affine(a, l, c); },
                        [](const ActivationLayer&) {}, [](const CouplingLayer&) {},
                        [&](const ActNormLayer& an) { prepare_actnorm(an, l, c); }},
               flow.layers[l]);
    c.total_log_abs_det += c.log_abs_det[l];
  }
  return c;
}

namespace {

constexpr double half_log_2pi = 0.91893853320467274178;  // ½ ln 2π

void gather_rows(const Matrix& from, const std::vector<int>& rows, Matrix& to) {
  to.resize(static_cast<Eigen::Index>(rows.size()), from.cols());
  for (Eigen::Index j = 0; j < from.cols(); ++j)
    for (std::size_t r = 0; r < rows.size(); ++r)
      to(static_cast<Eigen::Index>(r), j) = from(rows[r], j);
}

// φ(H) element-wise with one α per row.
void apply_phi(activation_kind kind, const Vector& alpha, const Matrix& H, Matrix& A) {
  A.resize(H.rows(), H.cols());
  const Eigen::Index m = H.rows();
  for (Eigen::Index j = 0; j < H.cols(); ++j) {
    const double* h = H.col(j).data();
    double* a = A.col(j).data();
    if (kind == activation_kind::quadratic)
      for (Eigen::Index i = 0; i < m; ++i) a[i] = h[i] + alpha[i] * h[i] * h[i];
    else
      for (Eigen::Index i = 0; i < m; ++i) a[i] = h[i] + alpha[i] * h[i] * h[i] * h[i];
  }
}

}  // namespace

ForwardResult forward(const Flow& flow, const FlowConstants& c, const Eigen::Ref<const Matrix>& X,
                      FlowWorkspace& ws) {
  const std::size_t L = flow.layers.size();
  const Eigen::Index n = X.cols();
  const Eigen::Index d = flow.dim;
  ws.x.resize(L + 1);
  ws.ya.resize(L);
  ws.h.resize(L);
  ws.a.resize(L);
  ws.x[0] = X;
  // The constant terms (affine ln|det W|, actnorm Σ ln s) are the same for every sample.
  ws.log_det.setConstant(n, c.total_log_abs_det);
  ForwardResult r;
  for (std::size_t l = 0; l < L; ++l) {
    const Matrix& y = ws.x[l];
    Matrix& z = ws.x[l + 1];
    std::visit(overload{[&](const AffineLayer& a) {
                          z.resize(d, n);
                          z.noalias() = a.W * y;
                          z.colwise() += a.b;
                        },
                        [&](const ActivationLayer& s) {
                          z.resize(d, n);
                          const double* alpha = s.alpha.data();
                          for (Eigen::Index j = 0; j < n; ++j) {
                            const double* u = y.col(j).data();
                            double* out = z.col(j).data();
                            double ld = 0;
                            if (s.kind == activation_kind::quadratic) {
                              for (Eigen::Index i = 0; i < d; ++i) {
                                const double dphi = 1 + 2 * alpha[i] * u[i];
                                if (!(dphi > 0) && r.in_domain()) {
                                  r.domain_layer = static_cast<int>(l);
                                  r.domain_unit = static_cast<int>(i);
                                  r.domain_value = u[i];
                                }
                                out[i] = u[i] + alpha[i] * u[i] * u[i];
                                ld += std::log(dphi);
                              }
                            } else {
                              for (Eigen::Index i = 0; i < d; ++i) {
                                const double u2 = u[i] * u[i];
                                out[i] = u[i] + alpha[i] * u2 * u[i];
                                ld += std::log1p(3 * alpha[i] * u2);
                              }
                            }
                            ws.log_det[j] += ld;
                          }
                        },
                        [&](const CouplingLayer& cp) {
                          gather_rows(y, cp.a_units, ws.ya[l]);
                          ws.h[l].resize(cp.hidden(), n);
                          ws.h[l].noalias() = cp.W1 * ws.ya[l];
                          ws.h[l].colwise() += cp.b1;
                          apply_phi(cp.kind, cp.alpha, ws.h[l], ws.a[l]);
                          z = y;
                          ws.gb.resize(static_cast<Eigen::Index>(cp.b_units.size()), n);
                          ws.gb.noalias() = cp.W2 * ws.a[l];
                          ws.gb.colwise() += cp.b2;
                          for (Eigen::Index j = 0; j < n; ++j)
                            for (std::size_t r2 = 0; r2 < cp.b_units.size(); ++r2)
                              z(cp.b_units[r2], j) += ws.gb(static_cast<Eigen::Index>(r2), j);
                        },
                        [&](const ActNormLayer& an) {
                          z.resize(d, n);
                          z.array() =
                              (y.array().colwise() * an.scale.array()).colwise() + an.shift.array();
                        }},
               flow.layers[l]);
  }
  const Matrix& z = ws.x[L];
  const double constant = static_cast<double>(d) * half_log_2pi;
  double sum = 0;
  for (Eigen::Index j = 0; j < n; ++j)
    sum += 0.5 * z.col(j).squaredNorm() + constant - ws.log_det[j];
  r.loss_sum = sum;
  return r;
}

void backward(const Flow& flow, const FlowConstants& c, FlowWorkspace& ws, double scale,
              Flow& grad) {
  const std::size_t L = flow.layers.size();
  const Eigen::Index d = flow.dim;
  const Eigen::Index n = ws.x[0].cols();
  // Constant per-sample terms of the action enter the gradient n times.
  const double scale_n = scale * static_cast<double>(n);
  ws.g = scale * ws.x[L];  // ∂(scale · ½|z|²)/∂z
  for (std::size_t l = L; l-- > 0;) {
    const Matrix& y = ws.x[l];
    std::visit(overload{[&](const AffineLayer& a) {
                          auto& ga = std::get<AffineLayer>(grad.layers[l]);
                          ga.W.noalias() += ws.g * y.transpose();
                          ga.b.noalias() += ws.g.rowwise().sum();
                          // −ln|det W| per sample: ∂/∂W = −W⁻ᵀ.
                          ga.W.noalias() -= scale_n * c.inverse_transpose[l];
                          ws.g2.resize(d, n);
                          ws.g2.noalias() = a.W.transpose() * ws.g;
                          ws.g.swap(ws.g2);
                        },
                        [&](const ActivationLayer& s) {
                          auto& gs = std::get<ActivationLayer>(grad.layers[l]);
                          const double* alpha = s.alpha.data();
                          double* dtheta = gs.theta.data();
                          // Accumulate ∂/∂α per unit, then convert to ∂/∂θ once.
                          Vector dalpha = Vector::Zero(d);
                          for (Eigen::Index j = 0; j < n; ++j) {
                            const double* u = y.col(j).data();
                            double* g = ws.g.col(j).data();
                            if (s.kind == activation_kind::quadratic) {
                              for (Eigen::Index i = 0; i < d; ++i) {
                                const double dphi = 1 + 2 * alpha[i] * u[i];
                                const double inv = scale / dphi;
                                dalpha[i] += g[i] * u[i] * u[i] - 2 * u[i] * inv;
                                g[i] = g[i] * dphi - 2 * alpha[i] * inv;
                              }
                            } else {
                              for (Eigen::Index i = 0; i < d; ++i) {
                                const double u2 = u[i] * u[i];
                                const double dphi = 1 + 3 * alpha[i] * u2;
                                const double inv = scale / dphi;
                                dalpha[i] += g[i] * u2 * u[i] - 3 * u2 * inv;
                                g[i] = g[i] * dphi - 6 * alpha[i] * u[i] * inv;
                              }
                            }
                          }
                          for (Eigen::Index i = 0; i < d; ++i) dtheta[i] += dalpha[i];
                        },
                        [&](const CouplingLayer& cp) {
                          auto& gc = std::get<CouplingLayer>(grad.layers[l]);
                          gather_rows(ws.g, cp.b_units, ws.gb);
                          gc.W2.noalias() += ws.gb * ws.a[l].transpose();
                          gc.b2.noalias() += ws.gb.rowwise().sum();
                          ws.da.resize(cp.hidden(), n);
                          ws.da.noalias() = cp.W2.transpose() * ws.gb;
                          // da → dh in place, collecting ∂/∂α on the way.
                          const Eigen::Index m = cp.hidden();
                          double* dal = gc.alpha.data();
                          for (Eigen::Index j = 0; j < n; ++j) {
                            const double* h = ws.h[l].col(j).data();
                            double* g = ws.da.col(j).data();
                            if (cp.kind == activation_kind::quadratic)
                              for (Eigen::Index i = 0; i < m; ++i) {
                                dal[i] += g[i] * h[i] * h[i];
                                g[i] *= 1 + 2 * cp.alpha[i] * h[i];
                              }
                            else
                              for (Eigen::Index i = 0; i < m; ++i) {
                                const double h2 = h[i] * h[i];
                                dal[i] += g[i] * h2 * h[i];
                                g[i] *= 1 + 3 * cp.alpha[i] * h2;
                              }
                          }
                          gc.W1.noalias() += ws.da * ws.ya[l].transpose();
                          gc.b1.noalias() += ws.da.rowwise().sum();
                          ws.g2.resize(static_cast<Eigen::Index>(cp.a_units.size()), n);
                          ws.g2.noalias() = cp.W1.transpose() * ws.da;
                          for (Eigen::Index j = 0; j < n; ++j)
                            for (std::size_t r = 0; r < cp.a_units.size(); ++r)
                              ws.g(cp.a_units[r], j) += ws.g2(static_cast<Eigen::Index>(r), j);
                        },
                        [&](const ActNormLayer& an) {
                          // z = s y + t: ∂/∂t = Σ_j g, ∂/∂θ = s ∂/∂s = s Σ_j g y, and −Σ ln s =
                          // −Σ θ per sample adds −1 per sample to every ∂/∂θ_i; the gradient
                          // passes to y as s g.
                          auto& gn = std::get<ActNormLayer>(grad.layers[l]);
                          const double* s = an.scale.data();
                          double* dtheta = gn.theta.data();
                          double* dshift = gn.shift.data();
                          for (Eigen::Index j = 0; j < n; ++j) {
                            const double* u = y.col(j).data();
                            double* g = ws.g.col(j).data();
                            for (Eigen::Index i = 0; i < d; ++i) {
                              const double gs = g[i] * s[i];
                              dshift[i] += g[i];
                              dtheta[i] += gs * u[i];
                              g[i] = gs;
                            }
                          }
                          for (Eigen::Index i = 0; i < d; ++i) dtheta[i] -= scale_n;
                        }},
               flow.layers[l]);
  }
}

Vector action_values(const Flow& flow, const Eigen::Ref<const Matrix>& X) {
  const FlowConstants c = prepare(flow);
  FlowWorkspace ws;
  forward(flow, c, X, ws);
  const Matrix& z = ws.x.back();
  Vector s(X.cols());
  for (Eigen::Index j = 0; j < X.cols(); ++j)
    s[j] = 0.5 * z.col(j).squaredNorm() + flow.dim * half_log_2pi - ws.log_det[j];
  return s;
}

Matrix latent(const Flow& flow, const Eigen::Ref<const Matrix>& X) {
  const FlowConstants c = prepare(flow);
  FlowWorkspace ws;
  forward(flow, c, X, ws);
  return ws.x.back();
}

double inverse_quadratic(double alpha, double z) {
  // u = (−1 + √(1 + 4αz)) / (2α), written without cancellation; α = 0 gives u = z.
  const double disc = 1 + 4 * alpha * z;
  if (disc < 0) return std::numeric_limits<double>::quiet_NaN();
  return 2 * z / (1 + std::sqrt(disc));
}

double inverse_cubic(double alpha, double z) {
  if (alpha == 0) return z;
  // The one real root of αu³ + u − z = 0, in the hyperbolic form of Cardano's formula (no
  // cancellation for small α), polished by Newton steps.
  const double s = std::sqrt(3 * alpha);
  double u = 2 / s * std::sinh(std::asinh(1.5 * z * s) / 3);
  for (int it = 0; it < 3; ++it) {
    const double f = u + alpha * u * u * u - z;
    const double fp = 1 + 3 * alpha * u * u;
    const double step = f / fp;
    u -= step;
    if (std::fabs(step) <= 1e-17 * std::fabs(u)) break;
  }
  return u;
}

Matrix inverse(const Flow& flow, const Eigen::Ref<const Matrix>& Z, std::vector<char>& ok) {
  const Eigen::Index n = Z.cols();
  ok.assign(static_cast<std::size_t>(n), 1);
  Matrix y = Z;
  Matrix tmp, h, a;
  for (std::size_t l = flow.layers.size(); l-- > 0;)
    std::visit(overload{[&](const AffineLayer& af) {
                          tmp = y.colwise() - af.b;
                          y = af.W.partialPivLu().solve(tmp);
                        },
                        [&](const ActivationLayer& s) {
                          for (Eigen::Index j = 0; j < n; ++j)
                            for (Eigen::Index i = 0; i < y.rows(); ++i) {
                              double& v = y(i, j);
                              v = s.kind == activation_kind::quadratic
                                      ? inverse_quadratic(s.alpha[i], v)
                                      : inverse_cubic(s.alpha[i], v);
                              if (std::isnan(v)) ok[static_cast<std::size_t>(j)] = 0;
                            }
                        },
                        [&](const CouplingLayer& cp) {
                          gather_rows(y, cp.a_units, tmp);  // y_A = z_A
                          h = cp.W1 * tmp;
                          h.colwise() += cp.b1;
                          apply_phi(cp.kind, cp.alpha, h, a);
                          tmp = cp.W2 * a;
                          tmp.colwise() += cp.b2;
                          for (Eigen::Index j = 0; j < n; ++j)
                            for (std::size_t r = 0; r < cp.b_units.size(); ++r)
                              y(cp.b_units[r], j) -= tmp(static_cast<Eigen::Index>(r), j);
                        },
                        [&](const ActNormLayer& an) {
                          y.array() =
                              (y.array().colwise() - an.shift.array()).colwise() / an.scale.array();
                        }},
               flow.layers[l]);
  return y;
}

FlowSamples sample_flow(const Flow& flow, std::size_t n, std::uint64_t seed,
                        std::size_t max_draws) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  FlowSamples out;
  out.x.resize(flow.dim, static_cast<Eigen::Index>(n));
  Eigen::Index filled = 0;
  constexpr std::size_t block = 4096;
  std::vector<char> ok;
  const bool unbounded = max_draws == std::numeric_limits<std::size_t>::max();
  while (static_cast<std::size_t>(filled) < n && out.drawn < max_draws) {
    const auto m = static_cast<Eigen::Index>(std::min(block, max_draws - out.drawn));
    Matrix z(flow.dim, m);
    for (Eigen::Index i = 0; i < z.size(); ++i) z.data()[i] = normal(rng);
    const Matrix x = inverse(flow, z, ok);
    out.drawn += static_cast<std::size_t>(m);
    for (Eigen::Index j = 0; j < m && static_cast<std::size_t>(filled) < n; ++j) {
      if (!ok[static_cast<std::size_t>(j)] || !x.col(j).allFinite()) {
        ++out.rejected;
        continue;
      }
      out.x.col(filled++) = x.col(j);
    }
    if (unbounded && out.drawn >= 100000 && out.rejected * 1000 > out.drawn * 999)
      throw Error(fmt::format("almost no latent sample has a preimage ({} of {} rejected)",
                              out.rejected, out.drawn));
  }
  out.x.conservativeResize(Eigen::NoChange, filled);
  return out;
}

}  // namespace flowaction::train
