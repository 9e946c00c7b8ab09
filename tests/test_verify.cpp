// verify: its measures against hand computations and independent formulas, and the command end to
// end, its metrics recomputed here from the files it wrote.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <Eigen/Dense>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "cli_run.hpp"
#include "engine/error.hpp"
#include "frontends/latex_compile.hpp"
#include "frontends/verify.hpp"
#include "temp_dir.hpp"

using namespace flowaction;
using testing_support::cli;
using testing_support::has;
namespace fs = std::filesystem;

namespace {

void set(Action<double>& a, std::vector<int> index, double v) {
  std::sort(index.begin(), index.end());
  a.vertices[index.size()].at(index) = v;
}

double get(const Action<double>& a, std::vector<int> index) {
  std::sort(index.begin(), index.end());
  return a.vertices[index.size()].at(index);
}

// A ring of 3: Γ⁽²⁾ = 3 on the diagonal, −1 between all pairs, Γ⁽⁴⁾ᵢᵢᵢᵢ = 6.
Action<double> ring3() {
  Action<double> t(3, 4);
  for (int i = 0; i < 3; ++i) {
    set(t, {i, i}, 3);
    set(t, {i, i, i, i}, 6);
    for (int j = i + 1; j < 3; ++j) set(t, {i, j}, -1);
  }
  return t;
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

// An action file's vertex values by sorted index, for one order.
std::map<std::vector<int>, double> vertices(const nlohmann::json& action, int order) {
  std::map<std::vector<int>, double> out;
  for (const auto& v : action.at("vertices")) {
    if (v.at("order").get<int>() != order) continue;
    const auto& value = v.at("value");
    out[v.at("index").get<std::vector<int>>()] =
        value.is_number() ? value.get<double>() : std::stod(value.get<std::string>());
  }
  return out;
}

}  // namespace

TEST_CASE("vertex errors: signed means over sites and couplings, spurious parts, by hand") {
  const Action<double> truth = ring3();
  Action<double> est = truth;
  set(est, {0, 0}, 3.3);         // +10 %
  set(est, {1, 1}, 2.7);         // −10 %
  set(est, {2, 2}, 3.6);         // +20 %
  set(est, {0, 1}, -0.5);        // −50 % (the coupling is −1)
  set(est, {1, 1, 1, 1}, 4.5);   // −25 %
  set(est, {0, 1, 2}, 0.3);      // spurious order 3 (the truth has no order 3)
  set(est, {0, 0, 1, 1}, -1.5);  // spurious order 4: 1.5 of the largest true 6
  set(est, {2}, 0.2);            // spurious order 1
  const VertexErrors e = vertex_errors(est, truth);
  CHECK(e.gamma2_diagonal == doctest::Approx((0.1 - 0.1 + 0.2) / 3));
  CHECK(e.gamma2_couplings == doctest::Approx(-0.5 / 3));
  CHECK(e.gamma4_local == doctest::Approx(-0.25 / 3));
  CHECK(std::isnan(e.gamma3_local));  // no true Γ⁽³⁾ᵢᵢᵢ
  REQUIRE(e.spurious_abs.size() == 4);
  CHECK(e.spurious_abs[0] == doctest::Approx(0.2));
  CHECK(std::isnan(e.spurious_rel[0]));
  CHECK(e.spurious_abs[1] == 0);  // every Γ⁽²⁾ entry is in the truth
  CHECK(e.spurious_abs[2] == doctest::Approx(0.3));
  CHECK(e.spurious_abs[3] == doctest::Approx(1.5));
  CHECK(e.spurious_rel[3] == doctest::Approx(0.25));

  // An estimate of lower order than the truth: nothing above it is judged.
  Action<double> low(3, 2);
  for (int i = 0; i < 3; ++i) set(low, {i, i}, 3);
  const VertexErrors l = vertex_errors(low, truth);
  CHECK(l.gamma2_diagonal == 0);
  CHECK(l.gamma2_couplings == doctest::Approx(-1));
  CHECK(std::isnan(l.gamma4_local));
  CHECK(l.spurious_abs.size() == 2);
}

TEST_CASE("the Gaussian fit is -ln of the fitted normal density, evaluated directly") {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal;
  const int d = 3, n = 500;
  Eigen::MatrixXd x(d, n);
  for (int k = 0; k < n; ++k) {
    const double a = normal(rng), b = normal(rng), c = normal(rng);
    x.col(k) << 1 + a, 0.5 * a + b - 2, 0.3 * c + 0.2 * b;
  }
  const Action<double> g = gaussian_action(x, 4);
  // The maximum-likelihood normal, by other routes: mean and covariance by sums, density by LU.
  Eigen::VectorXd mu = Eigen::VectorXd::Zero(d);
  for (int k = 0; k < n; ++k) mu += x.col(k) / n;
  Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(d, d);
  for (int k = 0; k < n; ++k) cov += (x.col(k) - mu) * (x.col(k) - mu).transpose() / n;
  const Eigen::FullPivLU<Eigen::MatrixXd> lu(cov);
  for (int trial = 0; trial < 5; ++trial) {
    const Eigen::Vector3d p(normal(rng), normal(rng), normal(rng));
    const double direct = 0.5 * (p - mu).dot(lu.solve(p - mu)) +
                          0.5 * std::log(std::pow(2 * M_PI, d) * lu.determinant());
    double series = g.vertices[0][0];
    for (int i = 0; i < d; ++i) {
      series += get(g, {i}) * p[i];
      for (int j = 0; j < d; ++j) series += 0.5 * get(g, {i, j}) * p[i] * p[j];
    }
    CHECK(series == doctest::Approx(direct).epsilon(1e-12));
  }
  for (std::size_t r = 0; r < g.vertices[3].size(); ++r) CHECK(g.vertices[3][r] == 0);
  for (std::size_t r = 0; r < g.vertices[4].size(); ++r) CHECK(g.vertices[4][r] == 0);
}

TEST_CASE("sample cumulants against the raw-moment formulas") {
  // Skewed, heavy-tailed data with a nonzero mean: exponential plus a shared normal part.
  std::mt19937_64 rng(5);
  std::exponential_distribution<double> expo(1.0);
  std::normal_distribution<double> normal;
  const int n = 2000;
  Eigen::MatrixXd x(3, n);
  for (int k = 0; k < n; ++k) {
    const double s = normal(rng);
    x.col(k) << 2 + expo(rng) + s, expo(rng) - s, 0.5 * normal(rng) + s;
  }
  const LocalCumulants c = cumulants_of(x, ring3());
  double k2 = 0, k3 = 0, k4 = 0, k11 = 0;
  for (int i = 0; i < 3; ++i) {
    double m[5] = {0, 0, 0, 0, 0};
    for (int k = 0; k < n; ++k)
      for (int p = 1; p <= 4; ++p) m[p] += std::pow(x(i, k), p) / n;
    k2 += (m[2] - m[1] * m[1]) / 3;
    k3 += (m[3] - 3 * m[2] * m[1] + 2 * std::pow(m[1], 3)) / 3;
    k4 += (m[4] - 4 * m[3] * m[1] - 3 * m[2] * m[2] + 12 * m[2] * m[1] * m[1] -
           6 * std::pow(m[1], 4)) /
          3;
  }
  for (auto [i, j] : {std::pair{0, 1}, std::pair{0, 2}, std::pair{1, 2}}) {
    double mi = 0, mj = 0, mij = 0;
    for (int k = 0; k < n; ++k) mi += x(i, k) / n, mj += x(j, k) / n, mij += x(i, k) * x(j, k) / n;
    k11 += (mij - mi * mj) / 3;
  }
  CHECK(c.c2_diagonal == doctest::Approx(k2).epsilon(1e-10));
  CHECK(c.c3_local == doctest::Approx(k3).epsilon(1e-9));
  CHECK(c.c4_local == doctest::Approx(k4).epsilon(1e-8));
  CHECK(c.c2_couplings == doctest::Approx(k11).epsilon(1e-10));
  CHECK(c.c3_local > 0.3);  // the exponentials are skewed: the check above is not 0 = 0
}

TEST_CASE("perturbative cumulants: a free theory is its propagator; one site against quadrature") {
  // Free: W⁽²⁾ = (Γ⁽²⁾)⁻¹ at every number of loops, higher cumulants 0.
  Action<double> free_theory = ring3();
  for (std::size_t r = 0; r < free_theory.vertices[4].size(); ++r) free_theory.vertices[4][r] = 0;
  Eigen::Matrix3d k;
  k << 3, -1, -1, -1, 3, -1, -1, -1, 3;
  const Eigen::Matrix3d g = k.inverse();
  for (int loops : {0, 2}) {
    const LocalCumulants c = perturbative_cumulants(free_theory, ring3(), loops);
    CHECK(c.c2_diagonal == doctest::Approx(g.diagonal().mean()));
    CHECK(c.c2_couplings == doctest::Approx(g(0, 1)));
    CHECK(c.c4_local == doctest::Approx(0).scale(1));
  }
  // One site, S = x²/2 + g x⁴/24, g small: the 2-loop series against ⟨x²⟩ and ⟨x⁴⟩ − 3⟨x²⟩²
  // by a Riemann sum; the error is O(g³).
  const double gc = 0.05;
  Action<double> one(1, 4);
  set(one, {0, 0}, 1);
  set(one, {0, 0, 0, 0}, gc);
  double z = 0, m2 = 0, m4 = 0;
  for (double x = -12; x <= 12; x += 1e-3) {
    const double w = std::exp(-x * x / 2 - gc * std::pow(x, 4) / 24);
    z += w, m2 += w * x * x, m4 += w * std::pow(x, 4);
  }
  m2 /= z, m4 /= z;
  const LocalCumulants c = perturbative_cumulants(one, one, 2);
  CHECK(c.c2_diagonal == doctest::Approx(m2).epsilon(5 * std::pow(gc, 3)));
  CHECK(c.c4_local == doctest::Approx(m4 - 3 * m2 * m2).epsilon(20 * std::pow(gc, 3)));
  CHECK(std::isnan(c.c2_couplings));  // one site: no couplings
}

TEST_CASE("read_truth: exact and float files read, a symbolic vertex refused by name") {
  TempDir dir("verify");
  std::ofstream(dir / "exact.json")
      << R"({"format":"flowaction-action/1","dim":2,"vertices":[{"order":2,"index":[0,0],"value":"5/2"},)"
         R"({"order":2,"index":[0,1],"value":"-1"},{"order":4,"index":[1,1,1,1],"value":"6"}]})";
  const Truth t = read_truth(dir / "exact.json");
  CHECK(t.action.dim == 2);
  CHECK(get(t.action, {0, 0}) == 2.5);
  CHECK(get(t.action, {0, 1}) == -1);
  CHECK(get(t.action, {1, 1, 1, 1}) == 6);
  std::ofstream(dir / "symbolic.json")
      << R"({"format":"flowaction-action/1","dim":1,"vertices":[{"order":2,"index":[0,0],"value":"1"},)"
         R"({"order":4,"index":[0,0,0,0],"value":"g"}]})";
  try {
    read_truth(dir / "symbolic.json");
    FAIL("a symbolic truth was accepted");
  } catch (const Error& e) {
    CHECK(has(e.what(), "symbolic.json"));
    CHECK(has(e.what(), "order 4"));
  }
}

TEST_CASE("verify end to end: its metrics are the truth against the files it wrote") {
  TempDir dir("verify");
  const fs::path out = dir.path / "out";
  const auto r = cli({"verify", "--samples", "3000", "--epochs", "15", "--layers", "1", "--seed",
                      "4", "-o", out.string()});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(has(r.out, "score matching"));
  CHECK(has(r.err, "verify run 1/1: training a flow"));
  for (const char* name : {"metrics.json", "truth.json", "model.flow.json", "learned.json",
                           "samples.npy", "report.tex"})
    CHECK_MESSAGE(fs::exists(out / name), name);
  CHECK(fs::exists(out / "report.pdf") == tex_available("pdflatex"));

  const auto m = read_json(out / "metrics.json");
  CHECK(m.at("format") == "flowaction-verify/1");
  CHECK(m.at("truth").at("theory").at("lambda") == 6.0);
  REQUIRE(m.at("runs").size() == 1);
  const auto& run = m.at("runs")[0];
  CHECK(run.at("train_samples") == 3000);

  // The truth file is the theory's action (DESIGN §2 normalisation), written out by hand here.
  const auto truth = read_json(out / "truth.json");
  const auto t2 = vertices(truth, 2), t4 = vertices(truth, 4);
  for (int i = 0; i < 4; ++i) {
    CHECK(t2.at({i, i}) == 2.5);  // m² + 2
    CHECK(t2.at({std::min(i, (i + 1) % 4), std::max(i, (i + 1) % 4)}) == -1);
    CHECK(t4.at({i, i, i, i}) == 6);
  }
  // learned.json is what `extract` makes of the written model.
  const auto extracted = cli({"extract", (out / "model.flow.json").string(), "--order", "4",
                              "--field", "float", "-o", dir / "x.json"});
  REQUIRE(extracted.status == 0);
  const auto learned = read_json(out / "learned.json"), again = read_json(dir / "x.json");
  for (int k = 2; k <= 4; k += 2) {
    const auto a = vertices(learned, k), b = vertices(again, k);
    REQUIRE(a.size() == b.size());
    for (const auto& [index, v] : a) CHECK(v == doctest::Approx(b.at(index)).epsilon(1e-12));
  }
  // The flow's errors, recomputed from the two files.
  const auto l2 = vertices(learned, 2), l4 = vertices(learned, 4);
  double diag = 0, coup = 0, local4 = 0;
  for (int i = 0; i < 4; ++i) {
    diag += (l2.at({i, i}) - 2.5) / 2.5 / 4;
    local4 += (l4.at({i, i, i, i}) - 6) / 6 / 4;
    const std::vector<int> nn = {std::min(i, (i + 1) % 4), std::max(i, (i + 1) % 4)};
    coup += (l2.at(nn) - -1.0) / -1.0 / 4;
  }
  const auto& flow = run.at("flow");
  CHECK(flow.at("gamma2_diagonal").get<double>() == doctest::Approx(diag).epsilon(1e-9));
  CHECK(flow.at("gamma2_couplings").get<double>() == doctest::Approx(coup).epsilon(1e-9));
  CHECK(flow.at("gamma4_local").get<double>() == doctest::Approx(local4).epsilon(1e-9));
  CHECK(flow.at("gamma3_local").is_null());
  // The next-nearest pair (0, 2) is not in the truth: it bounds the spurious Γ⁽²⁾ from below.
  CHECK(flow.at("spurious")[1].at("largest").get<double>() >= std::fabs(l2.at({0, 2})));
  // The Gaussian fit has no quartic part: its Γ⁽⁴⁾ error is exactly −100 %.
  CHECK(run.at("gaussian").at("gamma4_local") == -1.0);
  // Cumulants of the data are the sample's, predictions one per loop order.
  CHECK(run.at("cumulants").at("flow_predicted").size() == 3);
  CHECK(m.at("truth_cumulants_predicted")[0].at("c2_couplings").get<double>() ==
        doctest::Approx(
            Eigen::Matrix4d{{2.5, -1, 0, -1}, {-1, 2.5, -1, 0}, {0, -1, 2.5, -1}, {-1, 0, -1, 2.5}}
                .inverse()(0, 1)));
  // The written model, given back with the same seed (same samples, same split): the same
  // flow errors and held-out NLL, and no training.
  const auto again_run =
      cli({"verify", "--samples", "3000", "--model", (out / "model.flow.json").string(), "--seed",
           "4", "-o", (dir.path / "again").string()});
  INFO(again_run.err);
  REQUIRE(again_run.status == 0);
  CHECK_FALSE(has(again_run.err, "training a flow"));
  const auto m2 = read_json(dir.path / "again" / "metrics.json");
  const auto& flow2 = m2.at("runs")[0].at("flow");
  for (const char* f : {"gamma2_diagonal", "gamma2_couplings", "gamma4_local", "heldout_nll"})
    CHECK_MESSAGE(
        flow2.at(f).get<double>() == doctest::Approx(flow.at(f).get<double>()).epsilon(1e-12), f);
  CHECK(m2.at("runs")[0].at("score_matching") == run.at("score_matching"));
  // The summary's ratio is the flow's error over score matching's.
  const auto& s = m.at("summary")[0];
  CHECK(s.at("flow_over_score_matching").at("gamma4_local").get<double>() ==
        doctest::Approx(std::fabs(local4) /
                        std::fabs(run.at("score_matching").at("gamma4_local").get<double>())));
}

TEST_CASE(
    "verify --data --truth: the sampler's files in, the same truth out; bad requests refused") {
  TempDir dir("verify");
  const auto s = cli({"sample", "phi4", "--lattice", "3", "--m2", "1", "--lambda", "2", "--samples",
                      "1000", "-o", dir / "x.npy"});
  REQUIRE(s.status == 0);
  const fs::path truth = dir.path / "x.truth.json";
  const fs::path out = dir.path / "out";
  const auto r = cli({"verify", "--data", dir / "x.npy", "--truth", truth.string(), "--epochs", "5",
                      "--layers", "1", "-o", out.string()});
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto m = read_json(out / "metrics.json");
  CHECK(m.at("runs")[0].at("train_samples") == 800);  // all rows, 20 % held out
  CHECK(vertices(read_json(out / "truth.json"), 2) == vertices(read_json(truth), 2));
  CHECK(vertices(read_json(out / "truth.json"), 4) == vertices(read_json(truth), 4));
  CHECK_FALSE(fs::exists(out / "samples.npy"));  // the data is the user's file

  // More samples than the file has: an error before anything is written.
  const auto big = cli({"verify", "--data", dir / "x.npy", "--truth", truth.string(), "--samples",
                        "5000", "-o", dir / "big"});
  CHECK(big.status == 1);
  CHECK(has(big.err, "x.npy"));
  CHECK(has(big.err, "the file has 1000"));
  CHECK_FALSE(fs::exists(dir / "big"));
  // Usage errors.
  CHECK(cli({"verify", "--data", dir / "x.npy", "-o", dir / "u"}).status == 2);
  CHECK(cli({"verify", "--data", dir / "x.npy", "--truth", truth.string(), "--m2", "1", "-o",
             dir / "u"})
            .status == 2);
  const auto replace = cli({"verify", "--data", dir / "x.npy", "--truth",
                            (out / "truth.json").string(), "-o", out.string()});
  CHECK(replace.status == 2);
  CHECK(has(replace.err, "would replace its input"));
  CHECK(cli({"verify", "--sweep", "layers=1", "--sweep", "layers=2", "-o", dir / "u"}).status == 2);
  CHECK_FALSE(fs::exists(dir / "u"));
  // A truth whose dimension is not the data's.
  std::ofstream(dir / "t2.json")
      << R"({"format":"flowaction-action/1","dim":2,"vertices":[{"order":2,"index":[0,0],"value":"1"},)"
         R"({"order":2,"index":[1,1],"value":"1"}]})";
  const auto dim =
      cli({"verify", "--data", dir / "x.npy", "--truth", dir / "t2.json", "-o", dir / "d"});
  CHECK(dim.status == 1);
  CHECK(has(dim.err, "3 units"));
}
