#include "trainer/trainer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <thread>

#include "engine/error.hpp"

namespace flowaction::train {

namespace {

constexpr double half_log_2pi = 0.91893853320467274178;

double standard_normal(std::mt19937_64& rng) {
  // Box–Muller on our own so that a seed gives the same numbers with every standard library.
  constexpr double two_pi = 6.283185307179586477;
  const double u1 = (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53;
  const double u2 = static_cast<double>(rng() >> 11) * 0x1.0p-53;
  return std::sqrt(-2 * std::log(u1)) * std::cos(two_pi * u2);
}

// Runs task(k) for k = 0 … n−1 on n threads (the caller is thread 0) and waits for all.
class WorkerPool {
 public:
  explicit WorkerPool(int n) : n_(std::max(1, n)) {
    for (int k = 1; k < n_; ++k) threads_.emplace_back([this, k] { loop(k); });
  }
  ~WorkerPool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    start_.notify_all();
    for (auto& t : threads_) t.join();
  }
  int size() const { return n_; }
  void run(const std::function<void(int)>& task) {
    if (n_ == 1) {
      task(0);
      return;
    }
    {
      std::lock_guard lock(mutex_);
      task_ = &task;
      pending_ = n_ - 1;
      ++generation_;
    }
    start_.notify_all();
    task(0);
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
    task_ = nullptr;
  }

 private:
  void loop(int k) {
    std::uint64_t seen = 0;
    while (true) {
      const std::function<void(int)>* task;
      {
        std::unique_lock lock(mutex_);
        start_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        task = task_;
      }
      (*task)(k);
      {
        std::lock_guard lock(mutex_);
        if (--pending_ == 0) done_.notify_one();
      }
    }
  }
  int n_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable start_, done_;
  const std::function<void(int)>* task_ = nullptr;
  int pending_ = 0;
  std::uint64_t generation_ = 0;
  bool stop_ = false;
};

// Column range of chunk k of n columns split into parts.
std::pair<Eigen::Index, Eigen::Index> chunk(Eigen::Index n, int parts, int k) {
  const Eigen::Index lo = n * k / parts, hi = n * (k + 1) / parts;
  return {lo, hi - lo};
}

double mean_nll_pool(const Flow& flow, const Matrix& data, WorkerPool& pool,
                     std::vector<FlowWorkspace>& ws, ForwardResult* domain) {
  const FlowConstants c = prepare(flow);
  const int T = pool.size();
  std::vector<double> sums(T, 0.0);
  std::vector<ForwardResult> dom(T);
  constexpr Eigen::Index block = 1024;
  pool.run([&](int k) {
    auto [lo, len] = chunk(data.cols(), T, k);
    for (Eigen::Index s = 0; s < len; s += block) {
      const Eigen::Index m = std::min(block, len - s);
      const ForwardResult r = forward(flow, c, data.middleCols(lo + s, m), ws[k]);
      sums[k] += r.loss_sum;
      if (!r.in_domain() && dom[k].in_domain()) dom[k] = r;
    }
  });
  if (domain) {
    *domain = ForwardResult{};
    for (const auto& r : dom)
      if (!r.in_domain()) {
        *domain = r;
        break;
      }
  }
  return std::accumulate(sums.begin(), sums.end(), 0.0) / static_cast<double>(data.cols());
}

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--";
  const long t = std::lround(s);
  if (t >= 3600) return fmt::format("{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60);
  return fmt::format("{:02}:{:02}", t / 60, t % 60);
}

class Progress {
 public:
  Progress(const TrainOptions& o) : out_(o.progress), tty_(o.progress_is_tty), epochs_(o.epochs) {}
  void epoch(const EpochStats& e, double samples_per_s, double elapsed) {
    if (!out_) return;
    const double left = elapsed / e.epoch * (epochs_ - e.epoch);
    const std::string val =
        std::isnan(e.val_nll) ? std::string("-") : fmt::format("{:.5f}", e.val_nll);
    if (tty_) {
      constexpr int width = 24;
      const int filled = static_cast<int>(static_cast<long>(width) * e.epoch / epochs_);
      *out_
          << fmt::format(
                 "\r\x1b[Kepoch {:>{}}/{} [{}{}] train {:.5f} val {} | {:.0f} samples/s | left {}",
                 e.epoch, std::to_string(epochs_).size(), epochs_, std::string(filled, '#'),
                 std::string(width - filled, '.'), e.train_nll, val, samples_per_s,
                 format_duration(left))
          << std::flush;
      if (e.epoch == epochs_) *out_ << '\n';
    } else {
      const int every = std::max(1, epochs_ / 20);
      if (e.epoch % every == 0 || e.epoch == epochs_ || e.epoch == 1)
        *out_ << fmt::format(
            "epoch {}/{}: train NLL {:.5f}, validation NLL {}, {:.0f} samples/s, {} left\n",
            e.epoch, epochs_, e.train_nll, val, samples_per_s, format_duration(left));
    }
  }
  void finish_line() {
    if (out_ && tty_) *out_ << '\n';
  }

