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

struct Phi4Theory {
  Lattice lattice;
  double m2 = 0;
  double lambda = 0;
};

// K = −Δ + m²: for every direction of extent n > 1, +2 on the diagonal and −1 to each neighbour,
// accumulated (so on a ring of 2 the two neighbours coincide and the coupling is −2); a direction
// of extent 1 contributes nothing.
Eigen::MatrixXd phi4_kinetic_matrix(const Phi4Theory& theory);

double phi4_action(const Phi4Theory& theory, std::span<const double> phi);
// ∂S/∂φ into force (same size as phi).
void phi4_gradient(const Phi4Theory& theory, std::span<const double> phi, std::span<double> grad);

struct HmcOptions {
  std::size_t samples = 10000;
  std::uint64_t seed = 0;
  int thermalise = 1000;  // trajectories before measuring (the first half tunes the step)
  int pilot = 4000;       // trajectories used to measure τ_int before production
  double trajectory_length = 1.0;
  double target_acceptance = 0.8;
  int max_thin = 10000;
  std::ostream* progress = nullptr;
};

struct HmcResult {
  std::vector<double> samples;  // samples x d, row-major
  std::size_t rows = 0, cols = 0;
  double step_size = 0;
  int leapfrog_steps = 0;
  double acceptance = 0;  // over pilot + production trajectories
  double tau_pilot = 0;   // τ_int (in trajectories) of the slowest observable, pilot run
  std::string tau_observable;
  int thin = 1;           // one sample written every `thin` trajectories
  double tau_output = 0;  // τ_int (in written samples) of the slowest observable in the output
  std::size_t trajectories = 0;  // total, thermalisation included
  double seconds = 0;
};

HmcResult sample_phi4(const Phi4Theory& theory, const HmcOptions& options);

// Integrated autocorrelation time τ = ½ + Σ_{t≥1} ρ(t) with Sokal's automatic window (the
// smallest W ≥ c·τ(W), c = 6); independent samples give ½, so N samples hold about N/(2τ)
// independent ones.
double integrated_autocorrelation_time(std::span<const double> series);

}  // namespace flowaction::train
