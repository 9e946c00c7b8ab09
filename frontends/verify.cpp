#include "frontends/verify.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <sstream>

#include "engine/action_print.hpp"
#include "engine/error.hpp"
#include "engine/extract.hpp"
#include "frontends/latex_compile.hpp"
#include "frontends/manifest.hpp"
#include "frontends/manifest_writer.hpp"
#include "frontends/npy.hpp"
#include "frontends/output_file.hpp"
#include "frontends/phi4_truth.hpp"
#include "frontends/train_flow.hpp"
#include "trainer/score_matching.hpp"

namespace flowaction {

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

double entry(const Action<double>& a, std::vector<int> index) {
  std::sort(index.begin(), index.end());
  return a.vertices[index.size()].at(index);
}

double mean(const std::vector<double>& v) {
  if (v.empty()) return NAN;
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// The couplings (i < j) the truth's Γ⁽²⁾ has.
std::vector<std::pair<int, int>> couplings(const Action<double>& truth) {
  std::vector<std::pair<int, int>> out;
  for (int i = 0; i < truth.dim; ++i)
    for (int j = i + 1; j < truth.dim; ++j)
      if (entry(truth, {i, j}) != 0) out.emplace_back(i, j);
  return out;
}

}  // namespace

VertexErrors vertex_errors(const Action<double>& est, const Action<double>& truth) {
  VertexErrors e;
  const int d = truth.dim;
  std::vector<double> diag, coup, local3, local4;
  for (int i = 0; i < d; ++i) {
    const double t2 = entry(truth, {i, i});
    if (t2 != 0) diag.push_back((entry(est, {i, i}) - t2) / t2);
    if (truth.order() >= 3 && est.order() >= 3) {
      const double t3 = entry(truth, {i, i, i});
      if (t3 != 0) local3.push_back((entry(est, {i, i, i}) - t3) / t3);
    }
    if (truth.order() >= 4 && est.order() >= 4) {
      const double t4 = entry(truth, {i, i, i, i});
      if (t4 != 0) local4.push_back((entry(est, {i, i, i, i}) - t4) / t4);
    }
  }
  for (auto [i, j] : couplings(truth)) {
    const double t = entry(truth, {i, j});
    coup.push_back((entry(est, {i, j}) - t) / t);
  }
  e.gamma2_diagonal = mean(diag);
  e.gamma2_couplings = mean(coup);
  e.gamma3_local = mean(local3);
  e.gamma4_local = mean(local4);
  for (int k = 1; k <= std::min(est.order(), truth.order()); ++k) {
    double spurious = 0, largest = 0;
    const auto& g = est.vertices[k];
    const auto& t = truth.vertices[k];
    for (std::size_t r = 0; r < g.size(); ++r) {
      largest = std::max(largest, std::fabs(t[r]));
      if (t[r] == 0) spurious = std::max(spurious, std::fabs(g[r]));
    }
    e.spurious_abs.push_back(spurious);
    e.spurious_rel.push_back(largest > 0 ? spurious / largest : NAN);
  }
  return e;
}

Cumulants cumulants_of(const MatrixXd& x, const Action<double>& truth) {
  Cumulants c;
  const Eigen::Index d = x.rows();
  const auto n = static_cast<double>(x.cols());
  const MatrixXd centred = x.colwise() - x.rowwise().mean();
  for (Eigen::Index i = 0; i < d; ++i) {
    const Eigen::ArrayXd y = centred.row(i).array();
    const double m2 = (y * y).sum() / n, m3 = (y * y * y).sum() / n, m4 = (y * y * y * y).sum() / n;
    c.c2_diagonal += m2 / d;
    c.c3_local += m3 / d;
    c.c4_local += (m4 - 3 * m2 * m2) / d;
  }
  const auto pairs = couplings(truth);
  for (auto [i, j] : pairs)
    c.c2_couplings += centred.row(i).dot(centred.row(j)) / n / static_cast<double>(pairs.size());
  return c;
}

// S = ½(x − μ)ᵀ Σ⁻¹ (x − μ) + ½ ln det(2πΣ), expanded at 0.
Action<double> gaussian_action(const MatrixXd& x, int order) {
  const VectorXd mu = x.rowwise().mean();
  const MatrixXd c = x.colwise() - mu;
  const MatrixXd cov = c * c.transpose() / static_cast<double>(x.cols());
  const Eigen::LLT<MatrixXd> llt(cov);
  if (llt.info() != Eigen::Success) throw Error("the sample covariance is singular");
  const MatrixXd P = llt.solve(MatrixXd::Identity(cov.rows(), cov.cols()));
  const int d = static_cast<int>(x.rows());
  Action<double> a(d, order);
  double half_log_det = 0;
  for (int i = 0; i < d; ++i) half_log_det += std::log(llt.matrixL()(i, i));
  a.vertices[0][0] = 0.5 * mu.dot(P * mu) + half_log_det + 0.5 * d * std::log(2 * M_PI);
  const VectorXd g1 = -P * mu;
  for (int i = 0; i < d && order >= 1; ++i) a.vertices[1][static_cast<std::size_t>(i)] = g1[i];
  for (int i = 0; i < d && order >= 2; ++i)
    for (int j = i; j < d; ++j) a.vertices[2].at(std::vector<int>{i, j}) = P(i, j);
  return a;
}

// Γ_α = α! c_α of the fitted polynomial (Γ⁽⁰⁾ unknown: score matching never normalises).
Action<double> score_matching_action(const MatrixXd& x, const Action<double>& truth, int order) {
  const int d = static_cast<int>(x.rows());
  std::vector<train::monomial> basis = train::all_monomials(d, 4);
  if (basis.size() > 1000) {  // large lattices: terms within the truth's neighbourhoods
    std::vector<std::vector<int>> neighbours(static_cast<std::size_t>(d));
    for (auto [i, j] : couplings(truth)) neighbours[i].push_back(j), neighbours[j].push_back(i);
    basis = train::local_monomials(neighbours, 4);
  }
  const train::ScoreMatchingFit fit = train::score_matching(x, basis);
  Action<double> a(d, order);
  a.vertices[0][0] = NAN;
  for (std::size_t b = 0; b < basis.size(); ++b) {
    const auto& m = basis[b];
    if (static_cast<int>(m.size()) > order) continue;
    a.vertices[m.size()].at(m) =
        static_cast<double>(multiplicity_factorial(m)) * fit.coefficients[static_cast<Eigen::Index>(b)];
  }
  return a;
}

namespace {

// Splits the columns: a test part (every ⌈1/f⌉-th after a seeded shuffle) and the rest.
std::pair<MatrixXd, MatrixXd> split(const MatrixXd& x, double test_fraction, std::uint64_t seed) {
  std::vector<Eigen::Index> order(static_cast<std::size_t>(x.cols()));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed ^ 0x5eed);
  std::shuffle(order.begin(), order.end(), rng);
  const auto n_test = static_cast<Eigen::Index>(std::floor(test_fraction * x.cols()));
  MatrixXd test(x.rows(), n_test), train(x.rows(), x.cols() - n_test);
  for (Eigen::Index k = 0; k < x.cols(); ++k)
    (k < n_test ? test.col(k) : train.col(k - n_test)) = x.col(order[static_cast<std::size_t>(k)]);
  return {train, test};
}

struct RunResult {
  std::map<std::string, long> cell;
  std::uint64_t seed = 0;
  VertexErrors flow, gaussian, score;
  Cumulants data, flow_samples;
  std::vector<train::EpochStats> history;
  std::string failure;  // non-empty: the flow could not be trained or extracted
  double seconds = 0;
};

nlohmann::ordered_json errors_json(const VertexErrors& e) {
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(); };
  nlohmann::ordered_json j;
  j["gamma2_diagonal"] = num(e.gamma2_diagonal);
  j["gamma2_couplings"] = num(e.gamma2_couplings);
  j["gamma3_local"] = num(e.gamma3_local);
  j["gamma4_local"] = num(e.gamma4_local);
  auto& s = j["spurious"] = nlohmann::ordered_json::array();
  for (std::size_t k = 0; k < e.spurious_abs.size(); ++k)
    s.push_back({{"order", k + 1}, {"largest", num(e.spurious_abs[k])},
                 {"relative_to_largest_true", num(e.spurious_rel[k])}});
  j["heldout_nll"] = num(e.heldout_nll);
  return j;
}

