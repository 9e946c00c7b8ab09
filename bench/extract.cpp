// Benchmarks of the extraction (prints figures; not a test).
//  1. float field, d = 64, L = 8 (affine and activation alternating), K = 4: wall time, and the
//     FLOP rate of the affine pullback next to an Eigen GEMM of similar size in the same run;
//  2. exact field, d = 8, L = 4, K = 4;
//  3. the diagram engine against brute-force series expansion (tests/oracle.cpp), d = 4, L = 4,
//     K = 6, at a nonzero point, as a ratio;
//  4. one quadratic activation unit at order 20 (classes pruned by the layer's degree);
//  5. additive coupling flows, d = 16 and d = 32, L = 4, hidden 16, cubic, K = 6, float field:
//     time and peak memory (each in a child process), against the packed vertex tensors.
//
//   bench_extract                      all of the above
//   bench_extract --series MODEL K [X] the exact field on MODEL (any manifest, e.g. a PyTorch-
//                                      trained float32 flow) at X (comma-separated; default the
//                                      origin) against brute-force GiNaC series(), vertices
//                                      compared
#include "engine/extract.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <Eigen/Dense>
#include <chrono>
#include <functional>
#include <random>

#include "bench/models.hpp"
#include "engine/contraction.hpp"
#include "engine/parallel.hpp"
#include "engine/pullback.hpp"
#include "frontends/args.hpp"
#include "frontends/exact_json.hpp"
#include "frontends/manifest.hpp"
#include "tests/oracle.hpp"

using namespace flowaction;
using namespace flowaction::bench;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// Multiply-adds of transform_legs on an order-k tensor (the same loop bounds as the code).
double transform_madds(int d, int k) {
  double total = 0;
  for (int s = 0; s < k; ++s) {
    const int q = k - s - 1;
    if (q == 0) {
      // The last leg: k = 1 one row times M; else per parent prefix P (order k − 2, last leg
      // p) the upper triangle of an (d − p) × (d − p) product over d.
      if (s == 0) {
        total += static_cast<double>(d) * d;
        continue;
      }
      const SymShape parents(d, s - 1);
      multi_index P = parents.first();
      do {
        const double n = d - (s > 1 ? P[s - 2] : 0);
        total += d * n * (n + 1) / 2;
      } while (parents.next(P));
      continue;
    }
    const SymShape prefixes(d, s);
    multi_index J = prefixes.first();
    do total += static_cast<double>(sym_size(d, q)) * d * (d - (s ? J[s - 1] : 0));
    while (prefixes.next(J));
  }
  return total;
}

// Runs job in a child process; returns its wall time (seconds, written by the child) and peak
// resident memory (bytes).
std::pair<double, double> in_child(const std::function<void()>& job) {
  int fd[2];
  if (pipe(fd) != 0) return {-1, -1};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    const auto t0 = clock_type::now();
    job();
    const double t = seconds_since(t0);
    if (write(fd[1], &t, sizeof t) != sizeof t) _exit(1);
    _exit(0);
  }
  close(fd[1]);
  double t = -1;
  if (read(fd[0], &t, sizeof t) != sizeof t) t = -1;
  close(fd[0]);
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  return {t, static_cast<double>(usage.ru_maxrss) * 1024.0};
}

// x to 60 digits, as a double.
double evaluated(const GiNaC::ex& x) {
  const long digits = GiNaC::Digits;
  GiNaC::Digits = 60;
  const double v = GiNaC::ex_to<GiNaC::numeric>(GiNaC::evalf(x)).to_double();
  GiNaC::Digits = digits;
  return v;
}

