// The trainer's double-precision flow and the engine read the same manifest: at one point, the
// trainer's forward pass and ln|det| give the engine's Gamma0, and central differences of the
// trainer's -ln p give the engine's Gamma1, for every architecture (ActNorm included).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <random>

#include "engine/extract.hpp"
#include "frontends/exact_json.hpp"
#include "frontends/manifest.hpp"
#include "frontends/train_flow.hpp"
#include "trainer/phi4_sampler.hpp"
#include "trainer/trainer.hpp"

namespace train = flowaction::train;

namespace {

// The engine's Γ⁽⁰⁾ and Γ⁽¹⁾ of flow's manifest at three points against the trainer's forward pass
// and central differences of it.
void check_agreement(const train::Flow& flow) {
  const int d = flow.dim;
  const std::string text = flowaction::manifest_json(flow);
  CAPTURE(text);
  const train::Flow f = flowaction::parse_train_flow(text, "trained.flow.json");
  const flowaction::Model model = flowaction::parse_manifest(text, "trained.flow.json");
  for (int s = 0; s < 3; ++s) {
    flowaction::ExtractRequest req;
    req.order = 1;
    req.field = flowaction::field_kind::float64;
    train::Vector x(d);
    for (int i = 0; i < d; ++i) {
      req.at.push_back(flowaction::parse_decimal(fmt::format("{}", 0.1 * (s + 1) * (i - 1))));
      x[i] = req.at.back().to_double();
    }
    const auto a = std::get<flowaction::Action<double>>(flowaction::extract(model, req).action);
    const double S = train::action_values(f, x)[0];
    CHECK(a.vertices[0][0] == doctest::Approx(S).epsilon(1e-12));
    for (int i = 0; i < d; ++i) {
      const double h = 1e-5;
      train::Vector up = x, down = x;
      up[i] += h, down[i] -= h;
      const double fd =
          (train::action_values(f, up)[0] - train::action_values(f, down)[0]) / (2 * h);
      CAPTURE(i);
      CHECK(std::fabs(a.vertices[1][static_cast<std::size_t>(i)] - fd) <=
            1e-7 * (1 + std::fabs(fd)));
    }
  }
}

}  // namespace

TEST_CASE("trainer and engine: one model, one point, the same action and gradient") {
  struct Case {
    train::architecture arch;
    train::activation_kind kind;
    bool actnorm;
  };
  const Case cases[] = {
      {train::architecture::activation, train::activation_kind::cubic, false},
      {train::architecture::activation, train::activation_kind::quadratic, true},
      {train::architecture::coupling, train::activation_kind::cubic, true},
      {train::architecture::coupling, train::activation_kind::quadratic, false},
  };
  const int d = 3;
  for (const Case& cs : cases) {
    train::FlowSpec spec;
    spec.arch = cs.arch;
    spec.activation = cs.kind;
    spec.layers = 2;
    spec.hidden = 3;
    spec.actnorm = cs.actnorm;
    train::Flow flow = train::make_flow(d, spec, 41);
    // Generic weights (make_flow starts near the identity): perturb every parameter.
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> u(-0.2, 0.2);
    for (auto block : flow.parameters())
      for (double& p : block) p += u(rng);
    flow.sync();
    check_agreement(flow);
  }
}

TEST_CASE("trainer and engine: the default flow as training leaves it agrees too") {
  // The default start (standardisation first, decorrelation last) and projected cubic steps, on
  // φ⁴ ring data: the trained weights, not only make_flow's, must read back into the engine.
  train::HmcOptions h;
  h.samples = 1000;
  h.seed = 3;
  h.thermalise = 200;
  h.pilot = 300;
  const train::HmcResult hmc = train::sample_phi4({train::parse_lattice("3"), 0.5, 6.0}, h);
  const train::Matrix x = Eigen::Map<const train::Matrix>(hmc.samples.data(), 3, 1000);
  train::TrainOptions o;
  o.epochs = 5;
  const train::TrainResult r = train::train_flow(train::make_flow(3, {}, 0), x, o);
  REQUIRE(r.stop_reason.empty());
  check_agreement(r.flow);
}
