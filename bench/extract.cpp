// Benchmarks of the extraction, all on affine/activation flows (prints figures; not a test).
//  1. float field, d = 64, L = 8 (affine and activation alternating), K = 4: wall time, and the
//     FLOP rate of the affine pullback next to an Eigen GEMM of similar size in the same run;
//  2. exact field, d = 8, L = 4, K = 4;
//  3. the diagram engine against brute-force series expansion (tests/oracle.cpp), d = 4, L = 4,
//     K = 6, at a nonzero point, as a ratio.
#include "engine/extract.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <chrono>
#include <random>

#include "engine/contraction.hpp"
#include "engine/pullback.hpp"
#include "frontends/manifest.hpp"
#include "tests/oracle.hpp"

using namespace flowaction;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// Affine layers near the identity alternating with quadratic activations, weights as short
// decimals (k/(125 d), k/1000: exact in the manifest and short as rationals).
oracle::Model alternating_model(int d, int L, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> w(-100, 100), a(1, 50), b(-50, 50);
  oracle::Model m;
  m.dim = d;
  for (int l = 0; l < L; ++l) {
    oracle::Layer layer;
    if (l % 2 == 0) {
      layer.type = "affine";
      layer.W.assign(d, std::vector<GiNaC::numeric>(d));
      for (int i = 0; i < d; ++i)
        for (int j = 0; j < d; ++j)
          layer.W[i][j] = GiNaC::numeric(i == j ? 1 : 0) + GiNaC::numeric(w(rng), 125 * d);
      for (int i = 0; i < d; ++i) layer.b.push_back(GiNaC::numeric(b(rng), 1000));
    } else {
      layer.type = "activation";
      for (int i = 0; i < d; ++i) layer.coeffs.push_back({1, GiNaC::numeric(a(rng), 1000)});
    }
    m.layers.push_back(layer);
  }
  return m;
}

// Multiply-adds of transform_legs on an order-k tensor (the same loop bounds as the code).
double transform_madds(int d, int k) {
  double total = 0;
  for (int s = 0; s < k; ++s) {
    const int q = k - s - 1;
    if (q == 0) {
      total += static_cast<double>(sym_size(d, s)) * d * d;
      continue;
    }
    const SymShape prefixes(d, s);
    multi_index J = prefixes.first();
    do total += static_cast<double>(sym_size(d, q)) * d * (d - (s ? J[s - 1] : 0));
    while (prefixes.next(J));
  }
  return total;
}

}  // namespace

int main() {
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
  return 0;
}