// The exact field on a model file against brute-force GiNaC series(): times, ratio, agreement.
int series_against_engine(const std::string& path, int K, const std::string& at) {
  const Model model = read_manifest(path);
  std::vector<GiNaC::numeric> x0(static_cast<std::size_t>(model.dim), 0);
  if (!at.empty()) {
    x0.clear();
    for (const std::string& x : split_commas(at)) x0.push_back(parse_decimal(x));
  }
  ExtractRequest req;
  req.order = K;
  req.at = x0;
  int reps = 0;
  auto t0 = clock_type::now();
  Extraction r = extract(model, req);
  for (++reps; seconds_since(t0) < 1.0; ++reps) r = extract(model, req);
  const double t_engine = seconds_since(t0) / reps;
  const auto& action = std::get<Action<GiNaC::ex>>(r.action);
  int bits = 0;  // the longest denominator, a measure of how hard the rationals are
  for (const auto& g : action.vertices)
    for (std::size_t i = 0; i < g.size(); ++i)
      if (GiNaC::is_a<GiNaC::numeric>(g[i]))
        bits = std::max(bits, GiNaC::ex_to<GiNaC::numeric>(g[i]).denom().int_length());
  fmt::print("exact field, {} (d = {}, {} layers), K = {}: diagram engine {:.4f} s", path,
             model.dim, model.layers.size(), K, t_engine);
  fmt::print(" (denominators up to {} bits)\n", bits);
  std::fflush(stdout);
  t0 = clock_type::now();
  const oracle::vertices w = oracle::series_vertices(to_oracle(model), x0, K, true);
  const double t_series = seconds_since(t0);
  std::size_t compared = 0, differ = 0;
  for (int k = 0; k <= K; ++k) {
    const auto& g = action.vertices[k];
    multi_index index = g.shape().first();
    std::size_t rho = 0;
    do {
      const auto it = w.find({k, index});
      const GiNaC::ex theirs = it == w.end() ? GiNaC::ex(0) : it->second;
      // Γ⁽⁰⁾ holds logarithms the two write differently: compared to 60 digits.
      const GiNaC::ex diff = GiNaC::expand(g[rho] - theirs);
      if (k > 0 ? !diff.is_zero() : std::fabs(evaluated(diff)) > 1e-45) ++differ;
      ++compared, ++rho;
    } while (g.shape().next(index));
  }
  fmt::print(
      "brute force with GiNaC series(): {:.3f} s, {:.0f}x slower than the engine; {} of {} "
      "components differ\n",
      t_series, t_series / t_engine, differ, compared);
  return differ == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 4 && std::string(argv[1]) == "--series")
    return series_against_engine(argv[2], std::atoi(argv[3]), argc > 4 ? argv[4] : "");
  set_threads(1);  // bench_output compares thread counts
  fmt::print("flowaction extraction benchmark (one core)\n\n");

  // 1. Float field, d = 64.
  {
    const int d = 64, L = 8, K = 4;
    const Model model = parse_manifest(oracle::manifest(alternating_model(d, L, 1)), "bench-d64");
    ExtractRequest req;
    req.order = K;
    req.field = field_kind::float64;
    auto t0 = clock_type::now();
    const Extraction r = extract(model, req);
    const double total = seconds_since(t0);
    t0 = clock_type::now();
    extract(model, req);
    const double warm = seconds_since(t0);
    const auto& a = std::get<Action<double>>(r.action);
    // The parts: checks (exact forward pass, exact det W), and the float pullback alone.
    t0 = clock_type::now();
    const auto layers = instantiate<double>(model);
    const Action<double> again = extract_action(layers, d, std::vector<double>(d, 0.0), K, false);
    const double pullback_only = seconds_since(t0);
    fmt::print(
        "1. float field, d = {}, L = {} (affine/activation), K = {}: {:.3f} s for a first "
        "extraction (checks, index tables, pullback), {:.3f} s for a second, {:.3f} s of which "
        "the pullback; Gamma4_0000 = {:.6g}\n",
        d, L, K, total, warm, pullback_only, a.vertices[4][0]);

    // Affine pullback of Γ⁽⁴⁾ alone, against a GEMM of similar size.
    const auto& W = std::get<AffineMap<double>>(layers[0]).W;
    const SymTensor<double>& g4 = again.vertices[4];
    int reps = 0;
    t0 = clock_type::now();
    double sink = 0;
    while (seconds_since(t0) < 1.0) sink += transform_legs(g4, W)[1], ++reps;
    const double t_affine = seconds_since(t0) / reps;
    const double madds = transform_madds(d, 4);
    const double affine_rate = 2 * madds / t_affine;
    const Eigen::MatrixXd A = Eigen::MatrixXd::Random(static_cast<Eigen::Index>(sym_size(d, 3)), d);
    const Eigen::MatrixXd B = Eigen::MatrixXd::Random(d, d);
    Eigen::MatrixXd C(A.rows(), d);
    reps = 0;
    t0 = clock_type::now();
    while (seconds_since(t0) < 1.0) C.noalias() = A * B, sink += C(0, 0), ++reps;
    const double t_gemm = seconds_since(t0) / reps;
    const double gemm_rate = 2.0 * static_cast<double>(A.rows()) * d * d / t_gemm;
    fmt::print(
        "   affine pullback of Gamma4 (d = {}): {:.3f} s per layer, {:.3g} multiply-adds "
        "(a dense contraction needs {:.3g}), {:.2f} GFLOP/s\n",
        d, t_affine, madds, 4.0 * std::pow(d, 5), affine_rate / 1e9);
    fmt::print(
        "   Eigen GEMM {}x{} * {}x{} in the same run: {:.2f} GFLOP/s; affine pullback at {:.0f} % "
        "of it\n",
        A.rows(), d, d, d, gemm_rate / 1e9, 100 * affine_rate / gemm_rate);
    if (sink == 12345.678) fmt::print(" ");
  }

  // 2. Exact field, d = 8.
  {
    const int d = 8, L = 4, K = 4;
    const Model model = parse_manifest(oracle::manifest(alternating_model(d, L, 2)), "bench-d8");
    ExtractRequest req;
    req.order = K;
    req.field = field_kind::exact;
    const auto t0 = clock_type::now();
    const Extraction r = extract(model, req);
    fmt::print("\n2. exact field, d = {}, L = {}, K = {}: {:.3f} s ({} unique components)\n", d, L,
               K, seconds_since(t0), std::get<Action<GiNaC::ex>>(r.action).vertices[4].size());
  }

  // 3. Diagram engine vs brute-force series, d = 4, L = 4, K = 6, all layer types.
  {
    const int d = 4, L = 4, K = 6;
    const std::vector<GiNaC::numeric> x0 = {GiNaC::numeric(1, 10), GiNaC::numeric(-2, 10), 0,
                                            GiNaC::numeric(3, 10)};
    const oracle::Model m = alternating_model(d, L, 3);
    std::string kinds;
    for (const auto& l : m.layers) kinds += (kinds.empty() ? "" : ", ") + l.type;
    const Model model = parse_manifest(oracle::manifest(m), "bench-d4");
    ExtractRequest req;
    req.order = K;
    req.at = x0;
    int reps = 0;
    auto t0 = clock_type::now();
    while (seconds_since(t0) < 1.0) extract(model, req), ++reps;
    const double t_engine = seconds_since(t0) / reps;
    t0 = clock_type::now();
    const oracle::vertices v = oracle::series_vertices(m, x0, K);
    const double t_oracle = seconds_since(t0);
    t0 = clock_type::now();
    const oracle::vertices w = oracle::series_vertices(m, x0, K, true);
    const double t_series = seconds_since(t0);
    fmt::print(
        "\n3. exact field, d = {}, L = {} ({}), K = {}: diagram engine {:.4f} s;\n"
        "   brute force with GiNaC series(): {:.3f} s, {:.0f}x slower than the engine;\n"
        "   the test oracle (composition truncated in t, Mercator series for the logs): {:.3f} s, "
        "{:.1f}x slower\n",
        d, L, kinds, K, t_engine, t_series, t_series / t_engine, t_oracle, t_oracle / t_engine);
  }

  // 4. Order 20 through one quadratic activation unit.
  {
    const Model model = parse_manifest(
        R"({"format": "flowaction/1", "dim": 1, "layers": [{"type": "activation", "alpha": 0.25}]})",
        "bench-order20");
    ExtractRequest req;
    req.order = 20;
    const auto [t_idle, peak_idle] = in_child([] {});
    for (field_kind f : {field_kind::exact, field_kind::float64}) {
      req.field = f;
      const auto [t, peak] = in_child([&] { extract(model, req); });
      fmt::print(
          "\n4. one quadratic activation unit, order 20, {} field: {:.4f} s, {:.1f} MB above an "
          "idle child (the old engine built ~1e5 ring graphs: 22.8 s, 934 MB)",
          field_name(f), t, (peak - peak_idle) / 1e6);
    }
    fmt::print("\n");
  }

  // 5. Coupling flows at order 6.
  {
    fmt::print("\n5. additive coupling flows, L = 4, hidden 16, cubic, K = 6, float field:\n");
    const auto [t_empty, peak_empty] = in_child([] {});
    for (int d : {16, 32}) {
      const Model model =
          parse_manifest(oracle::manifest(coupling_model(d, 4, 16, 5)), "bench-coupling");
      ExtractRequest req;
      req.order = 6;
      req.field = field_kind::float64;
      double packed = 0;
      for (int k = 0; k <= 6; ++k) packed += 8.0 * static_cast<double>(sym_size(d, k));
      const auto [t, peak] = in_child([&] { extract(model, req); });
      fmt::print(
          "   d = {}: {:.3f} s, peak memory {:.0f} MB ({:.0f} MB above an idle child); the packed "
          "vertex tensors hold {:.1f} MB, the estimate before the run {:.0f} MB; dense d^6 "
          "buffers would be {:.0f} MB each\n",
          d, t, peak / 1e6, (peak - peak_empty) / 1e6, packed / 1e6,
          extraction_bytes(d, 6, field_kind::float64, {jet_structure::rank_one}) / 1e6,
          8.0 * std::pow(d, 6) / 1e6);
    }
    fmt::print("   (the old engine: d = 16 in 11.7 s; d = 32 refused, about 24.6 GiB)\n");
  }
  return 0;
}
