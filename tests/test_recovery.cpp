// The trainer's recovery features of issue 11: symmetry augmentation (the exact group images),
// the learning-rate schedule (against its formula), the --local-first structure, the warning
// for a flow that collapsed to the Gaussian, one parameter count in train and inspect, the
// projection of cubic α onto α ≥ 0, the start (standardise first, decorrelate last) and the
// latent coupling layers.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "engine/error.hpp"
#include "frontends/cli.hpp"
#include "frontends/npy.hpp"
#include "tests/temp_dir.hpp"
#include "trainer/augment.hpp"
#include "trainer/phi4_sampler.hpp"
#include "trainer/trainer.hpp"

using namespace flowaction;
using namespace flowaction::train;

namespace {

Eigen::MatrixXd random_columns(int d, int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd x(d, n);
  for (Eigen::Index k = 0; k < x.size(); ++k) x.data()[k] = normal(rng);
  return x;
}

std::vector<double> column(const Eigen::MatrixXd& x, Eigen::Index j) {
  return {x.col(j).data(), x.col(j).data() + x.rows()};
}

}  // namespace

TEST_CASE("augment: a ring's images are the 2n rotations and reflections, times the sign flip") {
  // Independently of lattice_symmetries: on a ring of n, site i goes to (s·i + t) mod n.
  for (int n : {2, 3, 4, 5}) {
    const Lattice ring = parse_lattice(std::to_string(n));
    const Eigen::MatrixXd x = random_columns(n, 3, 7 + n);
    const Augment a = parse_augment("z2,translate,reflect", ring);
    const std::size_t group =
        n <= 2 ? static_cast<std::size_t>(n) : static_cast<std::size_t>(2 * n);
    CHECK(a.permutations.size() == group);
    CHECK(a.images() == 2 * group);
    const Eigen::MatrixXd y = augment(x, a);
    REQUIRE(y.cols() == x.cols() * static_cast<Eigen::Index>(2 * group));
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      std::multiset<std::vector<double>> expected, got;
      std::set<std::vector<double>> distinct;
      for (int sign : {1, -1})
        for (int s : {1, -1})
          for (int t = 0; t < n; ++t) {
            std::vector<double> v(static_cast<std::size_t>(n));
            for (int i = 0; i < n; ++i)
              v[static_cast<std::size_t>(((s * i + t) % n + n) % n)] = sign * x(i, j);
            distinct.insert(v);
          }
      expected.insert(distinct.begin(), distinct.end());
      for (std::size_t g = 0; g < 2 * group; ++g)
        got.insert(column(y, static_cast<Eigen::Index>(g) * x.cols() + j));
      CHECK(got == expected);  // each group element once: a generic field has distinct images
    }
  }
}

TEST_CASE("augment: every image on a torus has the same phi^4 action; 8 n^2 of them on n x n") {
  for (const char* lat : {"3x3", "4x4", "3x4"}) {
    const Lattice l = parse_lattice(lat);
    const Phi4Theory th{l, 0.7, 3.0, 0.0};
    const Augment a = parse_augment("translate,reflect,z2", l);
    const std::size_t expected_group = static_cast<std::size_t>(l.sites()) * (l.n0 == l.n1 ? 8 : 4);
    CHECK(a.permutations.size() == expected_group);
    const Eigen::MatrixXd x = random_columns(l.sites(), 2, 11);
    const Eigen::MatrixXd y = augment(x, a);
    REQUIRE(y.cols() == x.cols() * static_cast<Eigen::Index>(2 * expected_group));
    std::set<std::vector<double>> distinct;
    for (Eigen::Index k = 0; k < y.cols(); ++k) {
      const Eigen::Index j = k % x.cols();
      const auto v = column(y, k);
      CHECK(phi4_action(th, v) == doctest::Approx(phi4_action(th, column(x, j))).epsilon(1e-12));
      // A permutation (and sign) of the sample: the same multiset of absolute values.
      auto a1 = column(x, j), a2 = v;
      for (double& e : a1) e = std::fabs(e);
      for (double& e : a2) e = std::fabs(e);
      std::sort(a1.begin(), a1.end());
      std::sort(a2.begin(), a2.end());
      CHECK(a1 == a2);
      distinct.insert(v);
    }
    CHECK(distinct.size() == static_cast<std::size_t>(y.cols()));
    CHECK(a.permutations.front() == std::vector<int>([&] {
            std::vector<int> id(static_cast<std::size_t>(l.sites()));
            for (int i = 0; i < l.sites(); ++i) id[static_cast<std::size_t>(i)] = i;
            return id;
          }()));
  }
}