nlohmann::ordered_json cumulants_json(const Cumulants& c) {
  return {{"c2_diagonal", c.c2_diagonal},
          {"c2_couplings", c.c2_couplings},
          {"c3_local", c.c3_local},
          {"c4_local", c.c4_local}};
}

// Mean and spread (sample standard deviation; 0 for one value) of the finite values.
std::pair<double, double> mean_spread(const std::vector<double>& v) {
  std::vector<double> f;
  for (double x : v)
    if (std::isfinite(x)) f.push_back(x);
  if (f.empty()) return {NAN, NAN};
  const double m = mean(f);
  double s = 0;
  for (double x : f) s += (x - m) * (x - m);
  return {m, f.size() > 1 ? std::sqrt(s / static_cast<double>(f.size() - 1)) : 0.0};
}

std::string pct(double v) {
  return std::isfinite(v) ? fmt::format("{:+.1f}", 100 * v) : "--";
}

}  // namespace

void verify(const VerifyOptions& o, std::ostream& out, std::ostream& err) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - t0).count(); };
  namespace fs = std::filesystem;
  if (o.out_dir.empty()) throw Error("verify needs an output folder (-o DIR)");
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec || !fs::is_directory(o.out_dir))
    throw Error(fmt::format("{}: cannot create the output folder: {}", o.out_dir.string(),
                            ec ? ec.message() : "not a folder"));
  const train::Phi4Theory& theory = o.theory;
  const TrueAction truth = phi4_truth(theory);
  const int d = theory.lattice.sites();

  // The cells of the sweep: every combination of its values.
  std::vector<std::map<std::string, long>> cells{{}};
  for (const auto& [key, values] : o.sweep) {
    std::vector<std::map<std::string, long>> next;
    for (const auto& c : cells)
      for (long v : values) {
        auto c2 = c;
        c2[key] = v;
        next.push_back(c2);
      }
    cells = next;
  }
  std::vector<RunResult> runs;
  const std::size_t total = cells.size() * static_cast<std::size_t>(o.seeds);
  std::string first_action, first_model;
  MatrixXd first_samples;
  for (const auto& cell : cells) {
    for (int s = 0; s < o.seeds; ++s) {
      RunResult run;
      run.cell = cell;
      run.seed = o.seed + static_cast<std::uint64_t>(s);
      const auto r0 = clock::now();
      train::FlowSpec spec = o.spec;
      train::TrainOptions training = o.training;
      std::size_t samples = o.samples;
      for (const auto& [key, v] : cell) {
        if (key == "layers") spec.layers = static_cast<int>(v);
        if (key == "hidden") spec.hidden = static_cast<int>(v);
        if (key == "epochs") training.epochs = static_cast<int>(v);
        if (key == "samples") samples = static_cast<std::size_t>(v);
      }
      const std::string where = fmt::format("run {}/{}", runs.size() + 1, total);
      // Samples: the data set changes with the seed as well (HMC data sets differ more than
      // training seeds do, DESIGN §10).
      err << fmt::format("verify {}: sampling {} configurations of {} ({:.0f} s)\n", where,
                         samples, theory.lattice.name(), elapsed());
      train::HmcOptions hmc;
      hmc.samples = static_cast<std::size_t>(std::ceil(samples / (1 - o.test_fraction)));
      hmc.seed = run.seed;
      const train::HmcResult h = train::sample_phi4(theory, hmc);
      const MatrixXd all = Eigen::Map<const MatrixXd>(h.samples.data(), static_cast<Eigen::Index>(h.cols),
                                                      static_cast<Eigen::Index>(h.rows));
      const auto [train_x, test_x] = split(all, o.test_fraction, run.seed);
      run.data = cumulants_of(train_x, truth.action);
      // Baselines on the same training samples.
      const Action<double> gauss = gaussian_action(train_x, o.order);
      run.gaussian = vertex_errors(gauss, truth.action);
      run.gaussian.heldout_nll = train::gaussian_nll(train_x, test_x);
      err << fmt::format("verify {}: score matching ({:.0f} s)\n", where, elapsed());
      run.score = vertex_errors(score_matching_action(train_x, truth.action, o.order), truth.action);
      // The flow.
      err << fmt::format("verify {}: training a flow, {} x {} layers ({:.0f} s)\n", where,
                         spec.layers, spec.arch == train::architecture::activation ? "activation" : "coupling",
                         elapsed());
      try {
        train::Flow flow;
        if (o.model) {
          flow = read_train_flow(*o.model);
        } else {
          training.seed = run.seed;
          const train::TrainResult tr = train::train_flow(train::make_flow(d, spec, run.seed), train_x, training);
          run.history = tr.history;
          if (!tr.stop_reason.empty() && tr.good_epochs == 0) throw Error(tr.stop_reason);
          flow = tr.flow;
        }
        const Model model = to_model(flow, "verify");
        ExtractRequest req;
        req.order = o.order;
        req.field = field_kind::float64;
        const Extraction x = extract(model, req);
        const auto& learned = std::get<Action<double>>(x.action);
        run.flow = vertex_errors(learned, truth.action);
        run.flow.heldout_nll = train::mean_nll(flow, test_x, training.threads);
        // Samples from the flow for its cumulants.
        std::mt19937_64 rng(run.seed + 17);
        std::normal_distribution<double> normal;
        MatrixXd z(d, train_x.cols());
        for (Eigen::Index k = 0; k < z.size(); ++k) z.data()[k] = normal(rng);
        std::vector<char> ok;
        const MatrixXd gen = train::inverse(flow, z, ok);
        std::vector<Eigen::Index> keep;
        for (Eigen::Index k = 0; k < gen.cols(); ++k)
          if (ok[static_cast<std::size_t>(k)] && gen.col(k).allFinite()) keep.push_back(k);
        MatrixXd kept(d, static_cast<Eigen::Index>(keep.size()));
        for (std::size_t k = 0; k < keep.size(); ++k) kept.col(static_cast<Eigen::Index>(k)) = gen.col(keep[k]);
        run.flow_samples = cumulants_of(kept, truth.action);
        if (runs.empty()) {
          std::ostringstream a;
          print(learned, x.info, json_context{&a});
          first_action = a.str();
          first_model = manifest_json(model);
          first_samples = all;
        }
      } catch (const Error& e) {
        run.failure = e.what();
        err << fmt::format("verify {}: the flow failed: {}\n", where, e.what());
      }
      run.seconds = std::chrono::duration<double>(clock::now() - r0).count();
      runs.push_back(std::move(run));
    }
  }

  // metrics.json
  nlohmann::ordered_json m;
  m["format"] = "flowaction-verify/1";
  m["truth"] = {{"source", truth.info.source},
                {"lattice", theory.lattice.name()},
                {"m2", theory.m2},
                {"kappa", theory.kappa},
                {"lambda", theory.lambda}};
  m["settings"] = {{"samples", o.samples},
                   {"test_fraction", o.test_fraction},
                   {"order", o.order},
                   {"seeds", o.seeds},
                   {"layers", o.spec.layers},
                   {"arch", o.spec.arch == train::architecture::activation ? "activation" : "coupling"},
                   {"activation", std::string(train::activation_name(o.spec.activation))},
                   {"epochs", o.training.epochs}};
  m["convention"] =
      "relative errors are signed means (estimate - truth) / truth over the sites or the couplings "
      "the truth has; spurious: the largest |Gamma| where the truth is 0, also over the largest true "
      "|Gamma| of that order; held-out NLL in nats per sample on a test split no estimator saw "
      "(score matching is not normalised: null)";
  auto& jr = m["runs"] = nlohmann::ordered_json::array();
  for (const RunResult& r : runs) {
    nlohmann::ordered_json e;
    e["cell"] = r.cell;
    e["seed"] = r.seed;
    if (r.failure.empty())
      e["flow"] = errors_json(r.flow);
    else
      e["flow"] = {{"failed", r.failure}};
    e["gaussian"] = errors_json(r.gaussian);
    e["score_matching"] = errors_json(r.score);
    e["cumulants"] = {{"data", cumulants_json(r.data)}, {"flow_samples", cumulants_json(r.flow_samples)}};
    e["seconds"] = r.seconds;
    jr.push_back(e);
  }
  // The summary per cell: mean and spread over seeds, and the flow's error over the baseline's.
  auto& js = m["summary"] = nlohmann::ordered_json::array();
  struct Row {
    std::map<std::string, long> cell;
    std::map<std::string, std::pair<double, double>> flow, gauss, score;
  };
  std::vector<Row> rows;
  const char* fields[] = {"gamma2_diagonal", "gamma2_couplings", "gamma3_local", "gamma4_local",
                          "heldout_nll"};
  auto get = [](const VertexErrors& e, std::string_view f) {
    if (f == "gamma2_diagonal") return e.gamma2_diagonal;
    if (f == "gamma2_couplings") return e.gamma2_couplings;
    if (f == "gamma3_local") return e.gamma3_local;
    if (f == "gamma4_local") return e.gamma4_local;
    return e.heldout_nll;
  };
  for (const auto& cell : cells) {
    Row row{cell, {}, {}, {}};
    for (const char* f : fields) {
      std::vector<double> fl, ga, sc;
      for (const RunResult& r : runs) {
        if (r.cell != cell) continue;
        if (r.failure.empty()) fl.push_back(get(r.flow, f));
        ga.push_back(get(r.gaussian, f));
        sc.push_back(get(r.score, f));
      }
      row.flow[f] = mean_spread(fl), row.gauss[f] = mean_spread(ga), row.score[f] = mean_spread(sc);
    }
    nlohmann::ordered_json e;
    e["cell"] = cell;
    for (auto [name, part] : {std::pair{"flow", &row.flow}, std::pair{"gaussian", &row.gauss},
                              std::pair{"score_matching", &row.score}}) {
      auto& p = e[name];
      for (const auto& [f, ms] : *part)
        p[f] = {{"mean", std::isfinite(ms.first) ? nlohmann::ordered_json(ms.first) : nlohmann::ordered_json()},
                {"spread", std::isfinite(ms.second) ? nlohmann::ordered_json(ms.second) : nlohmann::ordered_json()}};
    }
    for (const char* f : {"gamma2_diagonal", "gamma2_couplings", "gamma3_local", "gamma4_local"}) {
      const double a = std::fabs(row.flow[f].first), b = std::fabs(row.score[f].first);
      e["flow_over_score_matching"][f] =
          std::isfinite(a / b) ? nlohmann::ordered_json(a / b) : nlohmann::ordered_json();
    }
    js.push_back(e);
    rows.push_back(std::move(row));
  }

  auto write = [&](const std::string& name, const std::string& text) {
    write_output(resolve_output((o.out_dir / name).string()), text, out);
  };
  write("metrics.json", m.dump(1) + "\n");
  if (!first_model.empty()) {
    write("model.flow.json", first_model);
    write("learned.json", first_action);
    write("samples.npy", npy_bytes(first_samples.data(), static_cast<std::size_t>(first_samples.cols()),
                                   static_cast<std::size_t>(first_samples.rows())));
  }
  {
    std::ostringstream t;
    print(truth.action, truth.info, json_context{&t});
    write("truth.json", t.str());
  }

  // report.tex: the tables and plots a reader checks first.
  std::ostringstream tex;
  tex << "\\documentclass[11pt]{article}\n\\usepackage[margin=2cm]{geometry}\n"
         "\\usepackage{pgfplots}\n\\pgfplotsset{compat=1.16}\n\\begin{document}\n"
         "\\section*{flowaction verify}\n";
  tex << fmt::format("Truth: lattice $\\phi^4$ theory on a {}, $m^2 = {}$, $\\kappa = {}$, $\\lambda = {}$; "
                     "{} training samples, order {}, {} seed(s) per cell. Relative errors in percent, "
                     "signed means over sites or couplings; NLL in nats per sample on held-out data.\n\n",
                     theory.lattice.name(), theory.m2, theory.kappa, theory.lambda, o.samples, o.order, o.seeds);
  for (const Row& row : rows) {
    std::string cell;
    for (const auto& [k, v] : row.cell) cell += fmt::format("{} {} = {}", cell.empty() ? "" : ",", k, v);
    tex << "\\subsection*{" << (cell.empty() ? std::string("Errors") : "Cell:" + cell) << "}\n";
    tex << "\\begin{tabular}{lrrrrr}\n\\hline\nestimate & $\\Gamma^{(2)}_{ii}$ & $\\Gamma^{(2)}_{ij}$ & "
           "$\\Gamma^{(3)}_{iii}$ & $\\Gamma^{(4)}_{iiii}$ & NLL\\\\\n\\hline\n";
    for (auto [name, part] : {std::pair{"flow", &row.flow}, std::pair{"Gaussian fit", &row.gauss},
                              std::pair{"score matching", &row.score}}) {
      auto cellv = [&](const char* f) {
        const auto [mu, sd] = part->at(f);
        if (!std::isfinite(mu)) return std::string("--");
        const bool nll = std::string_view(f) == "heldout_nll";
        const std::string v = nll ? fmt::format("{:.4f}", mu) : pct(mu);
        return o.seeds > 1 ? fmt::format("{}$\\pm${}", v, nll ? fmt::format("{:.4f}", sd) : fmt::format("{:.1f}", 100 * sd)) : v;
      };
      tex << fmt::format("{} & {} & {} & {} & {} & {}\\\\\n", name, cellv("gamma2_diagonal"),
                         cellv("gamma2_couplings"), cellv("gamma3_local"), cellv("gamma4_local"),
                         cellv("heldout_nll"));
    }
    tex << "\\hline\n\\end{tabular}\n\n";
  }
  if (!runs.empty()) {
    const RunResult& r = runs.front();
    tex << "\\subsection*{Cumulants of the data and of samples from the flow (first run)}\n"
           "\\begin{tabular}{lrrrr}\n\\hline\n& $\\langle\\phi_i^2\\rangle_c$ & "
           "$\\langle\\phi_i\\phi_j\\rangle_c$ & $\\langle\\phi_i^3\\rangle_c$ & "
           "$\\langle\\phi_i^4\\rangle_c$\\\\\n\\hline\n";
    for (auto [name, c] : {std::pair{"data", &r.data}, std::pair{"flow samples", &r.flow_samples}})
      tex << fmt::format("{} & {:.4f} & {:.4f} & {:.4f} & {:.4f}\\\\\n", name, c->c2_diagonal,
                         c->c2_couplings, c->c3_local, c->c4_local);
    tex << "\\hline\n\\end{tabular}\n\n";
    if (!r.history.empty()) {
      tex << "\\subsection*{Training (first run)}\n\\begin{tikzpicture}\n\\begin{axis}[width=12cm, "
             "height=6cm, xlabel={epoch}, ylabel={NLL (nats)}, legend pos=north east]\n"
             "\\addplot[blue] coordinates {";
      for (const auto& e : r.history) tex << fmt::format("({},{:.6f})", e.epoch, e.train_nll);
      tex << "};\n\\addlegendentry{training}\n\\addplot[red] coordinates {";
      for (const auto& e : r.history)
        if (std::isfinite(e.val_nll)) tex << fmt::format("({},{:.6f})", e.epoch, e.val_nll);
      tex << "};\n\\addlegendentry{validation}\n\\end{axis}\n\\end{tikzpicture}\n\n";
    }
  }
  if (o.sweep.size() == 2) {
    // Heat map of the flow's Γ⁽⁴⁾ error over the two swept keys.
    const auto& [kx, vx] = o.sweep[0];
    const auto& [ky, vy] = o.sweep[1];
    tex << fmt::format("\\subsection*{{Flow: $|\\Gamma^{{(4)}}_{{iiii}}$ error$|$ (percent) over {} and {}}}\n", kx, ky);
    tex << "\\begin{tikzpicture}\n\\begin{axis}[width=10cm, height=8cm, colorbar, "
        << fmt::format("xlabel={{{}}}, ylabel={{{}}}, xtick=data, ytick=data, symbolic x coords={{", kx, ky);
    for (std::size_t i = 0; i < vx.size(); ++i) tex << (i ? "," : "") << vx[i];
    tex << "}, symbolic y coords={";
    for (std::size_t i = 0; i < vy.size(); ++i) tex << (i ? "," : "") << vy[i];
    tex << "}]\n\\addplot[matrix plot*, point meta=explicit, mesh/cols=" << vx.size()
        << "] coordinates {\n";
    for (long y : vy) {
      for (long x : vx)
        for (const Row& row : rows)
          if (row.cell.at(kx) == x && row.cell.at(ky) == y) {
            const double e = row.flow.at("gamma4_local").first;
            tex << fmt::format("({},{}) [{:.2f}] ", x, y, std::isfinite(e) ? 100 * std::fabs(e) : 0.0);
          }
      tex << "\n\n";
    }
    tex << "};\n\\end{axis}\n\\end{tikzpicture}\n";
  }
  tex << "\\end{document}\n";
  write("report.tex", tex.str());
  std::string pdf_note = "report.pdf";
  if (tex_available(o.tex_engine)) {
    try {
      compile_pdf(o.out_dir / "report.tex", o.tex_engine);
    } catch (const Error& e) {
      pdf_note = fmt::format("no report.pdf ({})", e.what());
    }
  } else {
    pdf_note = fmt::format("no report.pdf: {} is not installed ({})", o.tex_engine, tex_packages(o.tex_engine));
  }

  // The summary a reader sees first.
  out << fmt::format("verify: {} on {}, {} run(s) in {:.0f} s; wrote {}/metrics.json, report.tex, {}\n",
                     truth.info.source.substr(0, truth.info.source.find(':')), theory.lattice.name(),
                     runs.size(), elapsed(), o.out_dir.string(), pdf_note);
  for (const Row& row : rows) {
    std::string cell;
    for (const auto& [k, v] : row.cell) cell += fmt::format(" {}={}", k, v);
    out << fmt::format("{}relative errors in percent (diag / couplings / Gamma4 local), held-out NLL:\n",
                       cell.empty() ? "" : "cell" + cell + ": ");
    for (auto [name, part] : {std::pair{"flow          ", &row.flow}, std::pair{"Gaussian fit  ", &row.gauss},
                              std::pair{"score matching", &row.score}})
      out << fmt::format("  {} {:>7} {:>7} {:>7}   {}\n", name, pct(part->at("gamma2_diagonal").first),
                         pct(part->at("gamma2_couplings").first), pct(part->at("gamma4_local").first),
                         std::isfinite(part->at("heldout_nll").first)
                             ? fmt::format("{:.4f}", part->at("heldout_nll").first)
                             : std::string("--"));
  }
}

}  // namespace flowaction
