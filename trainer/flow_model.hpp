// The layers of DESIGN §3 (affine, activation, coupling) and ActNorm in double precision, on
// batches of samples.
//
// A batch is a d x n Eigen matrix, one sample per column (contiguous). The flow maps data to latent
// (layers listed data -> latent). Per sample the action is
//   S(x) = ½|f(x)|² + (d/2) ln 2π − ln|det ∂f/∂x|,
// and forward() returns the sum of S over the batch; backward() adds the gradient of
// scale · Σ_samples S to every parameter, by hand-written backpropagation.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/overload.hpp"

namespace flowaction::train {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;

// φ(u) = u + αu² (the paper's choice, invertible where 1 + 2αu > 0) or φ(u) = u + αu³ (odd,
// invertible everywhere for α ≥ 0).
enum class activation_kind { quadratic, cubic };
std::string_view activation_name(activation_kind kind);

// z = W y + b.
struct AffineLayer {
  Matrix W;
  Vector b;
};

// z_i = φ(y_i) with one α per unit. The trained parameter θ is α itself; for cubic layers
// Flow::sync() projects it onto α ≥ 0 (invertible on all of ℝ). A projection rather than
// α = softplus(θ): Adam then moves α at the rate it moves every other parameter (with softplus
// a step in θ moves α ≈ 0.03 by only sigmoid(θ) ≈ 0.03 of it), and on φ⁴ ring data that
// recovers Γ⁽⁴⁾ better (bench/phi4_recovery, issue 11). alpha is what the maps use and is kept
// equal to θ by Flow::sync().
struct ActivationLayer {
  activation_kind kind = activation_kind::cubic;
  Vector theta;
  Vector alpha;
};

// Additive (NICE) coupling: units with mask 0 (set A) pass; units with mask 1 (set B) get
// z_B = y_B + W2 φ(W1 y_A + b1) + b2, with one α per hidden unit (unconstrained: the layer is
// invertible for every α). W1 is hidden x |A|, W2 is |B| x hidden.
struct CouplingLayer {
  std::vector<int> mask;
  std::vector<int> a_units, b_units;  // derived from mask
  Matrix W1;
  Vector b1;
  activation_kind kind = activation_kind::cubic;
  Vector alpha;
  Matrix W2;
  Vector b2;

  void set_mask(std::vector<int> m);
  int hidden() const { return static_cast<int>(W1.rows()); }
};

// ActNorm (Glow): z_i = s_i y_i + t_i. The trained parameters are the log-scale θ = ln s, so s
// stays positive under any optimiser step, and the shift t; scale is what the maps use and is kept
// equal to exp(θ) by Flow::sync(). A negative (or zero) scale cannot be represented: the trainer
// requires s > 0 (a sign flip belongs in an affine layer).
struct ActNormLayer {
  Vector theta;  // ln s
  Vector shift;  // t
  Vector scale;  // s = exp(θ)

  ActNormLayer() = default;
  // The layer of a given s and t (an empty shift is zero), θ = ln s; scale keeps s exactly, so a
  // model read from a file maps as written. Throws flowaction::Error unless every s is finite and
  // positive, or when the sizes differ.
  explicit ActNormLayer(Vector s, Vector t = {});
  // s = 1, t = 0.
  static ActNormLayer identity(int dim);
};

using Layer = std::variant<AffineLayer, ActivationLayer, CouplingLayer, ActNormLayer>;

// Visits list every alternative with no catch-all (engine/overload.hpp), so a new layer type does
// not compile until each of them handles it.

struct Flow {
  int dim = 0;
  std::vector<Layer> layers;

