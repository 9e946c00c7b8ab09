// How well a trained flow recovers the vertices of known lattice φ⁴ theories (issue 11; prints
// figures, not a test). Theories on a ring of 4: strong (m² = 0, λ = 24), moderate (0.5, 6), weak
// (1, 2), broken (−1, 6) and phi34 (0.5, κ = 1.5, λ = 6; quadratic activation unless
// --phi34-activation cubic). Per theory and seed 0, 1, 2: HMC samples (the data set changes with
// the seed), the flow trained with the default `train` options (or those given here) on the
// first --samples of them, its extracted Γ⁽²⁾, Γ⁽³⁾, Γ⁽⁴⁾ against the truth, and score matching
// (frontends/verify.hpp) on the same samples.
//
//   bench_phi4_recovery [--quick] [--seeds N] [--first-seed S] [--theories strong,moderate,...]
//                       [--samples N] [--layers N] [--epochs N] [--lr X] [--batch N]
//                       [--schedule cosine|constant] [--augment z2,translate,reflect]
//                       [--local-first 1] [--actnorm 1] [--arch coupling] [--hidden N]
//                       [--latent-couplings N] [--phi34-activation cubic|quadratic]
//
// --quick: one seed. Columns: relative errors in percent (signed means over sites or couplings)
// of the flow and of score matching, and |flow error| / |score-matching error|; the "mean" row
// has the mean signed errors and the ratio of the mean absolute errors over the seeds. The last
// column is the flow's best (validation) epoch over the epochs run.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "engine/error.hpp"
#include "engine/extract.hpp"
#include "frontends/args.hpp"
#include "frontends/phi4_truth.hpp"
#include "frontends/train_flow.hpp"
#include "frontends/verify.hpp"
#include "trainer/augment.hpp"
#include "trainer/phi4_sampler.hpp"
#include "trainer/trainer.hpp"

using namespace flowaction;
using Eigen::MatrixXd;

