#include "frontends/trainer_commands.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>
#include <random>
#include <sstream>
#include <tuple>

#include "engine/action.hpp"
#include "engine/action_print.hpp"
#include "engine/error.hpp"
#include "frontends/inspect.hpp"
#include "frontends/manifest.hpp"
#include "frontends/npy.hpp"
#include "frontends/output_file.hpp"
#include "frontends/phi4_truth.hpp"
#include "frontends/samples_file.hpp"
#include "frontends/train_flow.hpp"
#include "frontends/verify.hpp"
#include "trainer/phi4_sampler.hpp"
#include "trainer/trainer.hpp"

namespace flowaction {

namespace {

using namespace flowaction::train;

constexpr const char* sample_help =
    R"(usage: flowaction sample phi4 --lattice N|NxM [options] -o FILE.npy

Samples lattice phi^4 theory with periodic boundaries by Hybrid Monte Carlo:
  S(phi) = sum_x [ 1/2 sum_mu (phi_{x+mu} - phi_x)^2 + 1/2 m2 phi_x^2 + (kappa/3!) phi_x^3
                   + (lambda/4!) phi_x^4 ]
on a ring of N sites or an N x M torus (site x = i*M + j). m2 may be negative (broken phase).

Writes FILE.npy (float64, samples x sites) and FILE.truth.json, the true vertices in the
flowaction-action/1 format with the DESIGN convention S = sum_k (1/k!) Gamma^(k) x...x:
Gamma^(2) = -Laplacian + m2, Gamma^(3)_{xxx} = kappa, Gamma^(4)_{xxxx} = lambda (Gamma^(0) = ln Z
is not included).

The leapfrog step starts at 1/sqrt(c), c the largest curvature of S at typical fields (the
largest eigenvalue of -Laplacian + m2 plus lambda/2 times 3 phi^2 at the field scale), so that
any m2 and lambda are reached, and is tuned geometrically in windows of 25 trajectories during
the first half of the thermalisation, and beyond it until the acceptance is in 0.6..0.95. A pilot
run measures the integrated autocorrelation time tau_int (slowest of magnetisation, mean phi^2,
action) and one sample is kept every ceil(2 tau_int) trajectories, so the written samples are
about independent (--pilot 0: no tau_int is measured, every trajectory is kept, with a warning).
A run fails with no file written if the acceptance over pilot and production is below 0.3 or
the written samples hold fewer than N/10 effective samples N/(2 tau_int). Both files are
written, or neither.

options:
  --lattice N|NxM     lattice (required)
  --m2 X              bare mass squared (default 1)
  --lambda X          quartic coupling, >= 0 (default 0)
  --kappa X           cubic coupling (default 0; needs lambda > 0): the skewed phi^3 + phi^4 theory
  --samples N         samples to write (default 10000)
  --seed N            random seed (default 0)
  --thermalise N      thermalisation trajectories (default 1000; the tuning may add more)
  --pilot N           trajectories of the autocorrelation pilot run (default 4000)
  --trajectory X      HMC trajectory length (default 1)
  -o, --output FILE   output .npy (required)
)";

constexpr const char* train_help =
    R"(usage: flowaction train DATA.npy|DATA.csv [options] -o MODEL.flow.json

Trains a normalizing flow data -> latent N(0, I) by maximum likelihood: minimises the mean of
  S(x) = 1/2 |f(x)|^2 + (d/2) ln 2 pi - ln|det df/dx|      (nats per sample)
over mini-batches with Adam. DATA is samples x units (.npy float16/32/64, or CSV with an
optional header line). The model is written as a flowaction/1 manifest with inline tensors.

Architectures (each nonlinear layer is preceded by an affine layer; a final affine layer follows):
  activation   z_i = phi(y_i) with one alpha per unit
  coupling     additive coupling, masks alternating halves: z_B = y_B + W2 phi(W1 y_A + b1) + b2
  phi(u) = u + alpha u^3 (cubic, alpha >= 0 (each step projected onto it):
         invertible, odd; the default)
         or u + alpha u^2 (quadratic, the paper's; invertible only where 1 + 2 alpha u > 0: the
         trainer keeps every sample inside, undoing steps that leave it)
The flow starts as the whitening map of the training split (unless --no-whiten): the first
affine layer standardises each unit, the last one decorrelates.
With --actnorm an ActNorm layer z_i = s_i y_i + t_i (s_i = exp(theta_i) > 0, written to the
model as "actnorm" with "scale" and "shift") sits between every block's affine and nonlinear
layer. As in Glow it is initialised from the data: the training split is passed through the
flow and each ActNorm layer gets s = 1/std, t = -mean/std of its input per unit, so that every
nonlinear layer starts on inputs of zero mean and unit variance.

Layers start near the identity (cubic alpha = min(0.01, 0.02/layers)). The defaults (one
layer, two latent couplings, 1000 epochs, batch 128, cosine schedule) were chosen with
bench/phi4_recovery on lattice phi^4 data, where they recover the vertices best. Step control: the
batch gradient is clipped to norm 100; a step after which the loss jumps (far above the running
mean of batch losses, and not because of the batch) is undone and the learning rate halved, and
so is an epoch after which the validation NLL is more than 0.05 nats worse than the best one.
The model written is the one of the best validation epoch (the starting flow included).
Guards: a NaN loss that undoing cannot cure, a singular W or samples outside the invertible
domain stop training with a message; the best model so far is then written and the exit status
is 1. A model worse than the best Gaussian (NLL higher by more than 0.01 nats and more than twice
the standard error of the difference, on the validation or the training split) is an error:
exit 1 and no model written, unless --allow-worse (then it is written with a warning).
With --checkpoint FILE, SIGINT or SIGTERM ends training, writes the best model so far to FILE,
and exits with 130 or 143. A warning says when the flow stayed close to a Gaussian (every
activation bends its inputs by less than 1 percent at one standard deviation) although the data
are clearly not Gaussian (skewness or excess kurtosis beyond 5 standard errors): then its
vertices above order 2 mean little. The quadratic activation does this on Z2-symmetric data.

Activations are written as per-unit "coeffs" ([1, alpha] quadratic, [1, 0, alpha] cubic). The
parameter count printed is, as in `flowaction inspect`, every number stored in the model's weight
tensors; "trained" counts what the optimiser changes (alpha alone of each unit's coeffs).

options:
  --arch activation|coupling      (default activation)
  --activation cubic|quadratic    (default cubic)
  --layers N         nonlinear layers (default 1)
  --hidden N         coupling hidden width (default 16)
  --latent-couplings N
                     additive coupling layers (cubic, --hidden wide) after the last affine layer,
                     starting as the identity, layer k transforming the units i = k mod 2
                     (default 2; none for one unit): on phi^4 data they carry what one
                     element-wise layer cannot (Gamma^(4) at strong coupling within ~1.2x score
                     matching's error instead of ~4x, with the other defaults)
  --epochs N         at least 1 (default 1000)
  --batch N          mini-batch size (default 128)
  --lr X             Adam learning rate (default 1e-3)
  --schedule cosine|constant
                     learning rate per epoch: cosine decay from --lr at the first epoch to
                     --lr/100 at the last (default), or constant
  --augment LIST     train on every sample's images under a symmetry group, LIST a comma list
                     of z2 (phi -> -phi), translate, reflect (the last two need --lattice; the
                     validation split is not augmented). Only for data with that symmetry.
  --lattice N|NxM    the data's lattice (ring or periodic torus, site x = i*M + j), for --augment
  --local-first      no affine layer before the first nonlinear layer (an ActNorm layer instead):
                     it acts on each unit alone and the units mix only afterwards (on phi^4
                     data: better local Gamma^(4), worse Gamma^(2) couplings)
  --val X            fraction held out for validation (default 0.1)
  --seed N           split, shuffling and initialisation (default 0): same seed, same model
  --threads N        threads splitting each batch (default 1; results agree to rounding)
  --actnorm          an ActNorm layer before every nonlinear layer, initialised from the data
  --no-whiten        start the affine layers from the identity
  --allow-worse      write a model even if it is worse than the best Gaussian
  --checkpoint FILE  where SIGINT/SIGTERM write the best model so far
  -o, --output FILE  output model (required; - for standard output)
)";

constexpr const char* generate_help =
    R"(usage: flowaction generate MODEL.flow.json [options] -o FILE.npy

Draws z ~ N(0, I) and maps it through the exact inverse of the flow (affine: solve; cubic
activation: the real root of u + alpha u^3 = z; quadratic: the root of u + alpha u^2 = z that
continues the identity; coupling: subtract the shift). Latents outside the image of a quadratic
activation have no preimage; they are redrawn (the model density is normalised on its domain)
and their number is reported. Writes FILE.npy (float64, samples x units).

options:
  --samples N        (default 10000)
  --seed N           (default 0)
  -o, --output FILE  output .npy (required; - for standard output)
)";

constexpr Option sample_options[] = {
    {"--lattice", true},    {"--m2", true},   {"--lambda", true}, {"--kappa", true},
    {"--samples", true},    {"--seed", true}, {"--pilot", true},  {"--thermalise", true},
    {"--trajectory", true}, output_option};

constexpr Option train_options[] = {{"--arch", true},
                                    {"--activation", true},
                                    {"--layers", true},
                                    {"--hidden", true},
                                    {"--latent-couplings", true},
                                    {"--epochs", true},
                                    {"--batch", true},
                                    {"--lr", true},
                                    {"--schedule", true},
                                    {"--val", true},
                                    {"--seed", true},
                                    {"--threads", true},
                                    {"--actnorm"},
                                    {"--local-first"},
                                    {"--no-whiten"},
                                    {"--augment", true},
                                    {"--lattice", true},
                                    {"--allow-worse"},
                                    {"--checkpoint", true},
                                    output_option};

constexpr Option generate_options[] = {{"--samples", true}, {"--seed", true}, output_option};

std::uint64_t seed(const Args& a) {
  return static_cast<std::uint64_t>(a.integer("--seed", 0, 0, std::numeric_limits<long>::max()));
}

// Every trainer command writes a file: -o is required.
OutputTarget output(const Args& a, std::span<const std::filesystem::path> inputs = {}) {
  if (!a.has("--output")) throw Usage("missing -o FILE");
  return resolve_output(a.value("--output"), inputs);
}

// SIGINT and SIGTERM noted instead of ending the process, while installed (train --checkpoint).
std::atomic<int> noted_signal{0};
extern "C" void note_signal(int sig) {
  noted_signal = sig;
}
class NoteSignals {
 public:
  NoteSignals() {
    noted_signal = 0;
    struct sigaction action {};
    action.sa_handler = note_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &old_int_);
    ::sigaction(SIGTERM, &action, &old_term_);
  }
  ~NoteSignals() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  NoteSignals(const NoteSignals&) = delete;
  NoteSignals& operator=(const NoteSignals&) = delete;

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

bool is_terminal(const std::ostream& s) {
  return &s == &std::cerr && ::isatty(STDERR_FILENO);
}

std::string npy_of_columns(const Matrix& samples) {
  // samples is d x n with one sample per column: its column-major storage is the row-major
  // n x d array the .npy holds.
  return npy_bytes(samples.data(), static_cast<std::size_t>(samples.cols()),
                   static_cast<std::size_t>(samples.rows()));
}

// --lattice, --m2, --lambda, --kappa (sample and verify).
Phi4Theory read_theory(const Args& a, Phi4Theory th) {
  if (a.has("--lattice")) th.lattice = parse_lattice(a.string("--lattice", ""));
  th.m2 = a.real("--m2", th.m2);
  th.lambda = a.real("--lambda", th.lambda);
  th.kappa = a.real("--kappa", th.kappa);
  return th;
}

// The flow and the training options (train and verify). Defaults are those of FlowSpec and
// TrainOptions. --schedule, --local-first, --augment and --lattice are read only when the
// caller's option table (declared) has them. lattice: the data's lattice when the caller knows
// it (verify: the theory's); --lattice overrides it; --augment translate/reflect need one.
void read_training(const Args& a, FlowSpec& spec, TrainOptions& o, std::ostream& err,
                   std::span<const Option> declared = {},
                   std::optional<Lattice> lattice = std::nullopt) {
  auto known = [&](std::string_view name) {
    return std::any_of(declared.begin(), declared.end(),
                       [&](const Option& opt) { return opt.name == name; });
  };
  const FlowSpec spec0;
  const TrainOptions o0;
  spec.arch = a.one_of("--arch", {"activation", "coupling"}) == "activation"
                  ? architecture::activation
                  : architecture::coupling;
  spec.activation = a.one_of("--activation", {"cubic", "quadratic"}) == "cubic"
                        ? activation_kind::cubic
                        : activation_kind::quadratic;
  spec.layers = static_cast<int>(a.integer("--layers", spec0.layers, 0, 1000));
  spec.hidden = static_cast<int>(a.integer("--hidden", spec0.hidden, 1, 100000));
  spec.actnorm = a.has("--actnorm");
  spec.local_first = known("--local-first") && a.has("--local-first");
  spec.latent_couplings =
      static_cast<int>(a.integer("--latent-couplings", spec0.latent_couplings, 0, 1000));
  o.epochs = static_cast<int>(a.integer("--epochs", o0.epochs, 1, 100000000));
  o.batch = static_cast<int>(a.integer("--batch", o0.batch, 1, 100000000));
  o.lr = a.real("--lr", o0.lr);
  if (!(o.lr > 0)) throw Usage("--lr must be > 0");
  if (known("--schedule"))
    o.schedule = a.one_of("--schedule", {"cosine", "constant"}) == "cosine" ? lr_schedule::cosine
                                                                            : lr_schedule::constant;
  o.val_fraction = a.real("--val", o0.val_fraction);
  if (!(o.val_fraction >= 0 && o.val_fraction < 1)) throw Usage("--val must be in [0, 1)");
  o.seed = seed(a);
  o.threads = static_cast<int>(a.integer("--threads", o0.threads, 1, 256));
  o.whiten = !a.has("--no-whiten");
  if (known("--lattice") && a.has("--lattice")) lattice = parse_lattice(a.string("--lattice", ""));
  if (known("--augment") && a.has("--augment")) {
    try {
      o.augment = parse_augment(a.string("--augment", ""), lattice);
    } catch (const Error& e) {
      throw Usage(e.what());
    }
  }
  o.progress = &err;
  o.progress_is_tty = is_terminal(err);
}

int run_sample(const Args& a, std::ostream& out, std::ostream& err) {
  if (a.positional().size() != 1 || a.positional()[0] != "phi4")
    throw Usage("expected the theory name 'phi4' (the only one so far)");
  if (!a.has("--lattice")) throw Usage("missing --lattice N or NxM");
  const Phi4Theory th = read_theory(a, Phi4Theory{{}, 1.0, 0.0, 0.0});
  HmcOptions o;
  o.samples = static_cast<std::size_t>(a.integer("--samples", 10000, 1, 1L << 40));
  o.seed = seed(a);
  o.thermalise = static_cast<int>(a.integer("--thermalise", 1000, 0, 1L << 30));
  o.pilot = static_cast<int>(a.integer("--pilot", 4000, 0, 1L << 30));
  o.trajectory_length = a.real("--trajectory", 1.0);
  o.progress = &err;
  // Two files that change together: both must be regular files (or new).
  const OutputTarget npy = output(a);
  std::filesystem::path truth_name = npy.name;
  truth_name.replace_extension(".truth.json");
  if (truth_name == npy.name) throw Usage("the output must not end in .truth.json");
  const OutputTarget truth_file = resolve_output(truth_name.string());
  for (const OutputTarget* t : {&npy, &truth_file})
    if (t->how != OutputTarget::kind::file)
      throw Usage(fmt::format(
          "-o {}: sample writes two files that change together, FILE.npy and FILE.truth.json, so "
          "-o must name a regular file (not standard output, a FIFO or a device)",
          t->name));

  const HmcResult r = sample_phi4(th, o);

  const TrueAction truth = phi4_truth(th);
  std::ostringstream truth_json;
  print(truth.action, truth.info, json_context{&truth_json});

  const std::string samples = npy_bytes(r.samples.data(), r.rows, r.cols);
  const std::string vertices = truth_json.str();
  const OutputFile files[] = {{npy, samples}, {truth_file, vertices}};
  write_outputs_together(files);
  out << fmt::format("wrote {} ({} samples x {} sites, float64) and {} (true vertices)\n", npy.name,
                     r.rows, r.cols, truth_file.name);
  out << fmt::format(
      "HMC: acceptance {:.3f}, step {:.4g} x {}, tau_int {}, thinning every {} trajectories, "
      "tau_int of the written samples {:.3g} ({:.0f} effective samples)\n",
      r.acceptance, r.step_size, r.leapfrog_steps,
      r.tau_measured ? fmt::format("{:.3g} trajectories ({})", r.tau_pilot, r.tau_observable)
                     : std::string("not measured (--pilot 0)"),
      r.thin, r.tau_output, r.effective_samples);
  return 0;
}

int run_train(const Args& a, std::ostream& out, std::ostream& err) {
  if (a.positional().size() != 1) throw Usage("expected one data file (.npy or .csv)");
  FlowSpec spec;
  TrainOptions o;
  read_training(a, spec, o, err, train_options);
  const std::string arch = a.string("--arch", "activation");
  const std::string act = a.string("--activation", "cubic");
  const bool allow_worse = a.has("--allow-worse");
  const std::filesystem::path data_path = a.positional()[0];
  const OutputTarget model_out = output(a, std::span(&data_path, 1));
  std::optional<OutputTarget> checkpoint;
  if (a.has("--checkpoint"))
    checkpoint = resolve_output(a.value("--checkpoint"), std::span(&data_path, 1), "--checkpoint");
  // With the model on standard output, the report goes to err.
  std::ostream& report = model_out.is_standard_output() ? err : out;

  const Matrix data = read_samples(data_path, 2);
  const int d = static_cast<int>(data.rows());
  const Flow start = make_flow(d, spec, o.seed);
  err << fmt::format(
      "training a flow on {}: {} samples x {} units, {} x {} layers ({}{}){}, {} parameters in "
      "the model file ({} trained){}\n",
      data_path.string(), data.cols(), d, spec.layers, arch, act, spec.actnorm ? ", actnorm" : "",
      d > 1 && spec.latent_couplings > 0
          ? fmt::format(" and {} latent couplings", spec.latent_couplings)
          : std::string(),
      parameter_count(to_model(start)), start.parameter_count(),
      o.augment.empty() ? std::string()
                        : fmt::format(", augmented {}x ({})", o.augment.images(), o.augment.name));
  TrainResult r;
  {
    std::optional<NoteSignals> signals;
    if (checkpoint) {
      signals.emplace();
      o.stop_requested = [] { return noted_signal != 0; };
    }
    r = train_flow(start, data, o);
  }  // the default handling of SIGINT and SIGTERM is back for the writes below
  const std::string best = fmt::format(
      "epoch {}{}", r.best_epoch,
      std::isnan(r.val_nll) ? std::string() : fmt::format(", validation NLL {:.6f}", r.val_nll));
  if (r.interrupted) {
    const int sig = noted_signal;
    write_output(*checkpoint, manifest_json(r.flow), out);
    throw Interrupted(sig, fmt::format("interrupted by {} during epoch {}: wrote the best model so "
                                       "far ({}) to {}",
                                       sig == SIGINT ? "SIGINT" : "SIGTERM", r.good_epochs + 1,
                                       best, checkpoint->name));
  }
  // Worse than the best Gaussian by more than noise, on either split: not a success. (No
  // verdict on an empty split, or without a Gaussian: a singular sample covariance.)
  std::string worse;
  for (const auto& [split, flow_nll, gauss_nll, noise] :
       {std::tuple{"validation", r.val_nll, r.gaussian_val_nll, r.val_noise},
        std::tuple{"training", r.train_nll, r.gaussian_train_nll, r.train_noise}})
    if (worse.empty() && !std::isnan(gauss_nll) && !(flow_nll - gauss_nll <= std::max(0.01, noise)))
      worse = fmt::format(
          "the trained flow is worse than the best Gaussian on the {} split: NLL {:.6g} against "
          "{:.6f} nats per sample ({:+.3g}; noise {:.2g})",
          split, flow_nll, gauss_nll, flow_nll - gauss_nll, std::max(0.01, noise));
  if (!r.stop_reason.empty()) {
    if (r.good_epochs == 0)
      throw Error(fmt::format("stopped in the first epoch: {}; no model written", r.stop_reason));
    if (!worse.empty() && !allow_worse)
      throw Error(fmt::format("stopped at epoch {}: {}; {}; no model written", r.good_epochs + 1,
                              r.stop_reason, worse));
    write_output(model_out, manifest_json(r.flow), out);
    throw Error(fmt::format("stopped at epoch {}: {}; wrote the best model so far ({}) to {}",
                            r.good_epochs + 1, r.stop_reason, best, model_out.name));
  }
  if (!worse.empty() && !allow_worse)
    throw Error(worse + "; no model written (--allow-worse writes it anyway)");
  write_output(model_out, manifest_json(r.flow), out);
  if (!worse.empty())
    err << "flowaction train: warning: " << worse << " (written: --allow-worse)\n";
  else if (const std::string w = gaussian_collapse_warning(r, data); !w.empty())
    err << "flowaction train: warning: " << w << "\n";
  const EpochStats last = r.history.empty() ? EpochStats{0, NAN, NAN, 0} : r.history.back();
  report << fmt::format("wrote {} after {} epochs ({:.2f} s, {:.3g} s/epoch): the best model, {}\n",
                        model_out.name, r.good_epochs, r.seconds,
                        r.history.empty() ? 0.0 : r.seconds / r.history.size(), best);
  report << fmt::format(
      "NLL per sample (nats) of the written model: train {:.6f}, validation {:.6f} ({} held "
      "out); last epoch: validation {:.6f}\n",
      r.train_nll, r.val_nll, r.val_size, last.val_nll);
  if (!std::isnan(r.gaussian_val_nll))
    report << fmt::format(
        "best Gaussian (fit on the training split), validation NLL {:.6f}: the flow is {:.4f} "
        "nats {}\n",
        r.gaussian_val_nll, std::fabs(r.gaussian_val_nll - r.val_nll),
        r.val_nll <= r.gaussian_val_nll ? "better" : "worse");
  if (r.rejected_steps)
    report << fmt::format("{} steps were undone to keep samples in the domain\n", r.rejected_steps);
  if (r.undone_steps || r.undone_epochs)
    report << fmt::format(
        "{} steps and {} epochs were undone because the loss jumped; learning rate now {:.3g}\n",
        r.undone_steps, r.undone_epochs, r.final_lr);
  return 0;
}

int run_generate(const Args& a, std::ostream& out, std::ostream& err) {
  if (a.positional().size() != 1) throw Usage("expected one model file");
  const long n = a.integer("--samples", 10000, 1, 1L << 36);
  const std::filesystem::path model_path = a.positional()[0];
  const OutputTarget target = output(a, std::span(&model_path, 1));
  const Model model = read_manifest(model_path);
  if (!model.tensor_file.empty()) check_not_input(target, model.tensor_file);
  const Flow flow = to_train_flow(model);
  // A singular W has no inverse: say so (file and layer) before drawing anything.
  try {
    prepare(flow);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", model_path.string(), e.what()));
  }
  FlowSamples drawn;
  try {
    drawn = sample_flow(flow, static_cast<std::size_t>(n), seed(a));
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", a.positional()[0], e.what()));
  }
  write_output(target, npy_of_columns(drawn.x), out);
  std::ostream& report = target.is_standard_output() ? err : out;
  report << fmt::format("wrote {} ({} samples x {} units, float64)\n", target.name, n, flow.dim);
  if (drawn.rejected)
    report << fmt::format(
        "{} latent samples had no preimage (outside the image of a quadratic activation) and "
        "were "
        "redrawn\n",
        drawn.rejected);
  return 0;
}

}  // namespace

