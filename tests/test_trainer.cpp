// The numeric trainer: the action against −ln p written out here from the layer formulas,
// hand-written gradients against finite differences, the log-determinant against a numerical
// Jacobian, exact inverses, ActNorm's data-dependent initialisation, the model file round trip,
// and maximum likelihood on Gaussian data against the sample precision matrix.
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <numbers>
#include <random>
#include <sstream>

#include "engine/error.hpp"
#include "frontends/train_flow.hpp"
#include "trainer/flow_model.hpp"
#include "trainer/phi4_sampler.hpp"
#include "trainer/trainer.hpp"

using namespace flowaction;
using namespace flowaction::train;

namespace {

Matrix random_matrix(Eigen::Index r, Eigen::Index c, std::mt19937_64& rng, double sd = 1.0) {
  std::normal_distribution<double> n(0, sd);
  Matrix m(r, c);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = n(rng);
  return m;
}

// A flow of the given shape with every parameter set to a random, generic value (so that no
// gradient vanishes by symmetry), still invertible on the test samples and well conditioned
// (cubic terms of a few percent to twenty percent: stacked cubics are polynomials of high degree).
Flow random_flow(int d, architecture arch, activation_kind kind, int layers, std::uint64_t seed,
                 bool actnorm = false) {
  FlowSpec spec;
  spec.arch = arch;
  spec.activation = kind;
  spec.layers = layers;
  spec.hidden = 3;
  spec.actnorm = actnorm;
  // The blocks alone: latent couplings are coupling layers, which the coupling cases cover.
  spec.latent_couplings = 0;
  Flow f = make_flow(d, spec, seed);
  std::mt19937_64 rng(seed + 1);
  std::uniform_real_distribution<double> u(-1, 1);
  for (Layer& layer : f.layers)
    std::visit(overload{[&](AffineLayer& a) {
                          a.W = Matrix::Identity(d, d) + 0.3 * random_matrix(d, d, rng);
                          a.b = 0.2 * random_matrix(d, 1, rng);
                        },
                        [&](ActivationLayer& s) {
                          // Quadratic α small enough that 1 + 2αu stays well positive for |u|
                          // of a few units; cubic α in (0.02, 0.18), inside α ≥ 0.
                          for (Eigen::Index i = 0; i < s.theta.size(); ++i)
                            s.theta[i] = kind == activation_kind::quadratic ? 0.08 * u(rng)
                                                                            : 0.1 + 0.08 * u(rng);
                        },
                        [&](CouplingLayer& c) {
                          c.W1 = random_matrix(c.W1.rows(), c.W1.cols(), rng, 0.4);
                          c.b1 = random_matrix(c.b1.size(), 1, rng, 0.3);
                          c.alpha = random_matrix(c.alpha.size(), 1, rng, 0.1);
                          c.W2 = random_matrix(c.W2.rows(), c.W2.cols(), rng, 0.3);
                          c.b2 = random_matrix(c.b2.size(), 1, rng, 0.3);
                        },
                        [&](ActNormLayer& an) {
                          // s between e^−½ and e^½.
                          for (Eigen::Index i = 0; i < an.theta.size(); ++i)
                            an.theta[i] = 0.5 * u(rng);
                          an.shift = 0.3 * random_matrix(d, 1, rng);
                        }},
               layer);
  f.sync();
  return f;
}

double mean_action(const Flow& f, const Matrix& X) {
  return action_values(f, X).mean();
}

// The flow's map x → z written out from the layer formulas (DESIGN §3 and ActNorm), sharing no
// code with trainer/flow_model.cpp: α and s are computed here from the trained θ, coupling sets
// from the mask.
Vector reference_map(const Flow& f, Vector y) {
  for (const Layer& layer : f.layers)
    y = std::visit(overload{[&](const AffineLayer& a) -> Vector { return a.W * y + a.b; },
                            [&](const ActivationLayer& s) -> Vector {
                              Vector z(y.size());
                              for (Eigen::Index i = 0; i < y.size(); ++i)
                                z[i] = s.kind == activation_kind::quadratic
                                           ? y[i] + s.theta[i] * y[i] * y[i]
                                           : y[i] + std::max(s.theta[i], 0.0) * std::pow(y[i], 3);
                              return z;
                            },
                            [&](const CouplingLayer& c) -> Vector {
                              std::vector<double> ya;
                              std::vector<int> b_units;
                              for (std::size_t k = 0; k < c.mask.size(); ++k)
                                if (c.mask[k] == 0)
                                  ya.push_back(y[static_cast<Eigen::Index>(k)]);
                                else
                                  b_units.push_back(static_cast<int>(k));
                              Vector z = y;
                              for (Eigen::Index h = 0; h < c.W1.rows(); ++h) {
                                double u = c.b1[h];
                                for (std::size_t k = 0; k < ya.size(); ++k)
                                  u += c.W1(h, static_cast<Eigen::Index>(k)) * ya[k];
                                const double phi = c.kind == activation_kind::quadratic
                                                       ? u + c.alpha[h] * u * u
                                                       : u + c.alpha[h] * u * u * u;
                                for (std::size_t r = 0; r < b_units.size(); ++r)
                                  z[b_units[r]] += c.W2(static_cast<Eigen::Index>(r), h) * phi;
                              }
                              for (std::size_t r = 0; r < b_units.size(); ++r)
                                z[b_units[r]] += c.b2[static_cast<Eigen::Index>(r)];
                              return z;
                            },
                            [&](const ActNormLayer& an) -> Vector {
                              Vector z(y.size());
                              for (Eigen::Index i = 0; i < y.size(); ++i)
                                z[i] = std::exp(an.theta[i]) * y[i] + an.shift[i];
                              return z;
                            }},
                   layer);
  return y;
}

// S(x) = −ln p(x) = ½|z|² + (d/2) ln 2π − ln|det J|, z and the Jacobian J (central differences)
// from reference_map.
double reference_action(const Flow& f, const Vector& x) {
  const Eigen::Index d = x.size();
  const double h = 1e-5;
  Matrix J(d, d);
  for (Eigen::Index k = 0; k < d; ++k) {
    Vector up = x, down = x;
    up[k] += h;
    down[k] -= h;
    J.col(k) = (reference_map(f, up) - reference_map(f, down)) / (2 * h);
  }
  const Vector z = reference_map(f, x);
  return 0.5 * z.squaredNorm() + 0.5 * static_cast<double>(d) * std::log(2 * std::numbers::pi) -
         std::log(std::fabs(J.determinant()));
}

struct Case {
  std::string name;
  architecture arch;
  activation_kind kind;
  bool actnorm = false;
};
const Case cases[] = {
    {"activation cubic", architecture::activation, activation_kind::cubic},
    {"activation quadratic", architecture::activation, activation_kind::quadratic},
    {"coupling cubic", architecture::coupling, activation_kind::cubic},
    {"coupling quadratic", architecture::coupling, activation_kind::quadratic},
    {"activation cubic + actnorm", architecture::activation, activation_kind::cubic, true},
    {"activation quadratic + actnorm", architecture::activation, activation_kind::quadratic, true},
    {"coupling cubic + actnorm", architecture::coupling, activation_kind::cubic, true},
};

}  // namespace

