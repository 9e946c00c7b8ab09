#include "trainer/phi4_sampler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <numbers>
#include <random>

#include "engine/error.hpp"

namespace flowaction::train {

std::string Lattice::name() const {
  return torus ? fmt::format("{}x{} torus", n0, n1) : fmt::format("ring of {}", n0);
}

Lattice parse_lattice(std::string_view text) {
  auto parse_int = [&](std::string_view s) {
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < 1 || v > 100000)
      throw Error(fmt::format("--lattice '{}': expected N or NxM with positive integers", text));
    return v;
  };
  Lattice l;
  const std::size_t x = text.find('x');
  if (x == std::string_view::npos) {
    l.n0 = parse_int(text);
  } else {
    l.n0 = parse_int(text.substr(0, x));
    l.n1 = parse_int(text.substr(x + 1));
    l.torus = true;
  }
  if (static_cast<long>(l.n0) * l.n1 > 1000000)
    throw Error(fmt::format("--lattice '{}': too many sites", text));
  return l;
}

namespace {

// Calls fn(x, neighbour) once per site and positive direction of extent > 1.
template <class Fn>
void for_each_link(const Lattice& l, Fn&& fn) {
  for (int i = 0; i < l.n0; ++i)
    for (int j = 0; j < l.n1; ++j) {
      const int x = i * l.n1 + j;
      if (l.n0 > 1) fn(x, ((i + 1) % l.n0) * l.n1 + j);
      if (l.n1 > 1) fn(x, i * l.n1 + (j + 1) % l.n1);
    }
}

}  // namespace

Eigen::MatrixXd phi4_kinetic_matrix(const Phi4Theory& t) {
  const int d = t.lattice.sites();
  Eigen::MatrixXd K = Eigen::MatrixXd::Identity(d, d) * t.m2;
  // ½(φ_y − φ_x)² contributes +1 to K_xx and K_yy and −1 to K_xy and K_yx.
  for_each_link(t.lattice, [&](int x, int y) {
    K(x, x) += 1;
    K(y, y) += 1;
    K(x, y) -= 1;
    K(y, x) -= 1;
  });
  return K;
}

double phi4_max_curvature(const Phi4Theory& t) {
  double kinetic = t.m2;
  for (const int n : {t.lattice.n0, t.lattice.n1})
    if (n > 1) {
      const double s = std::sin(std::numbers::pi * (n / 2) / n);
      kinetic += 4 * s * s;
    }
  if (t.lambda == 0) return kinetic;
  const double width = std::sqrt(6 / t.lambda);  // of the pure quartic well
  const double phi2 = t.m2 > 0 ? std::min(1 / t.m2, width) : -6 * t.m2 / t.lambda + width;
  return std::max(kinetic, 0.0) + t.lambda / 2 * 3 * phi2;
}

double phi4_action(const Phi4Theory& t, std::span<const double> phi) {
  double s = 0;
  for_each_link(t.lattice, [&](int x, int y) {
    const double dphi = phi[y] - phi[x];
    s += 0.5 * dphi * dphi;
  });
  for (double p : phi) {
    const double p2 = p * p;
    s += 0.5 * t.m2 * p2 + t.lambda / 24 * p2 * p2;
  }
  return s;
}

void phi4_gradient(const Phi4Theory& t, std::span<const double> phi, std::span<double> g) {
  for (std::size_t x = 0; x < phi.size(); ++x)
    g[x] = t.m2 * phi[x] + t.lambda / 6 * phi[x] * phi[x] * phi[x];
  for_each_link(t.lattice, [&](int x, int y) {
    const double dphi = phi[y] - phi[x];
    g[x] -= dphi;
    g[y] += dphi;
  });
}

double integrated_autocorrelation_time(std::span<const double> series) {
  const std::size_t n = series.size();
  if (n < 4) return 0.5;
  double mean = 0;
  for (double v : series) mean += v;
  mean /= static_cast<double>(n);
  std::vector<double> c(series.begin(), series.end());
  for (double& v : c) v -= mean;
  double c0 = 0;
  for (double v : c) c0 += v * v;
  if (!(c0 > 0)) return 0.5;
  double tau = 0.5;
  for (std::size_t t = 1; t < n / 2; ++t) {
    double ct = 0;
    for (std::size_t i = 0; i + t < n; ++i) ct += c[i] * c[i + t];
    tau += ct / c0 * static_cast<double>(n) / static_cast<double>(n - t);
    if (static_cast<double>(t) >= 6 * tau) break;
  }
  return std::max(tau, 0.5);
}

