// Maximum-likelihood training of a flow (DESIGN §3 layers) with Adam on mini-batches.
//
// The loss is the mean action S(x) = ½|f(x)|² + (d/2) ln 2π − ln|det ∂f/∂x| (nats per sample).
// A validation split gives the held-out negative log-likelihood after every epoch. Guards: a
// quadratic activation whose input leaves 1 + 2αu > 0, a NaN loss, or a singular W stop training
// (or, for the domain, first reject the step and shrink the learning rate) and hand back the flow
// of the last good epoch.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "trainer/augment.hpp"
#include "trainer/flow_model.hpp"

namespace flowaction::train {

enum class architecture { activation, coupling };

struct FlowSpec {
  architecture arch = architecture::activation;
  activation_kind activation = activation_kind::cubic;
  int layers = 1;   // nonlinear layers, each preceded by an affine layer; one final affine follows
  int hidden = 16;  // coupling hidden width
  bool actnorm = false;  // an ActNorm layer between each block's affine and nonlinear layer
  // The first block without its affine layer: [actnorm, nonlinear, (affine, (actnorm,)
  // nonlinear) × (layers − 1), affine], so that the first nonlinear layer acts on each unit of
  // the data alone (scaled and shifted by an ActNorm layer, always present there) and the
  // mixing of units is left to the later affine layers.
  bool local_first = false;
  // Additive coupling layers after the final affine layer (on the latent side), hidden width
  // `hidden`, cubic φ, starting as the identity; layer k transforms the units i with
  // i ≡ k (mod 2) from the others. None for one unit. They give the flow cubic maps between
  // sites that the element-wise layer lacks: on φ⁴ ring data two of them bring the flow's Γ⁽⁴⁾
  // error at strong coupling from 4× to about 1.7× score matching's (bench/phi4_recovery).
  int latent_couplings = 2;
};

// The flow [affine, (actnorm,) nonlinear] × layers, affine, coupling × latent_couplings, starting
// near the identity: W = I, b = 0, s = 1, t = 0, small α (cubic α = min(0.01, 0.02/layers), so that
// the composition of all layers bends a 4σ sample as much as two layers do; quadratic α = 0),
// coupling W1 random N(0, 1/|A|), W2 = 0 (so the coupling starts as the identity). Coupling masks
// alternate halves: layer k sends the first ⌊d/2⌋ units through when k is even.
Flow make_flow(int dim, const FlowSpec& spec, std::uint64_t seed);

// Starts the flow as the whitening of the columns of data (mean μ, sample covariance Σ = D C D,
// D the diagonal of standard deviations, C the correlation matrix), assuming the layers between
// the first and the last map near the identity: when the flow ends with an affine layer (no
// latent couplings), the first affine layer becomes the standardisation x ↦ D⁻¹(x − μ) and the
// last one y ↦ C^(−1/2) y; otherwise the first gets x ↦ L⁻¹(x − μ), Σ = LLᵀ. Nothing changes when
// the first layer is not affine.
// Throws flowaction::Error if Σ is not positive definite.
void init_whitening(Flow& flow, const Matrix& data);

// Data-dependent initialisation of ActNorm (Glow): passes the columns of data through the flow
// and sets each actnorm layer, in order, to s_i = 1/std_i, t_i = −mean_i/std_i of its input
// (std divided by n), so that its output has zero mean and unit variance on data. Throws
// flowaction::Error naming layer and unit when an input unit is constant or not finite.
void init_actnorm(Flow& flow, const Matrix& data);

// Mean and covariance (maximum likelihood, divided by n) of the columns of fit_on, and the NLL of
// each column of evaluate_on under that Gaussian (NaN if the covariance is singular), or its mean.
Vector gaussian_nll_values(const Matrix& fit_on, const Matrix& evaluate_on);
double gaussian_nll(const Matrix& fit_on, const Matrix& evaluate_on);

// The learning rate over the epochs: constant, or cosine decay from lr at the first epoch to
// final_lr_fraction · lr at the last (scheduled_lr).
enum class lr_schedule { constant, cosine };

// Defaults chosen with bench/phi4_recovery (issue 11): on φ⁴ ring data one activation layer
// trained to convergence recovers the vertices best; two layers and fewer epochs are worse; a
// cosine schedule on batches of 128 brings the local vertices closest (checked on seeds the
// choice was not made on).
struct TrainOptions {
  int epochs = 1000;
  int batch = 128;
  double lr = 1e-3;
  double val_fraction = 0.1;
  std::uint64_t seed = 0;
  int threads = 1;
  lr_schedule schedule = lr_schedule::cosine;
  double final_lr_fraction = 0.01;
  // Symmetry augmentation: the training split is replaced by all its images under the group
  // (the validation split is left alone, so that it holds no image of a training sample).
  Augment augment;
  bool whiten = true;                // start from the whitening of the training split
  bool init_actnorm = true;          // then set the actnorm layers from it (init_actnorm)
  std::ostream* progress = nullptr;  // progress bar / lines (nullptr: quiet)
  bool progress_is_tty = false;
  // Step control. The batch gradient is clipped to this norm, so that one outlier cannot throw
  // Adam's moments off. A step after which the next batch's loss jumps (by more than
  // max(1 nat, 10 × the typical spread of batch losses) above their running mean, and not
  // because of the batch: the same batch at the previous parameters does not jump) is undone
  // and the learning rate halved; so is an epoch after which the validation NLL is worse than
  // the best so far by more than epoch_tolerance, or the epoch's training NLL by more than that
  // and its batch noise (back to the best epoch). Training stops when the rate has been halved
  // below min_lr_fraction · lr.
  double max_grad_norm = 100;
  double epoch_tolerance = 0.05;  // nats per sample
  double min_lr_fraction = 1e-6;
  // Polled before every batch; true ends training with the best flow so far (interrupted).
  std::function<bool()> stop_requested;
};

struct EpochStats {
  int epoch = 0;
  double train_nll = 0;  // mean of the mini-batch losses during the epoch
  double val_nll = 0;    // held-out NLL at the end of the epoch (NaN without a validation split)
  double seconds = 0;
};

struct TrainResult {
  // The best flow: the lowest validation NLL at the end of an epoch, the starting flow included
  // (epoch 0), among epochs whose training NLL did not rise; without a validation split, the
  // flow of the last such epoch.
  Flow flow;
  int best_epoch = 0;
  int good_epochs = 0;  // epochs completed without a guard firing
  std::vector<EpochStats> history;
  std::string stop_reason;   // empty if all epochs ran
  bool interrupted = false;  // stop_requested ended the run
  // flow and the best Gaussian (fit on the training split) on both splits, and the noise of the
  // difference (twice the standard error of the per-sample difference); NaN for an empty split.
  double val_nll = NAN, gaussian_val_nll = NAN, val_noise = NAN;
  double train_nll = NAN, gaussian_train_nll = NAN, train_noise = NAN;
  std::size_t train_size = 0, val_size = 0;  // train_size counts the augmentation's images
  int rejected_steps = 0;  // steps undone because a sample left an activation's domain
  int undone_steps = 0;    // steps undone because the loss jumped
  int undone_epochs = 0;   // epochs undone because the validation NLL rose
  double final_lr = 0;     // the learning rate after the halvings
  double seconds = 0;
};

// The learning rate of epoch e = 1 … epochs before any halving by the step control: lr for the
// constant schedule; for the cosine one lr · (f + (1 − f) · ½ (1 + cos(π (e − 1)/(epochs − 1))))
// with f = final_lr_fraction (lr at the first epoch, f · lr at the last; lr for a single epoch).
double scheduled_lr(const TrainOptions& options, int epoch);

// data: d x N, one sample per column.
TrainResult train_flow(Flow flow, const Matrix& data, const TrainOptions& options);

// A trained flow that learned nothing beyond the Gaussian although the data are clearly not
// Gaussian: the largest per-unit standardised skewness g1 and excess kurtosis g2 of the data
// (data: d × N) in standard errors (√(6/N), √(24/N)) is above 5 while every activation layer
// bends its inputs by less than 1 % at one standard deviation (|α| σ^(p−1) < 0.01, σ of the
// unit's input on data), or, for a flow with no activation layer, it beats the best Gaussian by
// less than the noise of the comparison (validation split, or training without one). Then a
// message saying so (and, for quadratic activations on data with no significant
// skewness, that u + αu² cannot represent a Z₂-symmetric distribution); otherwise empty.
std::string gaussian_collapse_warning(const TrainResult& result, const Matrix& data);

// Mean action over the columns, computed in chunks (and threads); sets domain if some sample is
// outside an activation's domain.
double mean_nll(const Flow& flow, const Matrix& data, int threads, ForwardResult* domain = nullptr);

}  // namespace flowaction::train