const Command sample_command{"sample",
                             "phi4",
                             "lattice phi^4 samples by Hybrid Monte Carlo, with the true vertices",
                             sample_help,
                             sample_options,
                             run_sample};
const Command train_command{
    "train",    "DATA",        "train a flow on samples (.npy or CSV) by maximum likelihood",
    train_help, train_options, run_train};
const Command generate_command{
    "generate",    "MODEL",          "samples from a trained flow through its exact inverse",
    generate_help, generate_options, run_generate};

constexpr const char* verify_help =
    R"(usage: flowaction verify [theory | --data X --truth T] [training] [--sweep KEY=V1,V2,...] [--seeds N] -o DIR

From a known theory to a recovered one, judged against the truth and against what a physicist
would fit to the same samples instead. Samples the lattice theory by HMC (or takes --data), holds
20 percent out, trains a flow on the rest (or takes --model), extracts its vertices (float field)
and compares them, beside two baselines fitted to the same training samples, with the truth:
  Gaussian fit     Gamma^(2) = inverse sample covariance (nothing above order 2)
  score matching   a general polynomial action up to degree 4 (every monomial; on lattices with
                   more than 1000 of them, those whose sites are pairwise equal or coupled),
                   fitted by Hyvarinen's score matching (JMLR 6, 2005): one linear solve