TEST_CASE("trainer: the test's own -ln p is the Gaussian action for the identity flow") {
  FlowSpec spec;
  spec.layers = 2;
  spec.actnorm = true;
  const Flow f = make_flow(3, spec, 1);  // cubic α = 0.01: not quite the identity
  Flow id = f;
  for (Layer& layer : id.layers)
    if (auto* s = std::get_if<ActivationLayer>(&layer)) s->theta.setConstant(-800);  // α = 0
  const Vector x = Vector::LinSpaced(3, -0.7, 1.1);
  const double gauss = 0.5 * x.squaredNorm() + 1.5 * std::log(2 * std::numbers::pi);
  CHECK(std::fabs(reference_action(id, x) - gauss) <= 1e-10);
  CHECK(std::fabs(reference_action(f, x) - gauss) > 1e-4);
}

TEST_CASE("trainer: every gradient matches central finite differences") {
  const int d = 4;
  for (const Case& cs : cases) {
    CAPTURE(cs.name);
    Flow f = random_flow(d, cs.arch, cs.kind, 2, 7, cs.actnorm);
    std::mt19937_64 rng(3);
    const Matrix X = random_matrix(d, 7, rng, 0.8);
    const FlowConstants c = prepare(f);
    FlowWorkspace ws;
    const ForwardResult r = forward(f, c, X, ws);
    REQUIRE(r.in_domain());
    Flow g = f.zeros_like();
    backward(f, c, ws, 1.0 / X.cols(), g);

    // The action forward computes, per sample and summed, against −ln p from the layer formulas.
    double reference_sum = 0;
    for (Eigen::Index j = 0; j < X.cols(); ++j) {
      const double s = reference_action(f, X.col(j));
      FlowWorkspace ws1;
      const double one = forward(f, c, X.col(j), ws1).loss_sum;
      CAPTURE(j);
      CAPTURE(s);
      CHECK(std::fabs(one - s) <= 1e-7 * std::fabs(s));
      reference_sum += s;
    }
    CHECK(std::fabs(r.loss_sum - reference_sum) <= 1e-7 * std::fabs(reference_sum));

    auto P = f.parameters();
    auto G = g.parameters();
    int checked = 0;
    for (std::size_t b = 0; b < P.size(); ++b)
      for (std::size_t i = 0; i < P[b].size(); ++i) {
        const double p0 = P[b][i];
        const double h = 1e-5 * std::max(1.0, std::fabs(p0));
        P[b][i] = p0 + h;
        f.sync();
        const double up = mean_action(f, X);
        P[b][i] = p0 - h;
        f.sync();
        const double down = mean_action(f, X);
        P[b][i] = p0;
        f.sync();
        const double fd = (up - down) / (2 * h);
        CAPTURE(b);
        CAPTURE(i);
        CHECK(std::fabs(G[b][i] - fd) <= 1e-7 * (1 + std::fabs(fd)));
        ++checked;
      }
    CHECK(checked == static_cast<int>(f.parameter_count()));
  }
}

