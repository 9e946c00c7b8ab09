#include "frontends/verify.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

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
#include "frontends/samples_file.hpp"
#include "frontends/train_flow.hpp"

namespace flowaction {

namespace {

using Eigen::MatrixXd;

// Splits the columns: a test part (the first ⌊f·N⌋ after a seeded shuffle) and the rest.
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

// Rows to draw so that n remain for training after the test split.
std::size_t wanted_rows(std::size_t n, double test_fraction) {
  return static_cast<std::size_t>(std::ceil(static_cast<double>(n) / (1 - test_fraction)));
}

struct RunResult {
  std::map<std::string, long> cell;
  std::uint64_t seed = 0;
  std::size_t train_samples = 0;
  VertexErrors flow, gaussian, score;
  // Of the training samples, of samples drawn from the flow, and predicted by the extracted
  // action's Feynman diagrams (NaN when its Γ⁽²⁾ is not positive definite).
  LocalCumulants data, flow_samples;
  std::vector<LocalCumulants> flow_predicted;  // by loops 0 … L
  std::vector<train::EpochStats> history;
  std::string failure;  // non-empty: the flow could not be trained or extracted
  std::string warning;  // the trainer's: e.g. the flow stayed Gaussian on non-Gaussian data
  double seconds = 0;
};

// What the first run leaves for the report and the files.
struct FirstRun {
  Action<double> learned, score;
  ActionInfo learned_info;
  std::string model;
  MatrixXd samples;
};

nlohmann::ordered_json number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json();
}

nlohmann::ordered_json errors_json(const VertexErrors& e) {
  nlohmann::ordered_json j;
  j["gamma2_diagonal"] = number(e.gamma2_diagonal);
  j["gamma2_couplings"] = number(e.gamma2_couplings);
  j["gamma3_local"] = number(e.gamma3_local);
  j["gamma4_local"] = number(e.gamma4_local);
  auto& s = j["spurious"] = nlohmann::ordered_json::array();
  for (std::size_t k = 0; k < e.spurious_abs.size(); ++k)
    s.push_back({{"order", k + 1},
                 {"largest", number(e.spurious_abs[k])},
                 {"relative_to_largest_true", number(e.spurious_rel[k])}});
  j["heldout_nll"] = number(e.heldout_nll);
  return j;
}

nlohmann::ordered_json cumulants_json(const LocalCumulants& c) {
  return {{"c2_diagonal", number(c.c2_diagonal)},
          {"c2_couplings", number(c.c2_couplings)},
          {"c3_local", number(c.c3_local)},
          {"c4_local", number(c.c4_local)}};
}

// Perturbation theory at 0, 1, … L loops: how the series behaves tells whether it can be used.
std::vector<LocalCumulants> predictions(const Action<double>& action, const Action<double>& truth,
                                        int loops) {
  std::vector<LocalCumulants> out;
  for (int l = 0; l <= loops; ++l) out.push_back(perturbative_cumulants(action, truth, l));
  return out;
}

nlohmann::ordered_json predictions_json(const std::vector<LocalCumulants>& p) {
  auto j = nlohmann::ordered_json::array();
  for (std::size_t l = 0; l < p.size(); ++l) {
    auto e = cumulants_json(p[l]);
    e["loops"] = l;
    j.push_back(e);
  }
  return j;
}

// Mean and spread (sample standard deviation; 0 for one value) of the finite values.
std::pair<double, double> mean_spread(const std::vector<double>& v) {
  std::vector<double> f;
  for (double x : v)
    if (std::isfinite(x)) f.push_back(x);
  if (f.empty()) return {NAN, NAN};
  const double m = std::accumulate(f.begin(), f.end(), 0.0) / static_cast<double>(f.size());
  double s = 0;
  for (double x : f) s += (x - m) * (x - m);
  return {m, f.size() > 1 ? std::sqrt(s / static_cast<double>(f.size() - 1)) : 0.0};
}

std::string pct(double v) {
  return std::isfinite(v) ? fmt::format("{:+.1f}", 100 * v) : "--";
}

using Cell = std::map<std::string, long>;

// Every combination of the sweep's values (one empty cell without a sweep).
std::vector<Cell> cells_of(const VerifyOptions& o) {
  std::vector<Cell> cells{{}};
  for (const auto& [key, values] : o.sweep) {
    std::vector<Cell> next;
    for (const Cell& c : cells)
      for (long v : values) {
        Cell c2 = c;
        c2[key] = v;
        next.push_back(c2);
      }
    cells = next;
  }
  return cells;
}

std::string cell_name(const Cell& cell, const char* sep = " ") {
  std::string s;
  for (const auto& [k, v] : cell) s += fmt::format("{}{}={}", s.empty() ? "" : sep, k, v);
  return s;
}

const char* const error_fields[] = {"gamma2_diagonal", "gamma2_couplings", "gamma3_local",
                                    "gamma4_local", "heldout_nll"};

double field_of(const VertexErrors& e, std::string_view f) {
  if (f == "gamma2_diagonal") return e.gamma2_diagonal;
  if (f == "gamma2_couplings") return e.gamma2_couplings;
  if (f == "gamma3_local") return e.gamma3_local;
  if (f == "gamma4_local") return e.gamma4_local;
  return e.heldout_nll;
}

// Per cell: mean and spread over the seeds of every error, for each estimate.
struct Row {
  Cell cell;
  std::map<std::string, std::pair<double, double>> flow, gauss, score;
  // |flow error| over |score-matching error|, each averaged over the seeds first (signed means
  // can cancel; absolute ones cannot).
  std::map<std::string, double> flow_over_score;
  int failed = 0;
};

std::vector<Row> summarise(const std::vector<Cell>& cells, const std::vector<RunResult>& runs) {
  std::vector<Row> rows;
  for (const Cell& cell : cells) {
    Row row{cell, {}, {}, {}, {}, 0};
    for (const RunResult& r : runs)
      if (r.cell == cell && !r.failure.empty()) ++row.failed;
    for (const char* f : error_fields) {
      std::vector<double> fl, ga, sc;
      for (const RunResult& r : runs) {
        if (r.cell != cell) continue;
        if (r.failure.empty()) fl.push_back(field_of(r.flow, f));
        ga.push_back(field_of(r.gaussian, f));
        sc.push_back(field_of(r.score, f));
      }
      row.flow[f] = mean_spread(fl), row.gauss[f] = mean_spread(ga), row.score[f] = mean_spread(sc);
      auto absolute = [](std::vector<double> v) {
        for (double& x : v) x = std::fabs(x);
        return mean_spread(v).first;
      };
      row.flow_over_score[f] = absolute(fl) / absolute(sc);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// The loops of the perturbative predictions, -1 for none (see VerifyOptions::loops).
int prediction_loops(const VerifyOptions& o, int dim) {
  if (o.loops >= 0) return o.loops;
  return dim <= perturbative_max_dim ? 2 : -1;
}

RunResult run_once(const VerifyOptions& o, const Truth& truth, const MatrixXd* given,
                   const Cell& cell, std::uint64_t seed, const std::string& where, FirstRun* first,
                   std::ostream& err, const std::function<double()>& elapsed) {
  const int loops = prediction_loops(o, truth.action.dim);
  RunResult run;
  run.cell = cell;
  run.seed = seed;
  const auto r0 = std::chrono::steady_clock::now();
  train::FlowSpec spec = o.spec;
  train::TrainOptions training = o.training;
  std::size_t samples = o.samples;
  for (const auto& [key, v] : cell) {
    if (key == "layers") spec.layers = static_cast<int>(v);
    if (key == "hidden") spec.hidden = static_cast<int>(v);
    if (key == "epochs") training.epochs = static_cast<int>(v);
    if (key == "samples") samples = static_cast<std::size_t>(v);
  }
  const int d = truth.action.dim;
  MatrixXd all;
  if (given) {  // verify() checked up front that every cell's rows are there
    const auto have = static_cast<std::size_t>(given->cols());
    const std::size_t n = samples == 0 ? have : wanted_rows(samples, o.test_fraction);
    all = given->leftCols(static_cast<Eigen::Index>(n));
  } else {
    // The data set changes with the seed as well: HMC data sets move results more than
    // training seeds do.
    err << fmt::format("verify {}: sampling {} configurations of the {} by HMC ({:.0f} s)\n", where,
                       wanted_rows(samples, o.test_fraction), o.theory.lattice.name(), elapsed());
    train::HmcOptions hmc;
    hmc.samples = wanted_rows(samples, o.test_fraction);
    hmc.seed = seed;
    const train::HmcResult h = train::sample_phi4(o.theory, hmc);
    all = Eigen::Map<const MatrixXd>(h.samples.data(), static_cast<Eigen::Index>(h.cols),
                                     static_cast<Eigen::Index>(h.rows));
  }
  const auto [train_x, test_x] = split(all, o.test_fraction, seed);
  run.train_samples = static_cast<std::size_t>(train_x.cols());
  run.data = cumulants_of(train_x, truth.action);

  // The baselines, on the same training samples.
  const Action<double> gauss = gaussian_action(train_x, o.order);
  run.gaussian = vertex_errors(gauss, truth.action);
  run.gaussian.heldout_nll = train::gaussian_nll(train_x, test_x);
  err << fmt::format("verify {}: score matching on {} samples ({:.0f} s)\n", where, train_x.cols(),
                     elapsed());
  const Action<double> score = score_matching_action(train_x, truth.action, o.order);
  run.score = vertex_errors(score, truth.action);

  try {
    train::Flow flow;
    if (o.model) {
      flow = read_train_flow(*o.model);
      if (flow.dim != d)
        throw Error(
            fmt::format("{}: the flow has {} units, the truth {}", o.model->string(), flow.dim, d));
    } else {
      err << fmt::format("verify {}: training a flow ({} {} layer(s), {} epochs) ({:.0f} s)\n",
                         where, spec.layers,
                         spec.arch == train::architecture::activation
                             ? std::string(train::activation_name(spec.activation))
                             : std::string("coupling"),
                         training.epochs, elapsed());
      training.seed = seed;
      const train::TrainResult tr =
          train::train_flow(train::make_flow(d, spec, seed), train_x, training);
      run.history = tr.history;
      run.warning = train::gaussian_collapse_warning(tr, train_x);
      if (!run.warning.empty()) err << fmt::format("verify {}: {}\n", where, run.warning);
      if (!tr.stop_reason.empty() && tr.good_epochs == 0) throw Error(tr.stop_reason);
      flow = tr.flow;
    }
    err << fmt::format("verify {}: extracting the vertices to order {} ({:.0f} s)\n", where,
                       o.order, elapsed());
    const Model model = to_model(flow, o.model ? o.model->string() : "verify");
    ExtractRequest req;
    req.order = o.order;
    req.field = field_kind::float64;
    const Extraction x = extract(model, req);
    const auto& learned = std::get<Action<double>>(x.action);
    run.flow = vertex_errors(learned, truth.action);
    run.flow.heldout_nll = train::mean_nll(flow, test_x, training.threads);
    // Samples from the flow through its exact inverse, for their cumulants: as many latent draws
    // as training samples, those with no preimage left out.
    const auto n_gen = static_cast<std::size_t>(train_x.cols());
    const MatrixXd kept = train::sample_flow(flow, n_gen, seed + 17, n_gen).x;
    if (kept.cols() >= 2) run.flow_samples = cumulants_of(kept, truth.action);
    if (o.order >= 4 && loops >= 0) {
      err << fmt::format("verify {}: cumulants of the learned action to {} loops ({:.0f} s)\n",
                         where, loops, elapsed());
      try {
        run.flow_predicted = predictions(learned, truth.action, loops);
      } catch (const Error& e) {
        err << fmt::format("verify {}: no perturbative cumulants of the learned action: {}\n",
                           where, e.what());
      }
    }
    if (first) {
      first->learned = learned;
      first->learned_info = x.info;
      first->model = manifest_json(model);
    }
  } catch (const Error& e) {
    run.failure = e.what();
    err << fmt::format("verify {}: the flow failed: {}\n", where, e.what());
  }
  if (first) {
    first->score = score;
    first->samples = all;
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - r0).count();
  return run;
}

nlohmann::ordered_json metrics_json(const VerifyOptions& o, const Truth& truth,
                                    const std::vector<RunResult>& runs,
                                    const std::vector<Row>& rows,
                                    const std::vector<LocalCumulants>& truth_predicted) {
  const int loops = prediction_loops(o, truth.action.dim);
  nlohmann::ordered_json m;
  m["format"] = "flowaction-verify/1";
  m["convention"] =
      "relative errors are signed means of (estimate - truth) / truth over the sites (diagonal, "
      "local) or over the off-diagonal couplings the truth's Gamma^(2) has; spurious: per order, "
      "the largest |Gamma| where the truth is 0, absolute and over the largest true |Gamma| of "
      "that order; held-out NLL in nats per sample on a test split no estimator saw (score "
      "matching is not normalised: null); flow_over_score_matching: the mean over seeds of |flow "
      "error| over that of |score-matching error|; cumulants are site means of <x_i^2>_c, of <x_i "
      "x_j>_c "
      "over the couplings, of <x_i^3>_c and <x_i^4>_c; 'predicted' by the action's Feynman "
      "diagrams to the given loops; null where not defined";
  m["truth"] = {{"source", truth.info.source}, {"name", truth.name}};
  if (!o.data)
    m["truth"]["theory"] = {{"lattice", o.theory.lattice.name()},
                            {"m2", o.theory.m2},
                            {"kappa", o.theory.kappa},
                            {"lambda", o.theory.lambda}};
  else
    m["truth"]["data"] = o.data->string();
  m["settings"] = {
      {"samples", o.samples},
      {"test_fraction", o.test_fraction},
      {"order", o.order},
      {"loops", loops >= 0 ? nlohmann::ordered_json(loops) : nlohmann::ordered_json()},
      {"seeds", o.seeds},
      {"first_seed", o.seed},
      {"model", o.model ? nlohmann::ordered_json(o.model->string()) : nlohmann::ordered_json()},
      {"arch", o.spec.arch == train::architecture::activation ? "activation" : "coupling"},
      {"activation", std::string(train::activation_name(o.spec.activation))},
      {"layers", o.spec.layers},
      {"hidden", o.spec.hidden},
      {"epochs", o.training.epochs},
      {"batch", o.training.batch},
      {"lr", o.training.lr}};
  m["truth_cumulants_predicted"] = predictions_json(truth_predicted);
  auto& jr = m["runs"] = nlohmann::ordered_json::array();
  for (const RunResult& r : runs) {
    nlohmann::ordered_json e;
    e["cell"] = r.cell;
    e["seed"] = r.seed;
    e["train_samples"] = r.train_samples;
    if (r.failure.empty())
      e["flow"] = errors_json(r.flow);
    else
      e["flow"] = {{"failed", r.failure}};
    if (!r.warning.empty()) e["flow_warning"] = r.warning;
    e["gaussian"] = errors_json(r.gaussian);
    e["score_matching"] = errors_json(r.score);
    e["cumulants"] = {{"data", cumulants_json(r.data)},
                      {"flow_samples", cumulants_json(r.flow_samples)},
                      {"flow_predicted", predictions_json(r.flow_predicted)}};
    e["seconds"] = r.seconds;
    jr.push_back(e);
  }
  auto& js = m["summary"] = nlohmann::ordered_json::array();
  for (const Row& row : rows) {
    nlohmann::ordered_json e;
    e["cell"] = row.cell;
    e["flow_failures"] = row.failed;
    for (auto [name, part] : {std::pair{"flow", &row.flow}, std::pair{"gaussian", &row.gauss},
                              std::pair{"score_matching", &row.score}}) {
      auto& p = e[name];
      for (const char* f : error_fields)
        p[f] = {{"mean", number(part->at(f).first)}, {"spread", number(part->at(f).second)}};
    }
    for (const char* f : {"gamma2_diagonal", "gamma2_couplings", "gamma3_local", "gamma4_local"})
      e["flow_over_score_matching"][f] = number(row.flow_over_score.at(f));
    js.push_back(e);
  }
  return m;
}

// A scatter plot of estimated against true components of one order, the diagonal y = x drawn.
void scatter(std::ostream& tex, int k, const Truth& truth, const FirstRun& first) {
  const auto& t = truth.action.vertices[static_cast<std::size_t>(k)];
  double lo = 0, hi = 0;
  auto points = [&](const Action<double>& a) {
    std::string s;
    if (a.order() < k) return s;
    const auto& g = a.vertices[static_cast<std::size_t>(k)];
    for (std::size_t r = 0; r < t.size() && r < 4000; ++r) {
      if (!std::isfinite(g[r])) continue;
      lo = std::min({lo, t[r], g[r]}), hi = std::max({hi, t[r], g[r]});
      s += fmt::format("({:.6g},{:.6g}) ", t[r], g[r]);
    }
    return s;
  };
  const std::string flow = points(first.learned), score = points(first.score);
  const double pad = 0.05 * (hi - lo + 1e-9);
  tex << fmt::format(
      "\\begin{{tikzpicture}}\n\\begin{{axis}}[width=7.5cm, height=7.5cm, title={{order {}}}, "
      "xlabel={{true $\\Gamma^{{({})}}$}}, ylabel={{estimate}}, legend pos=north west, "
      "legend style={{font=\\footnotesize}}, xmin={:.6g}, xmax={:.6g}, ymin={:.6g}, ymax={:.6g}]\n"
      "\\addplot[gray, domain={:.6g}:{:.6g}] {{x}};\n\\addlegendentry{{truth}}\n",
      k, k, lo - pad, hi + pad, lo - pad, hi + pad, lo - pad, hi + pad);
  if (!flow.empty())
    tex << "\\addplot[only marks, mark=*, blue, mark size=1.5pt] coordinates {" << flow
        << "};\n\\addlegendentry{flow}\n";
  tex << "\\addplot[only marks, mark=x, red, mark size=2pt] coordinates {" << score
      << "};\n\\addlegendentry{score matching}\n\\end{axis}\n\\end{tikzpicture}\n";
}

std::string report_tex(const VerifyOptions& o, const Truth& truth,
                       const std::vector<RunResult>& runs, const std::vector<Row>& rows,
                       const std::vector<LocalCumulants>& truth_predicted, const FirstRun& first) {
  std::ostringstream tex;
  tex << "\\documentclass[11pt]{article}\n\\usepackage[margin=2cm]{geometry}\n"
         "\\usepackage{pgfplots}\n\\pgfplotsset{compat=1.16}\n\\begin{document}\n"
         "\\section*{flowaction verify}\n";
  const std::string what =
      o.data ? fmt::format("samples from \\verb|{}|, truth from \\verb|{}|", o.data->string(),
                           o.truth->string())
             : fmt::format(
                   "lattice $\\phi^4$ theory on a {}, $m^2 = {}$, $\\kappa = {}$, "
                   "$\\lambda = {}$, sampled by HMC",
                   o.theory.lattice.name(), o.theory.m2, o.theory.kappa, o.theory.lambda);
  tex << fmt::format(
      "Truth: {}. Convention: $S(x) = -\\ln p(x) = \\sum_k \\frac{{1}}{{k!}} \\Gamma^{{(k)}}_{{i_1 "
      "\\dots i_k}} x_{{i_1}} \\cdots x_{{i_k}}$. {} training samples per run ({:.0f}\\,\\% more "
      "held out), vertices to order {}, {} seed(s) per cell. Relative errors in percent: signed "
      "means of (estimate $-$ truth)/truth over the sites or the couplings the truth has; NLL in "
      "nats per sample on the held-out data.\n\n",
      what, runs.empty() ? 0 : runs.front().train_samples,
      100 * o.test_fraction / (1 - o.test_fraction), o.order, o.seeds);
  for (const Row& row : rows) {
    const std::string cell = cell_name(row.cell, ", ");
    tex << "\\subsection*{" << (cell.empty() ? std::string("Errors") : "Cell " + cell) << "}\n";
    if (row.failed) tex << fmt::format("The flow failed in {} run(s).\n\n", row.failed);
    tex << "\\begin{tabular}{lrrrrr}\n\\hline\nestimate & $\\Gamma^{(2)}_{ii}$ & "
           "$\\Gamma^{(2)}_{ij}$ & $\\Gamma^{(3)}_{iii}$ & $\\Gamma^{(4)}_{iiii}$ & NLL\\\\\n"
           "\\hline\n";
    for (const auto& entry : {std::pair{"flow", &row.flow}, std::pair{"Gaussian fit", &row.gauss},
                              std::pair{"score matching", &row.score}}) {
      // Not a structured binding: clang before 16 cannot capture one in the lambda.
      const char* name = entry.first;
      const auto* part = entry.second;
      auto value = [&](const char* f) {
        const auto [mu, sd] = part->at(f);
        if (!std::isfinite(mu)) return std::string("--");
        const bool nll = std::string_view(f) == "heldout_nll";
        const std::string v = nll ? fmt::format("{:.4f}", mu) : pct(mu);
        if (o.seeds < 2) return v;
        return fmt::format("{}$\\pm${}", v,
                           nll ? fmt::format("{:.4f}", sd) : fmt::format("{:.1f}", 100 * sd));
      };
      tex << fmt::format("{} & {} & {} & {} & {} & {}\\\\\n", name, value("gamma2_diagonal"),
                         value("gamma2_couplings"), value("gamma3_local"), value("gamma4_local"),
                         value("heldout_nll"));
    }
    tex << "\\hline\n\\end{tabular}\n\n";
  }
  if (!runs.empty()) {
    const RunResult& r = runs.front();
    if (!first.learned.vertices.empty()) {
      tex << "\\subsection*{Learned and fitted against true vertices (first run)}\n";
      for (int k : {2, 4})
        if (k <= o.order && k <= truth.action.order()) scatter(tex, k, truth, first);
      tex << "\n\n";
    }
    tex << "\\subsection*{Cumulants (first run)}\nSite means. `Predicted': by the action's "
           "Feynman diagrams to the given number of loops (\\texttt{flowaction cumulants}); where "
           "the true action's own series does not settle on the data's values, perturbation "
           "theory does not hold at this coupling and the learned action's series cannot be "
           "judged by it.\n\n"
           "\\begin{tabular}{lrrrr}\n\\hline\n& $\\langle x_i^2\\rangle_c$ & $\\langle x_i "
           "x_j\\rangle_c$ & $\\langle x_i^3\\rangle_c$ & $\\langle "
           "x_i^4\\rangle_c$\\\\\n\\hline\n";
    auto num = [](double v) { return std::isfinite(v) ? fmt::format("{:.4f}", v) : "--"; };
    auto line = [&](const std::string& name, const LocalCumulants& c) {
      tex << fmt::format("{} & {} & {} & {} & {}\\\\\n", name, num(c.c2_diagonal),
                         num(c.c2_couplings), num(c.c3_local), num(c.c4_local));
    };
    line("data (training samples)", r.data);
    line("samples from the flow", r.flow_samples);
    for (std::size_t l = 0; l < r.flow_predicted.size(); ++l)
      line(fmt::format("learned action, {} loop(s)", l), r.flow_predicted[l]);
    for (std::size_t l = 0; l < truth_predicted.size(); ++l)
      line(fmt::format("true action, {} loop(s)", l), truth_predicted[l]);
    tex << "\\hline\n\\end{tabular}\n\n";
    if (truth_predicted.empty())
      tex << fmt::format(
          "No perturbative predictions: the truth has {} units (computed up to {} "
          "by default, with \\texttt{{--loops}} beyond) or no positive definite "
          "$\\Gamma^{{(2)}}$.\n\n",
          truth.action.dim, perturbative_max_dim);
    if (!r.history.empty()) {
      // The axis ends at the last epoch, its labels without a thousands separator (1,000 and
      // 1,100 ran into each other).
      tex << "\\subsection*{Training (first run)}\n\\begin{tikzpicture}\n\\begin{axis}[width=12cm, "
             "height=6cm, xlabel={epoch}, ylabel={NLL (nats per sample)}, legend pos=north "
             "east, enlarge x limits=false, x tick label style={/pgf/number format/1000 sep={}}]"
             "\n\\addplot[blue] coordinates {";
      for (const auto& e : r.history) tex << fmt::format("({},{:.6f})", e.epoch, e.train_nll);
      tex << "};\n\\addlegendentry{training}\n";
      std::string val;
      for (const auto& e : r.history)
        if (std::isfinite(e.val_nll)) val += fmt::format("({},{:.6f})", e.epoch, e.val_nll);
      if (!val.empty())
        tex << "\\addplot[red] coordinates {" << val << "};\n\\addlegendentry{validation}\n";
      tex << "\\end{axis}\n\\end{tikzpicture}\n\n";
    }
  }
  if (o.sweep.size() == 2) {
    // Heat map of the flow's |Γ⁽⁴⁾ᵢᵢᵢᵢ| error over the two swept keys.
    const auto& [kx, vx] = o.sweep[0];
    const auto& [ky, vy] = o.sweep[1];
    tex << fmt::format(
        "\\subsection*{{Flow: $|$error of $\\Gamma^{{(4)}}_{{iiii}}|$ in percent over {} and "
        "{}}}\n",
        kx, ky);
    tex << "\\begin{tikzpicture}\n\\begin{axis}[width=10cm, height=8cm, colorbar, nodes near "
           "coords, nodes near coords style={font=\\footnotesize, anchor=center}, "
           "colormap={light}{rgb255(0cm)=(255,255,255); rgb255(1cm)=(250,150,60)}, "
        << fmt::format("xlabel={{{}}}, ylabel={{{}}}, xtick=data, ytick=data, ", kx, ky)
        << "symbolic x coords={";
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
            tex << fmt::format("({},{}) [{:.2f}] ", x, y,
                               std::isfinite(e) ? 100 * std::fabs(e) : 0.0);
          }
      tex << "\n\n";
    }
    tex << "};\n\\end{axis}\n\\end{tikzpicture}\n";
  }
  tex << "\\end{document}\n";
  return tex.str();
}

}  // namespace

void verify(const VerifyOptions& o, std::ostream& out, std::ostream& err) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const std::function<double()> elapsed = [&] {
    return std::chrono::duration<double>(clock::now() - t0).count();
  };
  namespace fs = std::filesystem;
  if (o.out_dir.empty()) throw Error("verify needs an output folder (-o DIR)");
  if (o.data.has_value() != o.truth.has_value())
    throw Error("verify: --data and --truth go together");