Convention: S(x) = -ln p(x) = sum_k 1/k! Gamma^(k)_{i1..ik} x_i1 ... x_ik. Reported per estimate:
relative errors (signed means of (estimate - truth)/truth over the sites or over the couplings
the truth has) of the Gamma^(2) diagonal and couplings, Gamma^(3)_iii and Gamma^(4)_iiii; the
largest spurious component of each order; the held-out NLL (nats per sample). The cumulants of
the data, of samples from the flow, and those the learned and the true action predict by
Feynman diagrams (`flowaction cumulants`). With --seeds N, mean and spread over seeds (each seed
draws new samples and trains anew).
Writes DIR/metrics.json ("flowaction-verify/1"), DIR/report.tex and report.pdf (when TeX is
installed), truth.json, and the first run's samples.npy, model.flow.json and learned.json (an
action file, as `extract` writes).

theory (default: a ring of 4 sites, m2 = 0.5, lambda = 6):
  --lattice N|NxM  --m2 X  --lambda X  --kappa X   as for `flowaction sample phi4`
  --samples N        training samples per run (default 20000; with --data: all rows)
  --data FILE        samples (.npy or CSV, samples x units) instead of sampling a theory
  --truth FILE       with --data: the true action ("flowaction-action/1", e.g. the sampler's
                     .truth.json); its Gamma^(2) off-diagonal entries are the couplings