namespace {

double standard_normal(std::mt19937_64& rng) {
  constexpr double two_pi = 6.283185307179586477;
  const double u1 = (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53;
  const double u2 = static_cast<double>(rng() >> 11) * 0x1.0p-53;
  return std::sqrt(-2 * std::log(u1)) * std::cos(two_pi * u2);
}
double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

class Hmc {
 public:
  Hmc(const Phi4Theory& t, std::uint64_t seed)
      : t_(t), d_(t.lattice.sites()), rng_(seed), phi_(d_, 0.0), p_(d_), x_(d_), g_(d_) {
    action_ = phi4_action(t_, phi_);
  }
  // One trajectory of about `length` with step eps (jittered by ±10% so that no trajectory length
  // resonates with a mode); returns true if accepted.
  bool trajectory(double eps, double length) {
    const double e = eps * (0.9 + 0.2 * uniform01(rng_));
    const int steps = std::max(1, static_cast<int>(std::lround(length / e)));
    double kinetic0 = 0;
    for (int i = 0; i < d_; ++i) {
      p_[i] = standard_normal(rng_);
      kinetic0 += 0.5 * p_[i] * p_[i];
    }
    x_ = phi_;
    phi4_gradient(t_, x_, g_);
    for (int s = 0; s < steps; ++s) {
      for (int i = 0; i < d_; ++i) p_[i] -= 0.5 * e * g_[i];
      for (int i = 0; i < d_; ++i) x_[i] += e * p_[i];
      phi4_gradient(t_, x_, g_);
      for (int i = 0; i < d_; ++i) p_[i] -= 0.5 * e * g_[i];
    }
    double kinetic1 = 0;
    for (int i = 0; i < d_; ++i) kinetic1 += 0.5 * p_[i] * p_[i];
    const double action1 = phi4_action(t_, x_);
    const double dh = (action1 + kinetic1) - (action_ + kinetic0);
    ++count_;
    last_steps_ = steps;
    if (std::isfinite(dh) && (dh <= 0 || uniform01(rng_) < std::exp(-dh))) {
      phi_.swap(x_);
      action_ = action1;
      ++accepted_;
      return true;
    }
    return false;
  }
  const std::vector<double>& phi() const { return phi_; }
  double action() const { return action_; }
  void reset_counts() { count_ = accepted_ = 0; }
  double acceptance() const {
    return count_ ? static_cast<double>(accepted_) / static_cast<double>(count_) : 0;
  }
  std::size_t count() const { return count_; }

 private:
  const Phi4Theory& t_;
  int d_;
  std::mt19937_64 rng_;
  std::vector<double> phi_, p_, x_, g_;
  double action_ = 0;
  std::size_t count_ = 0, accepted_ = 0;
  int last_steps_ = 0;
};

struct Observables {
  std::vector<double> magnetisation, phi2, action;
  void push(const std::vector<double>& phi, double s) {
    double m = 0, q = 0;
    for (double v : phi) {
      m += v;
      q += v * v;
    }
    magnetisation.push_back(m / static_cast<double>(phi.size()));
    phi2.push_back(q / static_cast<double>(phi.size()));
    action.push_back(s);
  }
  // The slowest of the three.
  std::pair<double, std::string> tau() const {
    std::pair<double, std::string> best{0.5, "magnetisation"};
    const std::pair<const std::vector<double>*, const char*> obs[] = {
        {&magnetisation, "magnetisation"}, {&phi2, "mean phi^2"}, {&action, "action"}};
    for (auto [series, name] : obs) {
      const double t = integrated_autocorrelation_time(*series);
      if (t > best.first) best = {t, name};
    }
    return best;
  }
};

}  // namespace

HmcResult sample_phi4(const Phi4Theory& t, const HmcOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.samples < 1) throw Error("--samples must be >= 1");
  if (o.thermalise < 0 || o.pilot < 0) throw Error("--thermalise and --pilot must be >= 0");
  if (t.lambda < 0) throw Error("--lambda must be >= 0 (the action is unbounded below otherwise)");
  if (t.lambda == 0 && t.m2 <= 0)
    throw Error("the free field needs m2 > 0 (the Gaussian is not normalisable otherwise)");
  if (!(o.trajectory_length > 0)) throw Error("--trajectory must be > 0");
  const int d = t.lattice.sites();
  Hmc hmc(t, o.seed);
  HmcResult r;
  r.cols = static_cast<std::size_t>(d);

  // Thermalisation. It starts from the step the curvature allows, so that any scale of m² and λ
  // is reached, and tunes it geometrically in windows of 25 trajectories: through the first half
  // of the thermalisation, and on until a window's acceptance is in the band.
  const double length = o.trajectory_length;
  double eps = std::min(1 / std::sqrt(phi4_max_curvature(t)), length);
  const double eps0 = eps;
  constexpr int window = 25;
  const int tune_windows = o.thermalise / 2 / window;
  int done = 0;
  for (int w = 0;; ++w) {
    hmc.reset_counts();
    for (int k = 0; k < window; ++k) hmc.trajectory(eps, length);
    done += window;
    const double a = hmc.acceptance();
    const bool in_band =
        a >= o.min_tuned_acceptance && (a <= o.max_tuned_acceptance || eps >= length);
    if (w + 1 >= tune_windows && in_band) break;
    if (w + 1 >= tune_windows + o.max_tuning_windows)
      throw Error(fmt::format(
          "HMC step tuning failed: acceptance {:.3f} with step {:.4g} after {} trajectories "
          "(started at {:.4g} from the curvature of the action; wanted {} to {})",
          a, eps, done, eps0, o.min_tuned_acceptance, o.max_tuned_acceptance));
    // Far off: halve or grow quickly; in or near the band: small steps towards the target.
    const double factor = a < 0.5 * o.min_tuned_acceptance ? 0.5
                          : a < o.min_tuned_acceptance     ? 0.8
                          : a > o.max_tuned_acceptance     ? 1.25
                          : a > o.target_acceptance        ? 1.05
                                                           : 0.95;
    eps = std::min(eps * factor, length);
  }
  for (; done < o.thermalise; ++done) hmc.trajectory(eps, length);
  r.step_size = eps;
  r.leapfrog_steps = std::max(1, static_cast<int>(std::lround(length / eps)));
  if (o.progress)
    *o.progress << fmt::format(
        "phi4 HMC on a {} (d = {}), m2 = {}, lambda = {}: thermalised {} trajectories, "
        "step {:.4g} x {} per trajectory (length {}), tuned from {:.4g}\n",
        t.lattice.name(), d, t.m2, t.lambda, done, eps, r.leapfrog_steps, length, eps0);