namespace {

struct Case {
  std::string name;
  train::Phi4Theory theory;
  train::activation_kind activation = train::activation_kind::cubic;
};

std::string pct(double v) {
  return std::isfinite(v) ? fmt::format("{:+.1f}", 100 * v) : "--";
}
std::string ratio(double flow, double score) {
  const double r = std::fabs(flow) / std::fabs(score);
  return std::isfinite(r) ? fmt::format("{:.2f}", r) : "--";
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> opt;
  for (int k = 1; k < argc; ++k) {
    const std::string a = argv[k];
    if (a == "--quick") {
      opt["--seeds"] = "1";
    } else if (a.rfind("--", 0) == 0 && k + 1 < argc) {
      opt[a] = argv[++k];
    } else {
      fmt::print(stderr, "bench_phi4_recovery: unexpected argument '{}'\n", a);
      return 2;
    }
  }
  auto get = [&](const std::string& key, const std::string& fallback) {
    auto it = opt.find(key);
    return it == opt.end() ? fallback : it->second;
  };
  const auto ring4 = train::parse_lattice("4");
  const auto cubic = train::activation_kind::cubic;
  std::vector<Case> all{
      {"strong", {ring4, 0.0, 24.0, 0.0}, cubic},
      {"moderate", {ring4, 0.5, 6.0, 0.0}, cubic},
      {"weak", {ring4, 1.0, 2.0, 0.0}, cubic},
      {"broken", {ring4, -1.0, 6.0, 0.0}, cubic},
      {"phi34", {ring4, 0.5, 6.0, 1.5}, train::activation_kind::quadratic},
  };
  const std::string phi34_act = get("--phi34-activation", "quadratic");
  all.back().activation =
      phi34_act == "cubic" ? train::activation_kind::cubic : train::activation_kind::quadratic;
  std::vector<Case> cases;
  for (const std::string& name :
       split_commas(get("--theories", "strong,moderate,weak,broken,phi34")))
    for (const Case& c : all)
      if (c.name == name) cases.push_back(c);
  const int seeds = std::atoi(get("--seeds", "3").c_str());
  // Seeds S, S + 1, …: fresh data sets to check a setting chosen on the first ones.
  const int first_seed = std::atoi(get("--first-seed", "0").c_str());
  const std::size_t samples = std::stoul(get("--samples", "20000"));
  constexpr double test_fraction = 0.2;

  // The defaults of `train`, changed by the options given.
  train::FlowSpec spec0;
  train::TrainOptions training;
  if (opt.count("--layers")) spec0.layers = std::atoi(opt["--layers"].c_str());
  if (opt.count("--actnorm")) spec0.actnorm = opt["--actnorm"] == "1";
  if (opt.count("--arch"))
    spec0.arch = opt["--arch"] == "coupling" ? train::architecture::coupling
                                             : train::architecture::activation;
  if (opt.count("--hidden")) spec0.hidden = std::atoi(opt["--hidden"].c_str());
  if (opt.count("--local-first")) spec0.local_first = opt["--local-first"] == "1";
  if (opt.count("--latent-couplings"))
    spec0.latent_couplings = std::atoi(opt["--latent-couplings"].c_str());
  if (opt.count("--epochs")) training.epochs = std::atoi(opt["--epochs"].c_str());
  if (opt.count("--batch")) training.batch = std::atoi(opt["--batch"].c_str());
  if (opt.count("--lr")) training.lr = std::atof(opt["--lr"].c_str());
  if (opt.count("--schedule"))
    training.schedule =
        opt["--schedule"] == "cosine" ? train::lr_schedule::cosine : train::lr_schedule::constant;
  const std::string augment = get("--augment", "");

  fmt::print(
      "phi4 recovery: {} samples (+{:.0f} % held out), {} seed(s); flow: {} layer(s), {} latent "
      "coupling(s), {} epochs, lr {}, batch {}{}{}\n",
      samples, 100 * test_fraction / (1 - test_fraction), seeds, spec0.layers,
      spec0.latent_couplings, training.epochs, training.lr, training.batch,
      augment.empty() ? "" : ", augment " + augment,
      training.schedule == train::lr_schedule::cosine ? ", cosine schedule" : "");
  fmt::print("relative errors in percent; ratio = |flow| / |score matching|\n");
  fmt::print(
      "{:<9} {:>4} | {:>7} {:>7} {:>7} {:>7} | {:>7} {:>7} {:>7} {:>7} | {:>5} {:>5} {:>5} "
      "{:>5} | {:>6} {}\n",
      "theory", "seed", "diag", "coupl", "G3", "G4", "sm diag", "sm coup", "sm G3", "sm G4",
      "r diag", "r cpl", "r G3", "r G4", "s", "best/run epochs");
  const auto t_all = std::chrono::steady_clock::now();
  for (const Case& c : cases) {
    const TrueAction truth = phi4_truth(c.theory);
    const int d = c.theory.lattice.sites();
    std::vector<std::array<double, 8>> rows;
    for (int s = first_seed; s < first_seed + seeds; ++s) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto seed = static_cast<std::uint64_t>(s);
      train::HmcOptions hmc;
      hmc.samples = static_cast<std::size_t>(std::ceil(samples / (1 - test_fraction)));
      hmc.seed = seed;
      const train::HmcResult h = train::sample_phi4(c.theory, hmc);
      const MatrixXd x = Eigen::Map<const MatrixXd>(
          h.samples.data(), static_cast<Eigen::Index>(h.cols), static_cast<Eigen::Index>(h.rows));
      // The training part: the first columns (HMC samples are about independent and unordered).
      const MatrixXd train_x = x.leftCols(static_cast<Eigen::Index>(samples));
      const VertexErrors sm =
          vertex_errors(score_matching_action(train_x, truth.action, 4), truth.action);
      train::FlowSpec spec = spec0;
      spec.activation = c.activation;
      train::TrainOptions o = training;
      o.seed = seed;
      if (!augment.empty()) o.augment = train::parse_augment(augment, c.theory.lattice);
      VertexErrors fl;
      std::string epochs_note;
      try {
        const train::TrainResult tr =
            train::train_flow(train::make_flow(d, spec, seed), train_x, o);
        if (!tr.stop_reason.empty() && tr.good_epochs == 0) throw Error(tr.stop_reason);
        // Best epoch / epochs run, and whether the step control stopped training early.
        epochs_note = fmt::format("{}/{}{}", tr.best_epoch, tr.good_epochs,
                                  tr.stop_reason.empty() ? "" : " stopped");
        ExtractRequest req;
        req.order = 4;
        req.field = field_kind::float64;
        const Extraction ex = extract(to_model(tr.flow, "bench"), req);
        fl = vertex_errors(std::get<Action<double>>(ex.action), truth.action);
      } catch (const Error& e) {
        fmt::print("{:<9} {:>4} | failed: {}\n", c.name, s, e.what());
        continue;
      }
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      rows.push_back({fl.gamma2_diagonal, fl.gamma2_couplings, fl.gamma3_local, fl.gamma4_local,
                      sm.gamma2_diagonal, sm.gamma2_couplings, sm.gamma3_local, sm.gamma4_local});
      const auto& r = rows.back();
      fmt::print(
          "{:<9} {:>4} | {:>7} {:>7} {:>7} {:>7} | {:>7} {:>7} {:>7} {:>7} | {:>5} {:>5} "
          "{:>5} {:>5} | {:>6.1f} {}\n",
          c.name, s, pct(r[0]), pct(r[1]), pct(r[2]), pct(r[3]), pct(r[4]), pct(r[5]), pct(r[6]),
          pct(r[7]), ratio(r[0], r[4]), ratio(r[1], r[5]), ratio(r[2], r[6]), ratio(r[3], r[7]),
          secs, epochs_note);
    }
    if (rows.size() > 1) {
      // Mean of the signed errors, and the ratio of the mean absolute errors.
      std::array<double, 8> m{}, a{};
      for (const auto& r : rows)
        for (int k = 0; k < 8; ++k)
          m[k] += r[k] / rows.size(), a[k] += std::fabs(r[k]) / rows.size();
      fmt::print(
          "{:<9} {:>4} | {:>7} {:>7} {:>7} {:>7} | {:>7} {:>7} {:>7} {:>7} | {:>5} {:>5} "
          "{:>5} {:>5} |\n",
          c.name, "mean", pct(m[0]), pct(m[1]), pct(m[2]), pct(m[3]), pct(m[4]), pct(m[5]),
          pct(m[6]), pct(m[7]), ratio(a[0], a[4]), ratio(a[1], a[5]), ratio(a[2], a[6]),
          ratio(a[3], a[7]));
    }
  }
  fmt::print("total {:.1f} s\n",
             std::chrono::duration<double>(std::chrono::steady_clock::now() - t_all).count());
  return 0;
}