 private:
  std::ostream* out_;
  bool tty_;
  int epochs_;
};

}  // namespace

Flow make_flow(int dim, const FlowSpec& spec, std::uint64_t seed) {
  if (dim < 1) throw Error("a flow needs at least one unit");
  if (spec.layers < 0) throw Error("--layers must be >= 0");
  if (spec.arch == architecture::coupling && spec.layers > 0 && dim < 2)
    throw Error("coupling layers need at least 2 units (the data has 1)");
  if (spec.latent_couplings < 0) throw Error("--latent-couplings must be >= 0");
  if ((spec.arch == architecture::coupling || spec.latent_couplings > 0) && spec.hidden < 1)
    throw Error("--hidden must be >= 1");
  std::mt19937_64 rng(seed);
  Flow f;
  f.dim = dim;
  auto affine = [&] {
    AffineLayer a;
    a.W = Matrix::Identity(dim, dim);
    a.b = Vector::Zero(dim);
    return a;
  };
  // Additive coupling transforming the units with mask 1 from the others; W2 = 0: the identity.
  auto coupling = [&](std::vector<int> mask, activation_kind kind) {
    CouplingLayer c;
    c.set_mask(std::move(mask));
    const int na = static_cast<int>(c.a_units.size()), nb = static_cast<int>(c.b_units.size());
    c.kind = kind;
    c.W1.resize(spec.hidden, na);
    const double sd = 1 / std::sqrt(static_cast<double>(na));
    for (Eigen::Index i = 0; i < c.W1.size(); ++i) c.W1.data()[i] = sd * standard_normal(rng);
    c.b1 = Vector::Zero(spec.hidden);
    c.alpha = Vector::Zero(spec.hidden);
    c.W2 = Matrix::Zero(nb, spec.hidden);
    c.b2 = Vector::Zero(nb);
    return c;
  };
  for (int k = 0; k < spec.layers; ++k) {
    const bool local = k == 0 && spec.local_first;
    if (!local) f.layers.emplace_back(affine());
    if (spec.actnorm || local) f.layers.emplace_back(ActNormLayer::identity(dim));
    if (spec.arch == architecture::activation) {
      ActivationLayer s;
      s.kind = spec.activation;
      // Near the identity at any depth: L layers of u + αu³ bend u by about Lαu³.
      const double alpha0 = spec.activation == activation_kind::cubic
                                ? std::min(0.01, 0.02 / static_cast<double>(spec.layers))
                                : 0.0;
      s.alpha = Vector::Constant(dim, alpha0);
      s.theta = s.alpha;
      f.layers.emplace_back(std::move(s));
    } else {
      std::vector<int> mask(dim);
      for (int i = 0; i < dim; ++i) mask[i] = ((i < dim / 2) == (k % 2 == 1)) ? 1 : 0;
      f.layers.emplace_back(coupling(std::move(mask), spec.activation));
    }
  }
  f.layers.emplace_back(affine());
  for (int k = 0; dim > 1 && k < spec.latent_couplings; ++k) {
    std::vector<int> mask(dim);
    for (int i = 0; i < dim; ++i) mask[i] = i % 2 == k % 2 ? 1 : 0;
    f.layers.emplace_back(coupling(std::move(mask), activation_kind::cubic));
  }
  return f;
}

void init_whitening(Flow& flow, const Matrix& data) {
  auto* a = flow.layers.empty() ? nullptr : std::get_if<AffineLayer>(&flow.layers.front());
  if (!a) return;
  const Vector mu = data.rowwise().mean();
  const Matrix centred = data.colwise() - mu;
  const Matrix cov = centred * centred.transpose() / static_cast<double>(data.cols());
  Eigen::LLT<Matrix> llt(cov);
  if (llt.info() != Eigen::Success)
    throw Error(
        "the sample covariance is not positive definite (a unit is constant or units are linearly "
        "dependent)");
  // Standardise first and decorrelate last only in a flow that ends with an affine layer: with
  // latent couplings after it, the Cholesky whitening in the first layer recovers the vertices
  // better (bench/phi4_recovery: moderate Γ⁽²⁾ᵢᵢ +3.1 % against +5.0 %, Γ⁽⁴⁾ᵢᵢᵢᵢ −3.6 % against
  // −8.0 %).
  auto* last = flow.layers.size() > 1 ? std::get_if<AffineLayer>(&flow.layers.back()) : nullptr;
  if (!last) {
    a->W = llt.matrixL().solve(Matrix::Identity(flow.dim, flow.dim));
  } else {
    // Standardise each unit alone and whiten at the end: the first nonlinear layer then starts
    // on single units of the data (a local interaction is local in them), and the couplings
    // start in the last layer. On φ⁴ ring data this recovers the couplings better than the
    // Cholesky whitening in the first layer (bench/phi4_recovery, issue 11).
    const Vector inv_sd = cov.diagonal().cwiseSqrt().cwiseInverse();
    a->W = inv_sd.asDiagonal();
    const Matrix corr = inv_sd.asDiagonal() * cov * inv_sd.asDiagonal();
    last->W = Eigen::SelfAdjointEigenSolver<Matrix>(corr).operatorInverseSqrt();
    last->b.setZero();
  }
  a->b = -a->W * mu;
}

void init_actnorm(Flow& flow, const Matrix& data) {
  flow.sync();           // the layers before an actnorm layer map with their current parameters
  std::size_t last = 0;  // one past the last actnorm layer: no need to map further
  for (std::size_t l = 0; l < flow.layers.size(); ++l)
    if (std::holds_alternative<ActNormLayer>(flow.layers[l])) last = l + 1;
  const double n = static_cast<double>(data.cols());
  Matrix y = data;
  Flow one;  // one layer at a time, so that each actnorm layer sees its predecessors initialised
  one.dim = flow.dim;
  for (std::size_t l = 0; l < last; ++l) {
    if (auto* an = std::get_if<ActNormLayer>(&flow.layers[l])) {
      const Vector mean = y.rowwise().mean();
      const Vector sd = ((y.colwise() - mean).rowwise().squaredNorm() / n).cwiseSqrt();
      for (Eigen::Index i = 0; i < flow.dim; ++i) {
        if (!std::isfinite(mean[i]) || !std::isfinite(sd[i]))
          throw Error(fmt::format(
              "layer {} (actnorm): unit {} of its input is not finite on the training data", l + 1,
              i));
        // 1/std must be finite too: a subnormal std is as constant as 0.
        if (!(sd[i] > 0) || !std::isfinite(1 / sd[i]))
          throw Error(fmt::format(
              "layer {} (actnorm): unit {} of its input is constant on the training data (std = "
              "{:.3g}), so s = 1/std cannot be set",
              l + 1, i, sd[i]));
      }
      const Vector s = sd.cwiseInverse();
      *an = ActNormLayer(s, -mean.cwiseQuotient(sd));
    }
    one.layers.assign(1, flow.layers[l]);
    y = latent(one, y);
  }
}

Vector gaussian_nll_values(const Matrix& fit_on, const Matrix& evaluate_on) {
  const Vector mu = fit_on.rowwise().mean();
  const Matrix centred = fit_on.colwise() - mu;
  const Matrix cov = centred * centred.transpose() / static_cast<double>(fit_on.cols());
  Eigen::LLT<Matrix> llt(cov);
  if (llt.info() != Eigen::Success) return Vector::Constant(evaluate_on.cols(), NAN);
  double half_log_det = 0;
  for (Eigen::Index i = 0; i < cov.rows(); ++i) half_log_det += std::log(llt.matrixL()(i, i));
  const Matrix w = llt.matrixL().solve(evaluate_on.colwise() - mu);
  return (0.5 * w.colwise().squaredNorm().array() + half_log_det + cov.rows() * half_log_2pi)
      .matrix()
      .transpose();
}

double gaussian_nll(const Matrix& fit_on, const Matrix& evaluate_on) {
  return gaussian_nll_values(fit_on, evaluate_on).mean();
}

double mean_nll(const Flow& flow, const Matrix& data, int threads, ForwardResult* domain) {
  WorkerPool pool(threads);
  std::vector<FlowWorkspace> ws(pool.size());
  return mean_nll_pool(flow, data, pool, ws, domain);
}

namespace {

// The mean of flow − Gaussian per sample and twice its standard error, as (flow NLL, noise).
std::pair<double, double> compare_with_gaussian(const Flow& flow, const Matrix& split,
                                                const Vector& gaussian) {
  if (split.cols() == 0) return {NAN, NAN};
  Vector diff(split.cols());
  constexpr Eigen::Index block = 4096;  // the forward pass keeps every layer's output
  for (Eigen::Index s = 0; s < split.cols(); s += block) {
    const Eigen::Index n = std::min(block, split.cols() - s);
    diff.segment(s, n) = action_values(flow, split.middleCols(s, n)) - gaussian.segment(s, n);
  }
  const double n = static_cast<double>(split.cols());
  const double mean = diff.mean();
  const double var = n > 1 ? (diff.array() - mean).square().sum() / (n - 1) : 0.0;
  return {mean + gaussian.mean(), 2 * std::sqrt(var / n)};
}

// Running mean and spread (mean absolute deviation) of the accepted batch losses.
struct LossTrend {
  double mean = 0, spread = 0;
  long count = 0;
  void add(double loss) {
    const double w = count < 20 ? 1.0 / static_cast<double>(count + 1) : 0.05;
    spread += w * (std::fabs(loss - mean) - spread);
    mean += w * (loss - mean);
    ++count;
  }
  // A loss far above the trend: orders of magnitude worse than batch-to-batch noise.
  bool jumps(double loss) const {
    return !std::isfinite(loss) || (count >= 10 && loss > mean + std::max(1.0, 10 * spread));
  }
};

// The parameters and the optimiser's state, for undoing steps and epochs.
struct Snapshot {
  Flow flow, m, v;
  long t = 0;
};

}  // namespace

double scheduled_lr(const TrainOptions& o, int epoch) {
  if (o.schedule == lr_schedule::constant || o.epochs <= 1) return o.lr;
  constexpr double pi = 3.14159265358979323846;
  const double f = o.final_lr_fraction;
  const double s = static_cast<double>(epoch - 1) / static_cast<double>(o.epochs - 1);
  return o.lr * (f + (1 - f) * 0.5 * (1 + std::cos(pi * s)));
}

TrainResult train_flow(Flow flow, const Matrix& data, const TrainOptions& o) {
  using clock = std::chrono::steady_clock;
  const auto t_start = clock::now();
  if (o.epochs < 0) throw Error("--epochs must be >= 0");
  if (o.batch < 1) throw Error("--batch must be >= 1");
  if (!(o.lr > 0)) throw Error("--lr must be > 0");
  if (!(o.val_fraction >= 0 && o.val_fraction < 1)) throw Error("--val must be in [0, 1)");
  if (o.threads < 1) throw Error("--threads must be >= 1");
  if (data.rows() != flow.dim)
    throw Error(fmt::format("the data has {} units, the flow {}", data.rows(), flow.dim));
  const Eigen::Index N = data.cols();
  if (N < 2) throw Error("need at least 2 samples");

  // Reproducible split: a seeded permutation, the last part is the validation set.
  std::mt19937_64 rng(o.seed);
  std::vector<Eigen::Index> perm(static_cast<std::size_t>(N));
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), rng);
  Eigen::Index n_val =
      static_cast<Eigen::Index>(std::llround(o.val_fraction * static_cast<double>(N)));
  if (o.val_fraction > 0) n_val = std::clamp<Eigen::Index>(n_val, 1, N - 1);
  const Eigen::Index n_split = N - n_val;
  Matrix train(flow.dim, n_split), val(flow.dim, n_val);
  for (Eigen::Index j = 0; j < n_split; ++j) train.col(j) = data.col(perm[j]);
  for (Eigen::Index j = 0; j < n_val; ++j) val.col(j) = data.col(perm[n_split + j]);
  if (!o.augment.empty()) train = augment(train, o.augment);
  const Eigen::Index n_train = train.cols();  // with the images of the augmentation

  TrainResult res;
  res.train_size = static_cast<std::size_t>(n_train);
  res.val_size = static_cast<std::size_t>(n_val);
  if (o.whiten) init_whitening(flow, train);
  flow.sync();
  prepare(flow);  // a singular starting point is an error of the caller
  if (o.init_actnorm) init_actnorm(flow, train);
  res.flow = flow;

  WorkerPool pool(o.threads);
  const int T = pool.size();
  std::vector<FlowWorkspace> ws(T);
  std::vector<Flow> grads(T, flow.zeros_like());
  Flow m = flow.zeros_like(), v = flow.zeros_like();
  Snapshot prev, best;
  bool have_prev = false;
  double lr_scale = 1;
  long t = 0;
  constexpr double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  Progress progress(o);
  const Eigen::Index B = std::min<Eigen::Index>(o.batch, n_train);
  Matrix xb(flow.dim, B);
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n_train));
  std::iota(order.begin(), order.end(), 0);
  std::vector<double> loss(T);
  std::vector<ForwardResult> fres(T);
  LossTrend trend;

  // The starting flow is the first candidate for the best one.
  double best_val = INFINITY, best_train = INFINITY;
  if (n_val > 0) {
    const double v0 = mean_nll_pool(flow, val, pool, ws, nullptr);
    if (std::isfinite(v0)) best_val = v0;
  }
  best = {flow, m, v, t};

  auto stop = [&](std::string why) {
    res.stop_reason = std::move(why);
    progress.finish_line();
  };
  auto restore = [&](const Snapshot& s) {
    flow = s.flow;
    m = s.m;
    v = s.v;
    t = s.t;
    have_prev = false;
  };
  // Halves the learning rate after an undo; refuses to go on below the floor.
  auto halve_rate = [&](const std::string& why) {
    lr_scale *= 0.5;
    if (lr_scale < o.min_lr_fraction)
      throw Error(
          fmt::format("{} even with the learning rate reduced to {:.3g}", why, o.lr * lr_scale));
  };
  // The batch loss per sample at flow (for telling a bad step from a hard batch).
  auto batch_loss_at = [&](const Flow& f, Eigen::Index nb) {
    const FlowConstants c = prepare(f);
    return forward(f, c, xb.leftCols(nb), ws[0]).loss_sum / static_cast<double>(nb);
  };

  for (int epoch = 1; epoch <= o.epochs && !res.interrupted; ++epoch) {
    const auto t_epoch = clock::now();
    std::shuffle(order.begin(), order.end(), rng);
    double loss_sum = 0;
    Eigen::Index loss_count = 0;
    try {
      for (Eigen::Index start = 0; start < n_train; start += B) {
        if (o.stop_requested && o.stop_requested()) {
          res.interrupted = true;
          break;
        }
        const Eigen::Index nb = std::min(B, n_train - start);
        if (xb.cols() != nb) xb.resize(flow.dim, nb);
        for (Eigen::Index j = 0; j < nb; ++j) xb.col(j) = train.col(order[start + j]);
        const FlowConstants c = prepare(flow);
        const double scale = 1.0 / static_cast<double>(nb);
        pool.run([&](int k) {
          auto [lo, len] = chunk(nb, T, k);
          for (auto blk : grads[k].parameters()) std::fill(blk.begin(), blk.end(), 0.0);
          loss[k] = 0;
          fres[k] = ForwardResult{};
          if (len == 0) return;
          fres[k] = forward(flow, c, xb.middleCols(lo, len), ws[k]);
          loss[k] = fres[k].loss_sum;
          if (fres[k].in_domain()) backward(flow, c, ws[k], scale, grads[k]);
        });
        const ForwardResult* out = nullptr;
        for (const auto& r : fres)
          if (!r.in_domain()) out = &r;
        if (out) {
          // The last step carried a sample out of the domain of a quadratic activation: undo it
          // and take smaller steps from here on.
          const std::string why = fmt::format(
              "samples leave the invertible domain of layer {} (activation; unit {}, input "
              "{:.6g}, 1 + 2*alpha*u <= 0)",
              out->domain_layer + 1, out->domain_unit, out->domain_value);
          ++res.rejected_steps;
          if (!have_prev) throw Error(why);
          restore(prev);
          halve_rate(why);
          continue;
        }
        const double batch_loss = std::accumulate(loss.begin(), loss.end(), 0.0) * scale;
        if (trend.jumps(batch_loss)) {
          // A jump right after a step is the step's fault unless this batch is as bad at the
          // parameters before it.
          const bool step_to_blame = have_prev && (!std::isfinite(batch_loss) ||
                                                   !trend.jumps(batch_loss_at(prev.flow, nb)));
          if (step_to_blame) {
            ++res.undone_steps;
            restore(prev);
            halve_rate(fmt::format("the loss keeps jumping (to {:.6g} nats per sample at epoch {})",
                                   batch_loss, epoch));
            continue;
          }
          if (!std::isfinite(batch_loss))
            throw Error(fmt::format("the loss became {} at epoch {}",
                                    std::isnan(batch_loss) ? "NaN" : "infinite", epoch));
        } else {
          trend.add(batch_loss);
        }
        loss_sum += batch_loss * static_cast<double>(nb);
        loss_count += nb;
        for (int k = 1; k < T; ++k) {
          auto dst = grads[0].parameters();
          auto src = grads[k].parameters();
          for (std::size_t b = 0; b < dst.size(); ++b)
            for (std::size_t i = 0; i < dst[b].size(); ++i) dst[b][i] += src[b][i];
        }
        // Gradient-norm clipping.
        double norm2 = 0;
        for (auto blk : grads[0].parameters())
          for (double g : blk) norm2 += g * g;
        const double clip =
            norm2 > o.max_grad_norm * o.max_grad_norm ? o.max_grad_norm / std::sqrt(norm2) : 1.0;
        prev = {flow, m, v, t};
        have_prev = true;
        // Adam, written as in PyTorch (bias corrections folded into the step size).
        ++t;
        const double bc1 = 1 - std::pow(beta1, static_cast<double>(t));
        const double bc2 = 1 - std::pow(beta2, static_cast<double>(t));
        const double step = scheduled_lr(o, epoch) * lr_scale / bc1;
        const double inv_sqrt_bc2 = 1 / std::sqrt(bc2);
        auto P = flow.parameters(), G = grads[0].parameters(), M = m.parameters(),
             V = v.parameters();
        for (std::size_t b = 0; b < P.size(); ++b) {
          double* p = P[b].data();
          const double* g = G[b].data();
          double* mm = M[b].data();
          double* vv = V[b].data();
          for (std::size_t i = 0; i < P[b].size(); ++i) {
            const double gi = clip * g[i];
            mm[i] = beta1 * mm[i] + (1 - beta1) * gi;
            vv[i] = beta2 * vv[i] + (1 - beta2) * gi * gi;
            p[i] -= step * mm[i] / (std::sqrt(vv[i]) * inv_sqrt_bc2 + eps);
          }
        }
        flow.sync();
      }
      if (res.interrupted) break;
      EpochStats e;
      e.epoch = epoch;
      e.train_nll = loss_count ? loss_sum / static_cast<double>(loss_count) : NAN;
      e.val_nll = NAN;
      ForwardResult dom;
      if (n_val > 0) {
        e.val_nll = mean_nll_pool(flow, val, pool, ws, &dom);
        if (!dom.in_domain())
          throw Error(fmt::format(
              "a validation sample is outside the invertible domain of layer {} (activation; "
              "unit {}, input {:.6g}, 1 + 2*alpha*u <= 0)",
              dom.domain_layer + 1, dom.domain_unit, dom.domain_value));
      }
      if (flow.has_domain_limits()) {
        mean_nll_pool(flow, train, pool, ws, &dom);
        if (!dom.in_domain())
          throw Error(fmt::format(
              "a training sample is outside the invertible domain of layer {} (activation; "
              "unit {}, input {:.6g}, 1 + 2*alpha*u <= 0)",
              dom.domain_layer + 1, dom.domain_unit, dom.domain_value));
      }
      e.seconds = std::chrono::duration<double>(clock::now() - t_epoch).count();
      res.history.push_back(e);
      res.good_epochs = epoch;
      // The training loss guards too: a few training samples thrown far out by some step can
      // leave the validation NLL alone. Its tolerance allows for batch-to-batch noise.
      const double batches = std::ceil(static_cast<double>(n_train) / static_cast<double>(B));
      const double train_tolerance =
          std::max(o.epoch_tolerance, 4 * trend.spread / std::sqrt(batches));
      const bool train_ok = !(e.train_nll > best_train + train_tolerance);
      if (train_ok && (n_val == 0 || e.val_nll < best_val)) {
        if (n_val > 0) best_val = e.val_nll;
        best_train = e.train_nll;
        best = {flow, m, v, t};
        res.flow = flow;
        res.best_epoch = epoch;
      } else if (!train_ok || !(e.val_nll <= best_val + o.epoch_tolerance)) {
        // The epoch made the held-out or the training NLL clearly worse (or not finite): back
        // to the best epoch with smaller steps.
        ++res.undone_epochs;
        restore(best);
        halve_rate(fmt::format("the {} NLL keeps rising (to {:.6g} at epoch {})",
                               train_ok ? "validation" : "training",
                               train_ok ? e.val_nll : e.train_nll, epoch));
      }
      const double elapsed = std::chrono::duration<double>(clock::now() - t_start).count();
      progress.epoch(e, static_cast<double>(n_train) / e.seconds, elapsed);
    } catch (const Error& err) {
      stop(err.what());
      break;
    }
  }
  if (res.interrupted) stop("interrupted");
  res.final_lr = scheduled_lr(o, std::max(1, res.good_epochs)) * lr_scale;

  // The verdict against the best Gaussian, on both splits.
  const Vector gauss_train = gaussian_nll_values(train, train);
  res.gaussian_train_nll = gauss_train.mean();
  std::tie(res.train_nll, res.train_noise) = compare_with_gaussian(res.flow, train, gauss_train);
  if (n_val > 0) {
    const Vector gauss_val = gaussian_nll_values(train, val);
    res.gaussian_val_nll = gauss_val.mean();
    std::tie(res.val_nll, res.val_noise) = compare_with_gaussian(res.flow, val, gauss_val);
  }
  res.seconds = std::chrono::duration<double>(clock::now() - t_start).count();
  return res;
}