TEST_CASE("trainer: ln|det df/dx| matches the determinant of a numerical Jacobian") {
  const int d = 4;
  for (const Case& cs : cases) {
    CAPTURE(cs.name);
    const Flow f = random_flow(d, cs.arch, cs.kind, 2, 11, cs.actnorm);
    std::mt19937_64 rng(5);
    const Matrix X = random_matrix(d, 3, rng, 0.8);
    const FlowConstants c = prepare(f);
    FlowWorkspace ws;
    forward(f, c, X, ws);
    for (Eigen::Index j = 0; j < X.cols(); ++j) {
      Matrix J(d, d);
      for (int k = 0; k < d; ++k) {
        const double h = 1e-5;
        Matrix up = X.col(j), down = X.col(j);
        up(k, 0) += h;
        down(k, 0) -= h;
        J.col(k) = (latent(f, up) - latent(f, down)) / (2 * h);
      }
      CHECK(ws.log_det[j] == doctest::Approx(std::log(std::fabs(J.determinant()))).epsilon(1e-8));
    }
  }
}

TEST_CASE("trainer: activation inverses continue the identity") {
  for (double alpha : {0.0, 1e-12, 1e-3, 0.25, 3.0}) {
    for (double z : {-7.5, -1.0, -1e-9, 0.0, 2e-8, 0.5, 40.0}) {
      CAPTURE(alpha);
      CAPTURE(z);
      const double u3 = inverse_cubic(alpha, z);
      CHECK(std::fabs(u3 + alpha * u3 * u3 * u3 - z) <= 1e-14 * (1 + std::fabs(z)));
      const double u2 = inverse_quadratic(alpha, z);
      if (1 + 4 * alpha * z >= 0) {
        CHECK(std::fabs(u2 + alpha * u2 * u2 - z) <= 1e-14 * (1 + std::fabs(z)));
        CHECK(1 + 2 * alpha * u2 >= 0);  // the branch through u = z = 0
      } else {
        CHECK(std::isnan(u2));
      }
    }
  }
  CHECK(std::isnan(inverse_quadratic(1.0, -0.3)));
  CHECK(inverse_quadratic(-0.5, 0.2) == doctest::Approx(1 - std::sqrt(0.6)));
}