training (as for `flowaction train`, same defaults): --arch, --activation, --layers, --hidden,
  --latent-couplings, --epochs, --batch, --lr, --schedule, --val, --threads, --actnorm,
  --no-whiten, --local-first, --augment z2,translate,reflect (the theory's lattice group; with
  --data only z2)
  --model FILE       use this trained flow instead of training one
runs:
  --order K          highest vertex order extracted (default 4)
  --loops L          loops of the perturbative cumulant predictions (default 2 up to 8 units,
                     none above: they cost d^4 per diagram)
  --seeds N          runs per cell, seeds seed, seed+1, ... (default 1)
  --seed N           first seed (default 0)
  --sweep KEY=V,...  repeatable; KEY is layers, hidden, epochs or samples: every combination of
                     the values is a cell (two keys: a heat map in the report)
  --engine E         pdflatex (default) or lualatex for the report
  -o, --output DIR   output folder (required; created if absent, files in it replaced)
)";

constexpr Option verify_options[] = {{"--lattice", true},
                                     {"--m2", true},
                                     {"--lambda", true},
                                     {"--kappa", true},
                                     {"--samples", true},
                                     {"--data", true},
                                     {"--truth", true},
                                     {"--arch", true},
                                     {"--activation", true},
                                     {"--layers", true},
                                     {"--hidden", true},
                                     {"--epochs", true},
                                     {"--latent-couplings", true},
                                     {"--batch", true},
                                     {"--lr", true},
                                     {"--val", true},
                                     {"--threads", true},
                                     {"--actnorm"},
                                     {"--no-whiten"},
                                     {"--schedule", true},
                                     {"--augment", true},
                                     {"--local-first"},
                                     {"--model", true},
                                     {"--order", true},
                                     {"--loops", true},
                                     {"--seeds", true},
                                     {"--seed", true},
                                     {"--sweep", true},
                                     {"--engine", true},
                                     output_option};