  // The truth, and the samples when they are given.
  Truth truth;
  std::optional<MatrixXd> given;
  if (o.truth) {
    truth = read_truth(*o.truth);
    given = read_samples(*o.data, 10, truth.action.dim);
  } else {
    const TrueAction t = phi4_truth(o.theory);
    truth =
        Truth{t.action, t.info,
              fmt::format("phi^4 on a {}, m2 = {}, kappa = {}, lambda = {}",
                          o.theory.lattice.name(), o.theory.m2, o.theory.kappa, o.theory.lambda)};
  }
  if (given) {  // every cell's samples must be there before anything is written
    std::size_t most = o.samples;
    for (const auto& [key, values] : o.sweep)
      if (key == "samples")
        most = static_cast<std::size_t>(*std::max_element(values.begin(), values.end()));
    const std::size_t need = wanted_rows(most, o.test_fraction);
    if (most > 0 && need > static_cast<std::size_t>(given->cols()))
      throw Error(
          fmt::format("{}: {} training samples need {} rows (with {:.0f} % held out), the "
                      "file has {}",
                      o.data->string(), most, need, 100 * o.test_fraction, given->cols()));
  }
  if (truth.action.order() < 2)
    throw Error(fmt::format("{}: the truth has no Gamma^(2)", truth.name));
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec || !fs::is_directory(o.out_dir))
    throw Error(fmt::format("{}: cannot create the output folder: {}", o.out_dir.string(),
                            ec ? ec.message() : "not a folder"));

  // What perturbation theory says the truth's cumulants are: the yardstick for the learned
  // action's prediction.
  const int loops = prediction_loops(o, truth.action.dim);
  std::vector<LocalCumulants> truth_predicted;
  if (loops >= 0) {
    err << fmt::format("verify: cumulants of the true action to {} loops\n", loops);
    try {
      truth_predicted = predictions(truth.action, truth.action, loops);
    } catch (const Error& e) {
      err << fmt::format("verify: no perturbative cumulants of the truth: {}\n", e.what());
    }
  } else {
    err << fmt::format(
        "verify: no perturbative cumulants for {} units (more than {}; --loops L "
        "computes them, at a cost of d^4 per diagram)\n",
        truth.action.dim, perturbative_max_dim);
  }

  const std::vector<Cell> cells = cells_of(o);
  const std::size_t total = cells.size() * static_cast<std::size_t>(o.seeds);
  std::vector<RunResult> runs;
  FirstRun first;
  for (const Cell& cell : cells)
    for (int s = 0; s < o.seeds; ++s) {
      const std::string where = fmt::format("run {}/{}{}", runs.size() + 1, total,
                                            cell.empty() ? "" : " (" + cell_name(cell) + ")");
      runs.push_back(run_once(o, truth, given ? &*given : nullptr, cell,
                              o.seed + static_cast<std::uint64_t>(s), where,
                              runs.empty() ? &first : nullptr, err, elapsed));
    }
  const std::vector<Row> rows = summarise(cells, runs);

  // The files: metrics first (what other tools read), the first run's inputs and outputs, the
  // report last.
  auto write = [&](const std::string& name, const std::string& text) {
    write_output(resolve_output((o.out_dir / name).string()), text, out);
  };
  write("metrics.json", metrics_json(o, truth, runs, rows, truth_predicted).dump(1) + "\n");
  {
    std::ostringstream t;
    print(truth.action, truth.info, json_context{&t});
    write("truth.json", t.str());
  }
  if (!first.model.empty()) {
    write("model.flow.json", first.model);
    std::ostringstream a;
    print(first.learned, first.learned_info, json_context{&a});
    write("learned.json", a.str());
  }
  if (!o.data)
    write("samples.npy",
          npy_bytes(first.samples.data(), static_cast<std::size_t>(first.samples.cols()),
                    static_cast<std::size_t>(first.samples.rows())));
  write("report.tex", report_tex(o, truth, runs, rows, truth_predicted, first));
  std::string pdf_note = "report.pdf";
  if (tex_available(o.tex_engine)) {
    err << fmt::format("verify: compiling report.tex ({:.0f} s)\n", elapsed());
    try {
      compile_pdf(o.out_dir / "report.tex", o.tex_engine);
    } catch (const Error& e) {
      pdf_note = fmt::format("no report.pdf ({})", e.what());
    }
  } else {
    pdf_note = fmt::format("no report.pdf: {} is not installed (Debian: {})", o.tex_engine,
                           tex_packages(o.tex_engine));
  }

  // The summary a reader sees first.
  out << fmt::format("verify: {}; {} run(s) in {:.0f} s; wrote {}/metrics.json, report.tex, {}\n",
                     truth.name, runs.size(), elapsed(), o.out_dir.string(), pdf_note);
  const bool cubic = std::isfinite(rows.front().score.at("gamma3_local").first);
  for (const Row& row : rows) {
    const std::string cell = cell_name(row.cell);
    out << fmt::format(
        "{}relative errors in percent{}: Gamma2 diagonal, couplings, {}Gamma4_iiii; "
        "held-out NLL (nats)\n",
        cell.empty() ? "" : "cell " + cell + ": ",
        o.seeds > 1 ? fmt::format(" (means over {} seeds)", o.seeds) : "",
        cubic ? "Gamma3_iii, " : "");
    for (auto [name, part] :
         {std::pair{"flow          ", &row.flow}, std::pair{"Gaussian fit  ", &row.gauss},
          std::pair{"score matching", &row.score}}) {
      std::string line =
          fmt::format("  {} {:>7} {:>7}", name, pct(part->at("gamma2_diagonal").first),
                      pct(part->at("gamma2_couplings").first));
      if (cubic) line += fmt::format(" {:>7}", pct(part->at("gamma3_local").first));
      const double nll = part->at("heldout_nll").first;
      out << line
          << fmt::format(" {:>7}   {}\n", pct(part->at("gamma4_local").first),
                         std::isfinite(nll) ? fmt::format("{:.4f}", nll) : std::string("--"));
    }
    auto ratio = [&](const char* f) {
      const double r = row.flow_over_score.at(f);
      return std::isfinite(r) ? fmt::format("{:.2g}", r) : std::string("--");
    };
    out << fmt::format("  flow |error| / score matching |error|: {} {}{} {}\n",
                       ratio("gamma2_diagonal"), ratio("gamma2_couplings"),
                       cubic ? " " + ratio("gamma3_local") : std::string(), ratio("gamma4_local"));
    if (row.failed) out << fmt::format("  the flow failed in {} run(s)\n", row.failed);
  }
}

}  // namespace flowaction