TEST_CASE("trainer: generate after forward is the identity to 1e-12") {
  const int d = 6;
  for (const Case& cs : cases) {
    CAPTURE(cs.name);
    // Two nonlinear layers (the default depth): the rounding of z in the forward pass comes back
    // multiplied by |∂x/∂z|, which grows with every stacked cubic.
    const Flow f = random_flow(d, cs.arch, cs.kind, 2, 21, cs.actnorm);
    std::mt19937_64 rng(9);
    const Matrix X = random_matrix(d, 50, rng, 0.7);
    const Matrix Z = latent(f, X);
    std::vector<char> ok;
    const Matrix back = inverse(f, Z, ok);
    for (char k : ok) CHECK(k);
    CHECK((back - X).cwiseAbs().maxCoeff() <= 1e-12);
    // The other way round: forward after generate.
    const Matrix Z2 = random_matrix(d, 50, rng, 1.0);
    const Matrix X2 = inverse(f, Z2, ok);
    for (Eigen::Index j = 0; j < Z2.cols(); ++j)
      if (ok[j]) {
        CAPTURE(X2.col(j).cwiseAbs().maxCoeff());
        CHECK((latent(f, X2.col(j)) - Z2.col(j)).cwiseAbs().maxCoeff() <= 1e-12);
      }
  }
}

TEST_CASE("trainer: sample_flow keeps, in order, the latent draws that have a preimage") {
  // A quadratic layer with a large α: many latent samples have no preimage.
  Flow f = random_flow(2, architecture::activation, activation_kind::quadratic, 1, 5, false);
  std::get<ActivationLayer>(f.layers[1]).theta.setConstant(0.4);
  f.sync();
  // The latent stream, drawn here on its own: one normal stream, column by column.
  const std::size_t draws = 3 * 4096 + 100;
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal;
  Matrix z(2, static_cast<Eigen::Index>(draws));
  for (Eigen::Index i = 0; i < z.size(); ++i) z.data()[i] = normal(rng);
  std::vector<char> ok;
  inverse(f, z, ok);
  std::vector<Eigen::Index> kept;
  for (std::size_t j = 0; j < draws; ++j)
    if (ok[j]) kept.push_back(static_cast<Eigen::Index>(j));
  REQUIRE(kept.size() < draws * 9 / 10);  // the layer does reject
  // Until n samples: exactly n, the first n accepted draws, mapped back to their latent values.
  const std::size_t n = 4000;
  REQUIRE(kept.size() > n);
  const FlowSamples all = sample_flow(f, n, 11);
  REQUIRE(all.x.cols() == static_cast<Eigen::Index>(n));
  const Matrix back = latent(f, all.x);
  for (std::size_t k = 0; k < n; ++k)
    CHECK((back.col(static_cast<Eigen::Index>(k)) - z.col(kept[k])).cwiseAbs().maxCoeff() <= 1e-12);
  CHECK(all.rejected == static_cast<std::size_t>(kept[n - 1] + 1) - n);
  // At most max_draws latent samples (verify's use): the accepted ones among them, no redraw.
  const std::size_t m = 5000;
  const FlowSamples bounded = sample_flow(f, m, 11, m);
  const auto accepted = std::count_if(
      kept.begin(), kept.end(), [&](Eigen::Index j) { return j < static_cast<Eigen::Index>(m); });
  CHECK(bounded.drawn == m);
  REQUIRE(bounded.x.cols() == accepted);
  CHECK(bounded.x == all.x.leftCols(accepted));
}