TEST_CASE("augment: z2 alone needs no lattice; translate without one, or a typo, is an error") {
  const Augment z = parse_augment("z2", std::nullopt);
  CHECK(z.images() == 2);
  const Eigen::MatrixXd x = random_columns(3, 4, 1);
  const Eigen::MatrixXd y = augment(x, z);
  CHECK(y.leftCols(4) == x);
  CHECK(y.rightCols(4) == -x);
  CHECK(parse_augment("none", std::nullopt).empty());
  CHECK_THROWS_AS(parse_augment("translate", std::nullopt), Error);
  CHECK_THROWS_AS(parse_augment("z2,rotate", std::nullopt), Error);
  CHECK_THROWS_AS(augment(x, parse_augment("translate", parse_lattice("4"))), Error);
}

TEST_CASE("schedule: cosine learning rates follow lr (f + (1 - f)(1 + cos(pi (e-1)/(E-1)))/2)") {
  TrainOptions o;
  o.lr = 0.003;
  o.epochs = 11;
  o.final_lr_fraction = 0.01;
  o.schedule = lr_schedule::constant;
  for (int e = 1; e <= o.epochs; ++e) CHECK(scheduled_lr(o, e) == o.lr);
  o.schedule = lr_schedule::cosine;
  CHECK(scheduled_lr(o, 1) == doctest::Approx(0.003));
  CHECK(scheduled_lr(o, 11) == doctest::Approx(0.003 * 0.01));
  CHECK(scheduled_lr(o, 6) == doctest::Approx(0.003 * (0.01 + 0.99 * 0.5)));
  CHECK(scheduled_lr(o, 3) ==
        doctest::Approx(0.003 * (0.01 + 0.99 * 0.5 * (1 + std::cos(M_PI * 0.2)))));
  for (int e = 2; e <= o.epochs; ++e) CHECK(scheduled_lr(o, e) < scheduled_lr(o, e - 1));
  o.epochs = 1;
  CHECK(scheduled_lr(o, 1) == o.lr);
}

TEST_CASE("local-first: the first nonlinear layer acts on each unit after an ActNorm layer") {
  FlowSpec spec;
  spec.layers = 2;
  spec.local_first = true;
  spec.latent_couplings = 0;  // the blocks alone
  const Flow f = make_flow(3, spec, 0);
  REQUIRE(f.layers.size() == 5);
  CHECK(std::holds_alternative<ActNormLayer>(f.layers[0]));
  CHECK(std::holds_alternative<ActivationLayer>(f.layers[1]));
  CHECK(std::holds_alternative<AffineLayer>(f.layers[2]));
  CHECK(std::holds_alternative<ActivationLayer>(f.layers[3]));
  CHECK(std::holds_alternative<AffineLayer>(f.layers[4]));
}