int run_verify(const Args& a, std::ostream& out, std::ostream& err) {
  if (!a.positional().empty())
    throw Usage("verify takes no file (use --data and --truth for samples, --model for a flow)");
  VerifyOptions v;
  if (a.has("--data") != a.has("--truth")) throw Usage("--data and --truth go together");
  if (a.has("--data")) {
    for (const char* theory : {"--lattice", "--m2", "--lambda", "--kappa"})
      if (a.has(theory))
        throw Usage(fmt::format("{} describes a theory to sample: not with --data", theory));
    v.data = a.string("--data", "");
    v.truth = a.string("--truth", "");
  } else {
    v.theory = read_theory(a, Phi4Theory{parse_lattice("4"), 0.5, 6.0, 0.0});
  }
  v.samples = static_cast<std::size_t>(a.integer("--samples", v.data ? 0 : 20000, 10, 1L << 30));
  read_training(a, v.spec, v.training, err, verify_options,
                v.data ? std::nullopt : std::optional<Lattice>(v.theory.lattice));
  v.training.progress = nullptr;  // one line per stage instead of one per epoch
  if (auto m = a.value("--model")) v.model = *m;
  v.order = a.order("--order", 4);
  v.loops = static_cast<int>(a.integer("--loops", -1, 0, 6));
  v.seeds = static_cast<int>(a.integer("--seeds", 1, 1, 1000));
  v.seed = seed(a);
  v.tex_engine = a.one_of("--engine", {"pdflatex", "lualatex"});
  for (const std::string& s : a.every("--sweep")) {
    const std::size_t eq = s.find('=');
    const std::string key = s.substr(0, eq);
    if (eq == std::string::npos ||
        (key != "layers" && key != "hidden" && key != "epochs" && key != "samples"))
      throw Usage(fmt::format(
          "--sweep '{}': expected KEY=V1,V2,... with KEY layers, hidden, epochs or samples", s));
    for (const auto& [k, values] : v.sweep)
      if (k == key) throw Usage(fmt::format("--sweep {} is given twice", key));
    std::vector<long> values;
    for (const std::string& x : split_commas(s.substr(eq + 1))) {
      char* end = nullptr;
      const long n = std::strtol(x.c_str(), &end, 10);
      if (x.empty() || *end != '\0' || n < (key == "layers" ? 0 : key == "samples" ? 10 : 1))
        throw Usage(fmt::format("--sweep {}: '{}' is not a count", key, x));
      values.push_back(n);
    }
    v.sweep.emplace_back(key, values);
  }
  if (v.model && !v.sweep.empty())
    for (const auto& [k, values] : v.sweep)
      if (k != "samples")
        throw Usage(fmt::format("--sweep {} changes the training: not with --model", k));
  if (!a.has("--output")) throw Usage("missing -o DIR (the output folder)");
  v.out_dir = a.string("--output", "");
  if (v.out_dir.empty()) throw Usage("-o '': give an output folder");
  for (const auto& input : {v.data, v.truth, v.model})
    for (const char* name : verify_outputs) {
      std::error_code ec;
      if (input && std::filesystem::equivalent(*input, v.out_dir / name, ec))
        throw Usage(fmt::format("-o {}: verify would replace its input {} ({})", v.out_dir.string(),
                                input->string(), name));
    }
  verify(v, out, err);
  return 0;
}

const Command verify_command{"verify",
                             "",
                             "from a known phi^4 theory to a recovered one, with baselines",
                             verify_help,
                             verify_options,
                             run_verify};

}  // namespace flowaction