TEST_CASE("trainer: a model file reads back to the same flow, bit for bit") {
  for (const Case& cs : cases) {
    CAPTURE(cs.name);
    const Flow f = random_flow(5, cs.arch, cs.kind, 2, 31, cs.actnorm);
    const std::string text = manifest_json(f);
    if (cs.actnorm) {
      // The writer's actnorm entries: "scale" (exp θ, the scale the map uses) and "shift", each
      // number reading back to the same double.
      const auto json = nlohmann::json::parse(text);
      REQUIRE(json["layers"].size() == f.layers.size());
      int seen = 0;
      for (std::size_t l = 0; l < f.layers.size(); ++l) {
        const auto* an = std::get_if<ActNormLayer>(&f.layers[l]);
        if (!an) continue;
        const auto& e = json["layers"][l];
        CHECK(e.size() == 3);
        CHECK(e["type"] == "actnorm");
        REQUIRE(e["scale"].size() == 5);
        REQUIRE(e["shift"].size() == 5);
        for (Eigen::Index i = 0; i < 5; ++i) {
          CHECK(e["scale"][i].get<double>() == an->scale[i]);
          CHECK(e["shift"][i].get<double>() == an->shift[i]);
          CHECK(an->scale[i] == std::exp(an->theta[i]));
        }
        ++seen;
      }
      CHECK(seen == 2);
    }
    const Flow g = parse_train_flow(text, "test.flow.json");
    std::mt19937_64 rng(2);
    const Matrix X = random_matrix(5, 20, rng, 0.7);
    const Matrix zf = latent(f, X), zg = latent(g, X);
    CHECK((zf - zg).cwiseAbs().maxCoeff() == 0.0);
    CHECK((action_values(f, X) - action_values(g, X)).cwiseAbs().maxCoeff() == 0.0);
    std::vector<char> ok;
    CHECK((inverse(g, zf, ok) - X).cwiseAbs().maxCoeff() <= 1e-12);
  }
}

TEST_CASE("trainer: training on Gaussian data recovers Gamma2 = Sigma^-1 within the sample error") {
  // Σ⁻¹ of a correlated 3-unit Gaussian; data x = L⁻ᵀ ξ has covariance (LLᵀ)⁻¹ = Σ.
  Matrix P(3, 3);
  P << 2.0, -0.6, 0.3, -0.6, 1.5, -0.4, 0.3, -0.4, 1.0;
  const Eigen::LLT<Matrix> llt(P);
  std::mt19937_64 rng(17);
  const int N = 20000;
  const Matrix xi = random_matrix(3, N, rng);
  Matrix X = llt.matrixU().solve(xi);  // U = Lᵀ, so x = L⁻ᵀ ξ
  X.colwise() += Vector::Constant(3, 0.5);

  FlowSpec spec;
  spec.layers = 0;  // a single affine layer: S = ½|Wx + b|² + const, Γ⁽²⁾ = WᵀW
  spec.latent_couplings = 0;
  Flow f = make_flow(3, spec, 1);
  TrainOptions o;
  o.epochs = 40;
  o.batch = 500;
  o.lr = 3e-3;
  o.val_fraction = 0.1;
  o.seed = 4;
  o.whiten = false;  // start from W = I, b = 0: the optimiser must do the work
  const TrainResult r = train_flow(f, X, o);
  REQUIRE(r.stop_reason.empty());
  const auto& W = std::get<AffineLayer>(r.flow.layers[0]).W;
  const Matrix gamma2 = W.transpose() * W;
  const double n = static_cast<double>(r.train_size);
  for (int i = 0; i < 3; ++i)
    for (int j = i; j < 3; ++j) {
      // Asymptotic standard deviation of a sample precision entry (Wishart):
      // ((P_ij² + P_ii P_jj)/n)^½.
      const double sigma = std::sqrt((P(i, j) * P(i, j) + P(i, i) * P(j, j)) / n);
      CAPTURE(i);
      CAPTURE(j);
      CAPTURE(gamma2(i, j));
      CHECK(std::fabs(gamma2(i, j) - P(i, j)) <= 4 * sigma);
    }
  // The held-out NLL is the one of the best Gaussian (same model class) up to optimisation.
  CHECK(r.history.back().val_nll == doctest::Approx(r.gaussian_val_nll).epsilon(2e-3));
}