TEST_CASE("latent couplings: two identity couplings after the last affine layer, by parity") {
  FlowSpec spec;
  const Flow f = make_flow(4, spec, 0);
  REQUIRE(f.layers.size() == 5);
  CHECK(std::holds_alternative<AffineLayer>(f.layers[2]));
  const auto& c0 = std::get<CouplingLayer>(f.layers[3]);
  const auto& c1 = std::get<CouplingLayer>(f.layers[4]);
  CHECK(c0.mask == std::vector<int>{1, 0, 1, 0});
  CHECK(c1.mask == std::vector<int>{0, 1, 0, 1});
  CHECK(c0.hidden() == spec.hidden);
  CHECK(c0.kind == activation_kind::cubic);
  // They start as the identity: the flow maps as the one without them.
  spec.latent_couplings = 0;
  const Flow g = make_flow(4, spec, 0);
  REQUIRE(g.layers.size() == 3);
  const Eigen::MatrixXd x = random_columns(4, 20, 3);
  CHECK(latent(f, x) == latent(g, x));
  CHECK(action_values(f, x) == action_values(g, x));
  // One unit has nothing to couple.
  CHECK(make_flow(1, FlowSpec{}, 0).layers.size() == 3);
  spec.latent_couplings = -1;
  CHECK_THROWS_AS(make_flow(4, spec, 0), Error);
}

TEST_CASE("cubic layers: alpha is theta projected onto alpha >= 0, also during training") {
  Flow f = make_flow(4, {}, 0);
  auto& s = std::get<ActivationLayer>(f.layers[1]);
  CHECK(s.theta == s.alpha);  // the start, α = 0.01, is θ itself
  s.theta << -0.3, 0.05, 0.0, 0.2;
  f.sync();
  CHECK(s.theta == Vector((Vector(4) << 0.0, 0.05, 0.0, 0.2).finished()));
  CHECK(s.alpha == s.theta);
  // Data with heavier tails than a Gaussian (Laplace) pull a cubic α below 0, where
  // u + αu³ is not invertible: the projection holds it at 0 exactly.
  std::mt19937_64 rng(4);
  std::exponential_distribution<double> expo;
  Eigen::MatrixXd x(2, 4000);
  for (Eigen::Index k = 0; k < x.size(); ++k) x.data()[k] = (rng() & 1 ? 1 : -1) * expo(rng);
  TrainOptions o;
  o.epochs = 20;
  const TrainResult r = train_flow(make_flow(2, {}, 0), x, o);
  REQUIRE(r.stop_reason.empty());
  const auto& a = std::get<ActivationLayer>(r.flow.layers[1]);
  CHECK(a.alpha.minCoeff() == 0.0);
  CHECK(a.theta == a.alpha);
}

TEST_CASE("whitening: the first affine layer standardises each unit, the last decorrelates") {
  // Correlated data with different scales and means.
  Eigen::MatrixXd mix(3, 3);
  mix << 2.0, 0.0, 0.0, 0.6, 0.5, 0.0, -0.3, 0.4, 3.0;
  const Eigen::MatrixXd x =
      (mix * random_columns(3, 5000, 8)).colwise() + Eigen::Vector3d(1.0, -2.0, 0.5);
  const Eigen::Vector3d mu = x.rowwise().mean();
  const Eigen::MatrixXd centred = x.colwise() - mu;
  const Eigen::MatrixXd cov = centred * centred.transpose() / 5000.0;
  auto white = [&](const Flow& f) {
    const Eigen::MatrixXd z = latent(f, x);
    const Eigen::MatrixXd zc = z.colwise() - z.rowwise().mean();
    CHECK(z.rowwise().mean().norm() < 1e-12);
    CHECK((zc * zc.transpose() / 5000.0 - Eigen::MatrixXd::Identity(3, 3)).norm() < 1e-12);
  };
  FlowSpec spec;
  spec.latent_couplings = 0;
  Flow f = make_flow(3, spec, 0);
  std::get<ActivationLayer>(f.layers[1]).theta.setZero();  // α = 0: the affine maps alone
  f.sync();
  init_whitening(f, x);
  const auto& first = std::get<AffineLayer>(f.layers[0]);
  const auto& last = std::get<AffineLayer>(f.layers[2]);
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(first.W(i, i) == doctest::Approx(1 / std::sqrt(cov(i, i))).epsilon(1e-12));
    for (int j = 0; j < 3; ++j)
      if (j != i) CHECK(first.W(i, j) == 0.0);
  }
  CHECK((last.W - last.W.transpose()).norm() < 1e-12);  // C^(-1/2) is symmetric
  white(f);
  // A flow with one affine layer only, or latent couplings after the last: the whitening
  // L^-1 (x - mu) in the first.
  for (int with_couplings : {0, 1}) {
    spec.layers = with_couplings;
    spec.latent_couplings = 2 * with_couplings;
    Flow g = make_flow(3, spec, 0);
    for (Layer& layer : g.layers)
      if (auto* s = std::get_if<ActivationLayer>(&layer)) s->theta.setZero();
    g.sync();
    init_whitening(g, x);
    const auto& w = std::get<AffineLayer>(g.layers[0]).W;
    CHECK(w(0, 1) == 0.0);
    CHECK(w(0, 2) == 0.0);
    CHECK(w(1, 2) == 0.0);
    CHECK(w(1, 0) != 0.0);
    white(g);
  }
}