std::string gaussian_collapse_warning(const TrainResult& r, const Matrix& data) {
  const double n = static_cast<double>(data.cols());
  if (data.cols() < 8) return {};
  double skew_z = 0, kurt_z = 0, skew = 0, kurt = 0;
  for (Eigen::Index i = 0; i < data.rows(); ++i) {
    const Eigen::ArrayXd y = data.row(i).array() - data.row(i).mean();
    const double m2 = y.square().mean();
    if (!(m2 > 0)) continue;
    const double g1 = y.cube().mean() / std::pow(m2, 1.5);
    const double g2 = y.square().square().mean() / (m2 * m2) - 3;
    if (std::fabs(g1) / std::sqrt(6 / n) > skew_z)
      skew_z = std::fabs(g1) / std::sqrt(6 / n), skew = g1;
    if (std::fabs(g2) / std::sqrt(24 / n) > kurt_z)
      kurt_z = std::fabs(g2) / std::sqrt(24 / n), kurt = g2;
  }
  constexpr double significant = 5;
  if (std::max(skew_z, kurt_z) <= significant) return {};
  const bool val = std::isfinite(r.val_nll) && std::isfinite(r.gaussian_val_nll);
  const double gain = val ? r.gaussian_val_nll - r.val_nll : r.gaussian_train_nll - r.train_nll;
  const double noise = val ? r.val_noise : r.train_noise;
  // How far each activation layer bends its inputs: max over units of |α| σ^(p−1) (σ the
  // standard deviation of the unit's input on data, p = 2 or 3), i.e. φ(σ)/σ − 1.
  double bend = -1;
  {
    FlowWorkspace ws;  // one forward pass: ws.x[l] is the input of layer l
    forward(r.flow, prepare(r.flow), data, ws);
    for (std::size_t l = 0; l < r.flow.layers.size(); ++l) {
      const auto* a = std::get_if<ActivationLayer>(&r.flow.layers[l]);
      if (!a) continue;
      bend = std::max(bend, 0.0);
      const int p = a->kind == activation_kind::quadratic ? 2 : 3;
      const Matrix& y = ws.x[l];
      for (Eigen::Index i = 0; i < y.rows(); ++i) {
        const double sd = std::sqrt((y.row(i).array() - y.row(i).mean()).square().mean());
        bend = std::max(bend, std::fabs(a->alpha[i]) * std::pow(sd, p - 1));
      }
    }
  }
  // Measured on a ring of 4 (m2 = 0.5, lambda = 6, 20k samples): quadratic layers that collapsed
  // bend by 0.005, cubic ones by 0.02.
  constexpr double flat = 0.01;  // φ(σ) within 1 % of σ
  // Activation flows are judged by their bend (the NLL gain on weakly coupled data can be within
  // the noise of a flow that did learn the vertices); coupling flows by the gain.
  const bool unbent = bend >= 0 && bend < flat, no_gain = bend < 0 && !(gain >= noise);
  if (!no_gain && !unbent) return {};
  bool quadratic = false;
  for (const Layer& layer : r.flow.layers) {
    if (const auto* a = std::get_if<ActivationLayer>(&layer))
      quadratic = quadratic || a->kind == activation_kind::quadratic;
    if (const auto* c = std::get_if<CouplingLayer>(&layer))
      quadratic = quadratic || c->kind == activation_kind::quadratic;
  }
  std::string msg = fmt::format(
      "the flow is close to a Gaussian ({}) although the data are clearly not Gaussian (excess "
      "kurtosis {:+.3g}, {:.0f} standard errors; skewness {:+.3g}, {:.0f} standard errors): its "
      "vertices above order 2 mean little",
      unbent ? fmt::format("its activations bend their inputs by at most {:.2g} at one standard "
                           "deviation; {:.4f} nats per sample better than the best Gaussian",
                           bend, gain)
             : fmt::format("{:.4f} nats per sample better than the best Gaussian on the {} split, "
                           "within the noise {:.2g}",
                           gain, val ? "validation" : "training", noise),
      kurt, kurt_z, skew, skew_z);
  if (quadratic && skew_z <= significant)
    msg +=
        "; the data look Z2-symmetric (no significant skewness), which phi(u) = u + alpha u^2 "
        "cannot represent: try --activation cubic";
  return msg;
}

}  // namespace flowaction::train