TEST_CASE("trainer: a run is reproducible from its seed, and threads give the same result") {
  std::mt19937_64 rng(8);
  const Matrix X = random_matrix(4, 600, rng);
  FlowSpec spec;
  spec.arch = architecture::coupling;
  spec.hidden = 4;
  TrainOptions o;
  o.epochs = 3;
  o.batch = 64;
  o.seed = 12;
  const TrainResult a = train_flow(make_flow(4, spec, 3), X, o);
  const TrainResult b = train_flow(make_flow(4, spec, 3), X, o);
  CHECK(manifest_json(a.flow) == manifest_json(b.flow));
  o.threads = 2;
  const TrainResult c = train_flow(make_flow(4, spec, 3), X, o);
  // Two threads sum the batch gradient in two parts: equal up to rounding.
  CHECK(c.history.back().val_nll == doctest::Approx(a.history.back().val_nll).epsilon(1e-9));
}

TEST_CASE("trainer: guards stop on a singular W and on samples outside a quadratic domain") {
  std::mt19937_64 rng(8);
  const Matrix X = random_matrix(3, 200, rng);
  FlowSpec spec;
  spec.layers = 1;
  spec.activation = activation_kind::quadratic;
  Flow f = make_flow(3, spec, 1);
  std::get<AffineLayer>(f.layers[0]).W.row(2).setZero();
  TrainOptions o;
  o.epochs = 2;
  o.whiten = false;
  CHECK_THROWS_WITH_AS(train_flow(f, X, o), doctest::Contains("singular"), flowaction::Error);

  Flow g = make_flow(3, spec, 1);
  auto& s = std::get<ActivationLayer>(g.layers[1]);
  s.theta.setConstant(2.0);  // 1 + 4u <= 0 for u <= -1/4: many samples fall outside
  g.sync();
  ForwardResult dom;
  mean_nll(g, X, 1, &dom);
  CHECK_FALSE(dom.in_domain());
  CHECK(dom.domain_layer == 1);
  const TrainResult r = train_flow(g, X, o);
  CHECK(r.good_epochs == 0);
  CHECK(r.stop_reason.find("domain") != std::string::npos);

  // Samples of size 1e110 overflow u³ and ½|z|²: the loss is inf − inf = NaN.
  FlowSpec cubic;
  cubic.layers = 1;
  const TrainResult n = train_flow(make_flow(3, cubic, 1), X * 1e110, o);
  CHECK(n.good_epochs == 0);
  CAPTURE(n.stop_reason);
  CHECK(n.stop_reason.find("the loss became NaN") != std::string::npos);
}

