// Lattice φ⁴ theory with periodic boundaries and a Hybrid Monte Carlo sampler for it.
//
//   S(φ) = Σ_x [½ Σ_μ (φ_{x+μ} − φ_x)² + ½ m² φ_x² + (λ/4!) φ_x⁴]
//
// on a ring of N sites (one direction) or an N x M torus (site x = i·M + j). m² may be negative
// (broken phase). In DESIGN §2 normalisation the true vertices are Γ⁽²⁾ = K = −Δ + m² and
// Γ⁽⁴⁾_{xxxx} = λ.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace flowaction::train {

struct Lattice {
  int n0 = 1, n1 = 1;  // ring: n1 = 1
  bool torus = false;
  int sites() const { return n0 * n1; }
  std::string name() const;
};

// "8" (ring of 8 sites) or "8x4" (torus). Throws flowaction::Error on anything else.
Lattice parse_lattice(std::string_view text);

// S = Σ_x [½ Σ_μ (φ_{x+μ} − φ_x)² + ½ m² φ_x² + (κ/3!) φ_x³ + (λ/4!) φ_x⁴]: φ⁴ theory, and with κ ≠
// 0 the skewed φ³ + φ⁴ theory (bounded below only for λ > 0).
struct Phi4Theory {
  Lattice lattice;
  double m2 = 0;
  double lambda = 0;
  double kappa = 0;
};

// K = −Δ + m²: for every direction of extent n > 1, +2 on the diagonal and −1 to each neighbour,
// accumulated (so on a ring of 2 the two neighbours coincide and the coupling is −2); a direction
// of extent 1 contributes nothing.
Eigen::MatrixXd phi4_kinetic_matrix(const Phi4Theory& theory);

double phi4_action(const Phi4Theory& theory, std::span<const double> phi);
// ∂S/∂φ into force (same size as phi).
void phi4_gradient(const Phi4Theory& theory, std::span<const double> phi, std::span<double> grad);

// The largest curvature of S at typical fields, which limits the leapfrog step (stable for
// ε·√curvature < 2): the largest eigenvalue of K (m² plus 4 sin²(π⌊n/2⌋/n) per direction of
// extent n > 1, exact) plus the quartic term's curvature λ/2 · 3φ² at the field scale φ² (the
// smaller of 1/m² and √(6/λ) in the symmetric phase; the minimum −6m²/λ plus √(6/λ) in the broken
// one).
double phi4_max_curvature(const Phi4Theory& theory);

struct HmcOptions {
  std::size_t samples = 10000;
  std::uint64_t seed = 0;
  int thermalise = 1000;  // trajectories before measuring (the first half tunes the step)
  int pilot = 4000;       // trajectories used to measure τ_int before production (0: none)
  double trajectory_length = 1.0;
  double target_acceptance = 0.8;
  // The step is tuned (from 1/√phi4_max_curvature, geometrically, in windows of 25
  // trajectories) until a window's acceptance is in [min_tuned_acceptance, max_tuned_acceptance]
  // (or above it with the step as long as the trajectory); at most max_tuning_windows beyond
  // the first half of the thermalisation.
  double min_tuned_acceptance = 0.6, max_tuned_acceptance = 0.95;
  int max_tuning_windows = 400;
  // A run fails (flowaction::Error, no samples) whose acceptance over pilot and production is
  // below min_acceptance, or whose written samples hold fewer than min_effective_fraction · N
  // effective samples N/(2 τ_int).
  double min_acceptance = 0.3;
  double min_effective_fraction = 0.1;
  int max_thin = 10000;
  std::ostream* progress = nullptr;
};

struct HmcResult {
  std::vector<double> samples;  // samples x d, row-major
  std::size_t rows = 0, cols = 0;
  double step_size = 0;
  int leapfrog_steps = 0;
  double acceptance = 0;      // over pilot + production trajectories
  double tau_pilot = 0;       // τ_int (in trajectories) of the slowest observable, pilot run
  bool tau_measured = false;  // false with no pilot run: tau_pilot is then assumed, thin = 1
  std::string tau_observable;
  int thin = 1;           // one sample written every `thin` trajectories
  double tau_output = 0;  // τ_int (in written samples) of the slowest observable in the output
  double effective_samples = 0;  // rows / (2 tau_output)
  std::size_t trajectories = 0;  // total, thermalisation included
  double seconds = 0;
};

HmcResult sample_phi4(const Phi4Theory& theory, const HmcOptions& options);

// Integrated autocorrelation time τ = ½ + Σ_{t≥1} ρ(t) with Sokal's automatic window (the
// smallest W ≥ c·τ(W), c = 6); independent samples give ½, so N samples hold about N/(2τ)
// independent ones.
double integrated_autocorrelation_time(std::span<const double> series);

}  // namespace flowaction::train
