#include "frontends/trainer_commands.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>
#include <random>
#include <sstream>

#include "engine/action.hpp"
#include "engine/action_print.hpp"
#include "engine/error.hpp"
#include "frontends/npy.hpp"
#include "frontends/output_file.hpp"
#include "frontends/train_flow.hpp"
#include "trainer/phi4_sampler.hpp"
#include "trainer/trainer.hpp"

namespace flowaction {

namespace {

using namespace flowaction::train;

constexpr const char* sample_help =
    R"(usage: flowaction sample phi4 --lattice N|NxM [options] -o FILE.npy

Samples lattice phi^4 theory with periodic boundaries by Hybrid Monte Carlo:
  S(phi) = sum_x [ 1/2 sum_mu (phi_{x+mu} - phi_x)^2 + 1/2 m2 phi_x^2 + (lambda/4!) phi_x^4 ]
on a ring of N sites or an N x M torus (site x = i*M + j). m2 may be negative (broken phase).

Writes FILE.npy (float64, samples x sites) and FILE.truth.json, the true vertices in the
flowaction-action/1 format with the DESIGN convention S = sum_k (1/k!) Gamma^(k) x...x:
Gamma^(2) = -Laplacian + m2, Gamma^(4)_{xxxx} = lambda (Gamma^(0) = ln Z is not included).

The step size is tuned to ~80% acceptance during thermalisation; a pilot run measures the
integrated autocorrelation time tau_int (slowest of magnetisation, mean phi^2, action) and one
sample is kept every ceil(2 tau_int) trajectories, so the written samples are about independent.

options:
  --lattice N|NxM     lattice (required)
  --m2 X              bare mass squared (default 1)
  --lambda X          quartic coupling, >= 0 (default 0)
  --samples N         samples to write (default 10000)
  --seed N            random seed (default 0)
  --thermalise N      thermalisation trajectories (default 1000)
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
  phi(u) = u + alpha u^3 (cubic, alpha = softplus(theta) >= 0: invertible, odd; the default)
         or u + alpha u^2 (quadratic, the paper's; invertible only where 1 + 2 alpha u > 0: the
         trainer keeps every sample inside, undoing steps that leave it)
The first affine layer starts as the whitening map of the training split (unless --no-whiten).
With --actnorm an ActNorm layer z_i = s_i y_i + t_i (s_i = exp(theta_i) > 0, written to the
model as "actnorm" with "scale" and "shift") sits between every block's affine and nonlinear
layer. As in Glow it is initialised from the data: the training split is passed through the
flow and each ActNorm layer gets s = 1/std, t = -mean/std of its input per unit, so that every
nonlinear layer starts on inputs of zero mean and unit variance.

Guards: a NaN loss, a singular W or samples outside the invertible domain stop training with a
message; the model of the last good epoch is then written and the exit status is 1.

options:
  --arch activation|coupling      (default activation)
  --activation cubic|quadratic    (default cubic)
  --layers N         nonlinear layers (default 2)
  --hidden N         coupling hidden width (default 16)
  --epochs N         (default 100)
  --batch N          mini-batch size (default 256)
  --lr X             Adam learning rate (default 1e-3)
  --val X            fraction held out for validation (default 0.1)
  --seed N           split, shuffling and initialisation (default 0): same seed, same model
  --threads N        threads splitting each batch (default 1; results agree to rounding)
  --actnorm          an ActNorm layer before every nonlinear layer, initialised from the data
  --no-whiten        start the first affine layer from the identity
  -o, --output FILE  output model (required)
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
  -o, --output FILE  output .npy (required)
)";

constexpr Option sample_options[] = {
    {"--lattice", true},    {"--m2", true},         {"--lambda", true},
    {"--samples", true},    {"--seed", true},       {"--pilot", true},
    {"--thermalise", true}, {"--trajectory", true}, output_option};

constexpr Option train_options[] = {{"--arch", true},    {"--activation", true}, {"--layers", true},
                                    {"--hidden", true},  {"--epochs", true},     {"--batch", true},
                                    {"--lr", true},      {"--val", true},        {"--seed", true},
                                    {"--threads", true}, {"--actnorm"},          {"--no-whiten"},
                                    output_option};

constexpr Option generate_options[] = {{"--samples", true}, {"--seed", true}, output_option};

std::uint64_t seed(const Args& a) {
  return static_cast<std::uint64_t>(a.integer("--seed", 0, 0, std::numeric_limits<long>::max()));
}

// Every trainer command writes a file: -o is required.
std::filesystem::path output(const Args& a) {
  const std::string path = a.string("--output", "");
  if (path.empty()) throw Usage("missing -o FILE");
  return path;
}

bool is_terminal(const std::ostream& s) {
  return &s == &std::cerr && ::isatty(STDERR_FILENO);
}

std::string npy_of_columns(const Matrix& samples) {
  // samples is d x n with one sample per column: its column-major storage is the row-major
  // n x d array the .npy holds.
  return npy_bytes(samples.data(), static_cast<std::size_t>(samples.cols()),
                   static_cast<std::size_t>(samples.rows()));
}

int run_sample(const Args& a, std::ostream& out, std::ostream& err) {
  if (a.positional().size() != 1 || a.positional()[0] != "phi4")
    throw Usage("expected the theory name 'phi4' (the only one so far)");
  if (!a.has("--lattice")) throw Usage("missing --lattice N or NxM");
  Phi4Theory th;
  th.lattice = parse_lattice(a.string("--lattice", ""));
  th.m2 = a.real("--m2", 1.0);
  th.lambda = a.real("--lambda", 0.0);
  HmcOptions o;
  o.samples = static_cast<std::size_t>(a.integer("--samples", 10000, 1, 1L << 40));
  o.seed = seed(a);
  o.thermalise = static_cast<int>(a.integer("--thermalise", 1000, 0, 1L << 30));
  o.pilot = static_cast<int>(a.integer("--pilot", 4000, 0, 1L << 30));
  o.trajectory_length = a.real("--trajectory", 1.0);
  o.progress = &err;
  const std::filesystem::path path = output(a);
  std::filesystem::path truth_path = path;
  truth_path.replace_extension(".truth.json");
  if (truth_path == path) throw Usage("the output must not end in .truth.json");

  const HmcResult r = sample_phi4(th, o);

  // The true vertices in DESIGN §2 normalisation.
  const int d = th.lattice.sites();
  Action<double> truth(d, 4);
  const Eigen::MatrixXd K = phi4_kinetic_matrix(th);
  for (int i = 0; i < d; ++i)
    for (int j = i; j < d; ++j) truth.vertices[2].at(std::vector<int>{i, j}) = K(i, j);
  for (int i = 0; i < d; ++i) truth.vertices[4].at(std::vector<int>{i, i, i, i}) = th.lambda;
  ActionInfo info;
  info.field = field_kind::float64;
  info.at.assign(static_cast<std::size_t>(d), "0");
  info.source = fmt::format(
      "lattice phi^4 theory on a {} with periodic boundaries (site x = i*M + j on a torus), m2 = "
      "{}, "
      "lambda = {}: S = sum_x [1/2 sum_mu (phi_(x+mu) - phi_x)^2 + 1/2 m2 phi_x^2 + lambda/4! "
      "phi_x^4]; "
      "Gamma^(0) = ln Z is not included",
      th.lattice.name(), th.m2, th.lambda);
  std::ostringstream truth_json;
  print(truth, info, json_context{&truth_json});

  write_file_atomically(path, npy_bytes(r.samples.data(), r.rows, r.cols));
  write_file_atomically(truth_path, truth_json.str());
  out << fmt::format("wrote {} ({} samples x {} sites, float64) and {} (true vertices)\n",
                     path.string(), r.rows, r.cols, truth_path.string());
  out << fmt::format(
      "HMC: acceptance {:.3f}, step {:.4g} x {}, tau_int {:.3g} trajectories ({}), thinning "
      "every {} "
      "trajectories, tau_int of the written samples {:.3g}\n",
      r.acceptance, r.step_size, r.leapfrog_steps, r.tau_pilot, r.tau_observable, r.thin,
      r.tau_output);
  return 0;
}

int run_train(const Args& a, std::ostream& out, std::ostream& err) {
  if (a.positional().size() != 1) throw Usage("expected one data file (.npy or .csv)");
  FlowSpec spec;
  const std::string arch = a.one_of("--arch", {"activation", "coupling"});
  spec.arch = arch == "activation" ? architecture::activation : architecture::coupling;
  const std::string act = a.one_of("--activation", {"cubic", "quadratic"});
  spec.activation = act == "cubic" ? activation_kind::cubic : activation_kind::quadratic;
  spec.layers = static_cast<int>(a.integer("--layers", 2, 0, 1000));
  spec.hidden = static_cast<int>(a.integer("--hidden", 16, 1, 100000));
  spec.actnorm = a.has("--actnorm");
  TrainOptions o;
  o.epochs = static_cast<int>(a.integer("--epochs", 100, 0, 100000000));
  o.batch = static_cast<int>(a.integer("--batch", 256, 1, 100000000));
  o.lr = a.real("--lr", 1e-3);
  if (!(o.lr > 0)) throw Usage("--lr must be > 0");
  o.val_fraction = a.real("--val", 0.1);
  if (!(o.val_fraction >= 0 && o.val_fraction < 1)) throw Usage("--val must be in [0, 1)");
  o.seed = seed(a);
  o.threads = static_cast<int>(a.integer("--threads", 1, 1, 256));
  o.whiten = !a.has("--no-whiten");
  o.progress = &err;
  o.progress_is_tty = is_terminal(err);
  const std::filesystem::path model_path = output(a);

  const std::filesystem::path data_path = a.positional()[0];
  const NpyArray table = read_table(data_path);
  if (table.rows < 2 || table.cols < 1)
    throw Error(fmt::format("{}: need at least 2 samples (rows), got {} x {}", data_path.string(),
                            table.rows, table.cols));
  for (std::size_t k = 0; k < table.data.size(); ++k)
    if (!std::isfinite(table.data[k]))
      throw Error(fmt::format("{}: sample {}, unit {} is not a finite number", data_path.string(),
                              k / table.cols, k % table.cols));
  // Row-major samples x d is column-major d x samples: one sample per column.
  const Matrix data =
      Eigen::Map<const Matrix>(table.data.data(), static_cast<Eigen::Index>(table.cols),
                               static_cast<Eigen::Index>(table.rows));
  const int d = static_cast<int>(table.cols);
  err << fmt::format(
      "training a flow on {}: {} samples x {} units, {} x {} layers ({}{}), {} parameters\n",
      data_path.string(), table.rows, d, spec.layers, arch, act, spec.actnorm ? ", actnorm" : "",
      make_flow(d, spec, o.seed).parameter_count());
  const TrainResult r = train_flow(make_flow(d, spec, o.seed), data, o);
  if (!r.stop_reason.empty()) {
    if (r.good_epochs == 0)
      throw Error(fmt::format("stopped in the first epoch: {}; no model written", r.stop_reason));
    write_file_atomically(model_path, manifest_json(r.flow));
    throw Error(
        fmt::format("stopped at epoch {}: {}; wrote the model of the last good epoch ({}) to {}",
                    r.good_epochs + 1, r.stop_reason, r.good_epochs, model_path.string()));
  }
  write_file_atomically(model_path, manifest_json(r.flow));
  const EpochStats last = r.history.empty() ? EpochStats{0, NAN, NAN, 0} : r.history.back();
  out << fmt::format("wrote {} after {} epochs ({:.2f} s, {:.3g} s/epoch)\n", model_path.string(),
                     r.good_epochs, r.seconds,
                     r.history.empty() ? 0.0 : r.seconds / r.history.size());
  out << fmt::format("NLL per sample (nats): train {:.6f}, validation {:.6f} ({} held out)\n",
                     last.train_nll, last.val_nll, r.val_size);
  if (!std::isnan(r.gaussian_val_nll))
    out << fmt::format(
        "best Gaussian (fit on the training split), validation NLL {:.6f}: the flow is {:.4f} "
        "nats "
        "{}\n",
        r.gaussian_val_nll, std::fabs(r.gaussian_val_nll - last.val_nll),
        last.val_nll <= r.gaussian_val_nll ? "better" : "worse");
  if (r.rejected_steps)
    out << fmt::format("{} steps were undone to keep samples in the domain\n", r.rejected_steps);
  return 0;
}

int run_generate(const Args& a, std::ostream& out, std::ostream&) {
  if (a.positional().size() != 1) throw Usage("expected one model file");
  const long n = a.integer("--samples", 10000, 1, 1L << 36);
  const std::filesystem::path path = output(a);
  const Flow flow = read_train_flow(a.positional()[0]);
  prepare(flow);  // a singular W has no inverse: say so before drawing anything
  std::mt19937_64 rng(seed(a));
  std::normal_distribution<double> normal;
  Matrix result(flow.dim, n);
  Eigen::Index filled = 0;
  std::size_t drawn = 0, rejected = 0;
  constexpr Eigen::Index block = 4096;
  std::vector<char> ok;
  while (filled < n) {
    Matrix z(flow.dim, block);
    for (Eigen::Index i = 0; i < z.size(); ++i) z.data()[i] = normal(rng);
    const Matrix x = inverse(flow, z, ok);
    drawn += static_cast<std::size_t>(block);
    for (Eigen::Index j = 0; j < block && filled < n; ++j) {
      if (!ok[static_cast<std::size_t>(j)] || !x.col(j).allFinite()) {
        ++rejected;
        continue;
      }
      result.col(filled++) = x.col(j);
    }
    if (drawn >= 100000 && rejected * 1000 > drawn * 999)
      throw Error(fmt::format("{}: almost no latent sample has a preimage ({} of {} rejected)",
                              a.positional()[0], rejected, drawn));
  }
  write_file_atomically(path, npy_of_columns(result));
  out << fmt::format("wrote {} ({} samples x {} units, float64)\n", path.string(), n, flow.dim);
  if (rejected)
    out << fmt::format(
        "{} latent samples had no preimage (outside the image of a quadratic activation) and "
        "were "
        "redrawn\n",
        rejected);
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

}  // namespace flowaction