TEST_CASE("trainer: --actnorm puts an ActNorm layer between each affine and nonlinear layer") {
  for (architecture arch : {architecture::activation, architecture::coupling}) {
    FlowSpec spec;
    spec.arch = arch;
    spec.layers = 2;
    spec.actnorm = true;
    spec.latent_couplings = 0;  // the blocks alone
    const Flow f = make_flow(4, spec, 1);
    REQUIRE(f.layers.size() == 7);
    for (std::size_t l : {0, 3, 6}) CHECK(std::holds_alternative<AffineLayer>(f.layers[l]));
    for (std::size_t l : {1, 4}) {
      const auto& an = std::get<ActNormLayer>(f.layers[l]);  // starts as the identity
      CHECK(an.scale == Vector::Ones(4));
      CHECK(an.theta == Vector::Zero(4));
      CHECK(an.shift == Vector::Zero(4));
    }
    for (std::size_t l : {2, 5})
      CHECK(std::holds_alternative<ActivationLayer>(f.layers[l]) ==
            (arch == architecture::activation));
    // θ and t of each ActNorm layer are trained parameters.
    spec.actnorm = false;
    CHECK(f.parameter_count() == make_flow(4, spec, 1).parameter_count() + 2 * 2 * 4);
  }
  // Built from s and t (as a model reader does): s is kept exactly, θ = ln s.
  const Vector s = (Vector(3) << 0.1, 1.0, 3.7).finished();
  const ActNormLayer an(s);
  CHECK(an.scale == s);
  CHECK(an.shift == Vector::Zero(3));
  CHECK(an.theta[2] == std::log(3.7));
  CHECK_THROWS_WITH_AS(ActNormLayer((Vector(2) << 1.0, -2.0).finished()),
                       doctest::Contains("unit 1"), flowaction::Error);
  CHECK_THROWS_AS(ActNormLayer((Vector(2) << 0.0, 1.0).finished()), flowaction::Error);
  CHECK_THROWS_AS(ActNormLayer(Vector::Ones(2), Vector::Zero(3)), flowaction::Error);
}

TEST_CASE("trainer: ActNorm's data-dependent initialisation gives zero mean, unit variance") {
  for (architecture arch : {architecture::activation, architecture::coupling}) {
    CAPTURE(static_cast<int>(arch));
    Flow f = random_flow(4, arch, activation_kind::cubic, 3, 41, true);
    std::mt19937_64 rng(6);
    // Units of different means and spreads, so that no layer starts normalised by accident.
    Matrix X = random_matrix(4, 500, rng);
    X = (Vector(4) << 3.0, 0.2, 1.0, 7.0).finished().asDiagonal() * X;
    X.colwise() += (Vector(4) << 1.0, -4.0, 0.5, 20.0).finished();
    init_actnorm(f, X);
    FlowWorkspace ws;
    forward(f, prepare(f), X, ws);
    int seen = 0;
    for (std::size_t l = 0; l < f.layers.size(); ++l) {
      if (!std::holds_alternative<ActNormLayer>(f.layers[l])) continue;
      const Matrix& out = ws.x[l + 1];
      const Vector mean = out.rowwise().mean();
      const Vector var = (out.colwise() - mean).rowwise().squaredNorm() / 500.0;
      CAPTURE(l);
      CHECK(mean.cwiseAbs().maxCoeff() <= 1e-12);
      CHECK((var.array() - 1).abs().maxCoeff() <= 1e-12);
      // And its input was not normalised already: the layer did something.
      CHECK((std::get<ActNormLayer>(f.layers[l]).scale.array() - 1).abs().maxCoeff() > 0.05);
      ++seen;
    }
    CHECK(seen == 3);
  }

  // A constant unit has no scale to normalise: an error naming layer and unit.
  FlowSpec spec;
  spec.layers = 1;
  spec.actnorm = true;
  std::mt19937_64 rng(8);
  Matrix X = random_matrix(3, 100, rng);
  X.row(2).setConstant(1.5);
  Flow g = make_flow(3, spec, 1);
  CHECK_THROWS_WITH_AS(init_actnorm(g, X), doctest::Contains("layer 2 (actnorm): unit 2"),
                       flowaction::Error);
  TrainOptions o;
  o.epochs = 1;
  o.whiten = false;  // whitening would refuse the constant unit first
  CHECK_THROWS_WITH_AS(train_flow(g, X, o), doctest::Contains("constant"), flowaction::Error);
}