TEST_CASE(
    "collapse warning: quadratic layers on Z2-symmetric phi^4 data say so, cubic ones do not") {
  HmcOptions hmc;
  hmc.samples = 20000;
  hmc.seed = 2;
  const HmcResult h = sample_phi4(Phi4Theory{parse_lattice("4"), 0.5, 6.0, 0.0}, hmc);
  const Eigen::MatrixXd x = Eigen::Map<const Eigen::MatrixXd>(
      h.samples.data(), static_cast<Eigen::Index>(h.cols), static_cast<Eigen::Index>(h.rows));
  TrainOptions o;
  o.epochs = 300;
  FlowSpec spec;
  spec.activation = activation_kind::quadratic;
  const std::string q = gaussian_collapse_warning(train_flow(make_flow(4, spec, 0), x, o), x);
  CHECK(q.find("close to a Gaussian") != std::string::npos);
  CHECK(q.find("--activation cubic") != std::string::npos);
  spec.activation = activation_kind::cubic;
  CHECK(gaussian_collapse_warning(train_flow(make_flow(4, spec, 0), x, o), x).empty());
  // Gaussian data: nothing to warn about, whatever the flow.
  const Eigen::MatrixXd g = random_columns(4, 20000, 5);
  spec.activation = activation_kind::quadratic;
  CHECK(gaussian_collapse_warning(train_flow(make_flow(4, spec, 0), g, o), g).empty());
}

TEST_CASE("parameters: train and inspect count the same numbers (every stored weight)") {
  TempDir dir("recovery_params");
  const Eigen::MatrixXd x = random_columns(3, 400, 9);
  {
    std::ofstream f(dir.path / "x.npy", std::ios::binary);
    f << npy_bytes(x.data(), static_cast<std::size_t>(x.cols()),
                   static_cast<std::size_t>(x.rows()));
  }
  auto count = [](const std::string& text, const std::string& pattern) {
    std::smatch m;
    REQUIRE(std::regex_search(text, m, std::regex(pattern)));
    return std::stol(m[1]);
  };
  for (std::vector<std::string> extra : {std::vector<std::string>{},
                                         {"--activation", "quadratic"},
                                         {"--layers", "2", "--actnorm"},
                                         {"--arch", "coupling", "--hidden", "3"},
                                         {"--local-first"}}) {
    std::vector<std::string> args{
        "train", (dir.path / "x.npy").string(),      "--epochs", "2", "--allow-worse",
        "-o",    (dir.path / "m.flow.json").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    std::ostringstream out, err;
    REQUIRE(run_cli(args, out, err) == 0);
    const long trained = count(err.str(), R"((\d+) parameters in the model file)");
    std::ostringstream iout, ierr;
    REQUIRE(run_cli({"inspect", (dir.path / "m.flow.json").string()}, iout, ierr) == 0);
    CHECK(count(iout.str(), R"(parameters: (\d+))") == trained);
  }
}

TEST_CASE("verify runs with the shared training options and the new defaults") {
  TempDir dir("recovery_verify");
  std::ostringstream out, err;
  REQUIRE(run_cli({"verify", "--samples", "500", "--epochs", "3", "-o", (dir.path / "v").string()},
                  out, err) == 0);
  CHECK(out.str().find("score matching") != std::string::npos);
}