  // The trained parameters as contiguous blocks, in a fixed order (a gradient or an Adam moment
  // is a Flow of the same structure, so blocks of two flows correspond one to one).
  std::vector<std::span<double>> parameters();
  std::vector<std::span<const double>> parameters() const;
  std::size_t parameter_count() const;
  // Recomputes what the maps use from the trained parameters (after every change of them):
  // θ = max(θ, 0) in cubic activation layers, then alpha = θ in activation layers; scale = exp(θ)
  // in actnorm layers.
  void sync();
  // A flow of the same structure with every parameter zero.
  Flow zeros_like() const;
  // True if some activation layer is quadratic, i.e. not invertible on all of ℝ.
  bool has_domain_limits() const;
};

// Quantities of the current parameters shared by every batch: ln|det W| and W⁻ᵀ of each affine
// layer, Σ ln s_i of each actnorm layer. Throws flowaction::Error when some W is singular (or not
// finite) or some actnorm scale is not finite and positive.
struct FlowConstants {
  std::vector<double> log_abs_det;  // per layer (0 for activation and coupling layers)
  std::vector<Matrix> inverse_transpose;
  double total_log_abs_det = 0;
};
FlowConstants prepare(const Flow& flow);

// Buffers of one forward/backward pass, reused between batches so that the hot loops allocate
// nothing once sizes are stable.
struct FlowWorkspace {
  std::vector<Matrix> x;   // x[l] = input of layer l, x[L] = latent z
  std::vector<Matrix> ya;  // coupling: y_A gathered
  std::vector<Matrix> h;   // coupling: hidden pre-activation W1 y_A + b1
  std::vector<Matrix> a;   // coupling: φ(h)
  Vector log_det;          // per sample: ln|det ∂f/∂x|
  Matrix g, g2, gb, da;    // backward buffers
};

struct ForwardResult {
  double loss_sum = 0;    // Σ over samples of S(x)
  int domain_layer = -1;  // first layer where some φ′(u) <= 0, or -1
  int domain_unit = -1;
  double domain_value = 0;  // the offending input u
  bool in_domain() const { return domain_layer < 0; }
};

// Forward pass of the columns of X; keeps what backward needs in ws.
ForwardResult forward(const Flow& flow, const FlowConstants& c, const Eigen::Ref<const Matrix>& X,
                      FlowWorkspace& ws);

// Adds the gradient of scale · Σ_samples S(x) (samples of the last forward with ws) to grad.
// grad holds dS/dθ in the theta blocks of activation and actnorm layers.
void backward(const Flow& flow, const FlowConstants& c, FlowWorkspace& ws, double scale,
              Flow& grad);

// Per-sample action S(x) of the columns of X (convenience; allocates).
Vector action_values(const Flow& flow, const Eigen::Ref<const Matrix>& X);

// The latent z = f(x) of the columns of X.
Matrix latent(const Flow& flow, const Eigen::Ref<const Matrix>& X);

// Exact inverse x = f⁻¹(z), column by column. A latent column with no preimage (outside the image
// of a quadratic activation: 1 + 4αz < 0) gets ok[j] = false and unspecified values.
Matrix inverse(const Flow& flow, const Eigen::Ref<const Matrix>& Z, std::vector<char>& ok);

// Samples of the flow's density: latent z ~ N(0, I), drawn column by column with
// std::normal_distribution on std::mt19937_64(seed) (in blocks of 4096 columns, one stream), each
// mapped through inverse(); a latent sample with no preimage (or a non-finite one) is skipped.
// Stops with n samples, or after max_draws latent samples (then x may have fewer columns).
// Without max_draws, throws flowaction::Error when, after 100000 draws, more than 99.9 % of them
// had no preimage.
struct FlowSamples {
  Matrix x;                  // d × (samples kept)
  std::size_t drawn = 0;     // latent samples drawn (whole blocks, up to max_draws)
  std::size_t rejected = 0;  // of those looked at, the ones with no preimage
};
FlowSamples sample_flow(const Flow& flow, std::size_t n, std::uint64_t seed,
                        std::size_t max_draws = std::numeric_limits<std::size_t>::max());

// The root of u + αu² = z that continues the identity (NaN if none), and of u + αu³ = z (α ≥ 0).
double inverse_quadratic(double alpha, double z);
double inverse_cubic(double alpha, double z);

}  // namespace flowaction::train