TEST_CASE("trainer: training with ActNorm starts normalised, runs, and is reproducible") {
  std::mt19937_64 rng(8);
  Matrix X = 3.0 * random_matrix(4, 600, rng);
  X.row(0).array() += 5.0;
  FlowSpec spec;
  spec.actnorm = true;
  TrainOptions o;
  o.epochs = 0;
  o.whiten = false;
  o.val_fraction = 0;
  // No epochs: the flow handed back is the initialised one, s ≈ 1/3 and t ≈ −mean/3.
  const TrainResult init = train_flow(make_flow(4, spec, 3), X, o);
  const auto& an = std::get<ActNormLayer>(init.flow.layers[1]);
  CHECK((an.scale.array() * 3 - 1).abs().maxCoeff() < 0.1);
  CHECK(an.shift[0] == doctest::Approx(-5.0 / 3).epsilon(0.1));

  o.epochs = 3;
  o.batch = 64;
  o.seed = 12;
  o.val_fraction = 0.1;
  o.whiten = true;
  const TrainResult a = train_flow(make_flow(4, spec, 3), X, o);
  REQUIRE(a.stop_reason.empty());
  CHECK(std::isfinite(a.history.back().val_nll));
  const TrainResult b = train_flow(make_flow(4, spec, 3), X, o);
  CHECK(manifest_json(a.flow) == manifest_json(b.flow));
}

TEST_CASE("trainer: layers start near the identity at any depth") {
  FlowSpec spec;
  for (int layers : {1, 2, 8, 16}) {
    spec.layers = layers;
    const Flow f = make_flow(3, spec, 1);
    const auto& s = std::get<ActivationLayer>(f.layers[1]);
    CHECK(s.alpha[0] == doctest::Approx(std::min(0.01, 0.02 / layers)));
    // A 4-sigma sample is bent, but not thrown away (α = 0.01 at depth 16 sends it to 1e13).
    Matrix x = Matrix::Constant(3, 1, 4.0);
    CHECK(latent(f, x)(0, 0) < 7.0);
  }
}

TEST_CASE("trainer: steps that make the loss jump are undone; stop_requested ends with the best") {
  // φ⁴ samples (lighter tails than a Gaussian: what cubic activations are for).
  HmcOptions h;
  h.samples = 2000;
  h.seed = 21;
  h.thermalise = 200;
  h.pilot = 500;
  const HmcResult hmc = sample_phi4({parse_lattice("3"), 0.5, 6.0}, h);
  const Matrix X = Eigen::Map<const Matrix>(hmc.samples.data(), 3, 2000);
  FlowSpec spec;
  spec.layers = 4;
  TrainOptions o;
  o.epochs = 15;
  o.lr = 10;  // far too large: the guards must halve it until steps help
  o.seed = 2;
  const TrainResult r = train_flow(make_flow(3, spec, 1), X, o);
  CHECK(r.stop_reason.empty());
  CHECK(r.undone_steps + r.undone_epochs > 0);
  CHECK(r.final_lr < o.lr);
  CHECK(r.val_nll <= r.gaussian_val_nll + 0.01);
  CHECK(r.train_nll <= r.gaussian_train_nll + 0.01);
  // The flow handed back is the best epoch's.
  double best = INFINITY;
  for (const EpochStats& e : r.history) best = std::min(best, e.val_nll);
  if (r.best_epoch > 0) CHECK(r.val_nll == doctest::Approx(best).epsilon(1e-9));

  TrainOptions stop;
  stop.epochs = 100;
  int polls = 0;
  stop.stop_requested = [&] { return ++polls > 20; };  // during the third epoch of 7 batches
  stop.batch = 256;
  const TrainResult s = train_flow(make_flow(3, spec, 1), X, stop);
  CHECK(s.interrupted);
  CHECK(s.good_epochs == 2);
  CHECK(s.best_epoch <= 2);
}