  // Pilot run: τ_int of the slowest observable decides the thinning.
  hmc.reset_counts();
  Observables pilot;
  for (int k = 0; k < o.pilot; ++k) {
    hmc.trajectory(eps, length);
    pilot.push(hmc.phi(), hmc.action());
  }
  std::tie(r.tau_pilot, r.tau_observable) = pilot.tau();
  r.tau_measured = o.pilot > 0;
  // N samples carry N/(2τ) independent ones: keeping every ⌈2τ⌉-th trajectory leaves samples
  // that are close to independent.
  r.thin = std::clamp(static_cast<int>(std::ceil(2 * r.tau_pilot)), 1, o.max_thin);
  if (o.progress && !r.tau_measured)
    *o.progress << "warning: --pilot 0: no integrated autocorrelation time was measured before "
                   "production; every trajectory is kept (no thinning), and tau_int is measured "
                   "on the written samples only\n";
  if (o.progress && r.tau_measured) {
    *o.progress << fmt::format(
        "pilot: {} trajectories, acceptance {:.3f}, integrated autocorrelation time {:.3g} "
        "trajectories ({}); thinning: keeping every {}{}\n",
        o.pilot, hmc.acceptance(), r.tau_pilot, r.tau_observable, r.thin,
        r.thin == 1 ? "st" : "th");
    if (r.tau_pilot > o.pilot / 50.0)
      *o.progress << fmt::format(
          "warning: tau_int = {:.3g} is not small against the pilot of {} trajectories; "
          "the estimate is unreliable (try a longer --pilot)\n",
          r.tau_pilot, o.pilot);
  }

  // Production.
  r.rows = o.samples;
  r.samples.resize(r.rows * r.cols);
  Observables out;
  const std::size_t report_every = std::max<std::size_t>(1, o.samples / 10);
  for (std::size_t s = 0; s < o.samples; ++s) {
    for (int k = 0; k < r.thin; ++k) hmc.trajectory(eps, length);
    std::copy(hmc.phi().begin(), hmc.phi().end(),
              r.samples.begin() + static_cast<std::ptrdiff_t>(s * r.cols));
    out.push(hmc.phi(), hmc.action());
    if (o.progress && ((s + 1) % report_every == 0))
      *o.progress << fmt::format("  {}/{} samples, acceptance {:.3f}\n", s + 1, o.samples,
                                 hmc.acceptance());
  }
  r.acceptance = hmc.acceptance();
  r.tau_output = out.tau().first;
  r.effective_samples = static_cast<double>(r.rows) / (2 * r.tau_output);
  r.trajectories = static_cast<std::size_t>(done) + static_cast<std::size_t>(o.pilot) +
                   o.samples * static_cast<std::size_t>(r.thin);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (o.progress)
    *o.progress << fmt::format(
        "done: {} samples from {} trajectories in {:.2f} s, acceptance {:.3f}, "
        "tau_int of the written samples {:.3g} (0.5 = independent)\n",
        r.rows, r.trajectories, r.seconds, r.acceptance, r.tau_output);
  // Samples that hardly move (a step that is rarely accepted) or are strongly correlated are not
  // what `sample` promises: fail rather than write them.
  if (!(r.acceptance >= o.min_acceptance))
    throw Error(fmt::format(
        "HMC acceptance {:.3f} over the pilot and production runs is below {} (step {:.4g} x {}): "
        "the samples would hardly move",
        r.acceptance, o.min_acceptance, eps, r.leapfrog_steps));
  if (!(r.effective_samples >= o.min_effective_fraction * static_cast<double>(r.rows)))
    throw Error(fmt::format(
        "the written samples would be strongly autocorrelated: tau_int = {:.3g} samples, "
        "{:.0f} effective samples N/(2 tau_int) of {} (fewer than {:.0f}%); give a longer --pilot "
        "or --trajectory",
        r.tau_output, r.effective_samples, r.rows, 100 * o.min_effective_fraction));
  return r;
}

}  // namespace flowaction::train
