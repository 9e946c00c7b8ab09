// Benchmark of the writers against the engine (prints figures; not a test): the float-field
// pullback of an alternating affine/activation flow, then the action written as JSON and as text
// to /dev/null, as ratios to the pullback in the same run; on one thread and on all cores.
//   bench_output [D L K [coupling H]]     default 64 8 4; `coupling H`: additive couplings with
//                                         H hidden units, cubic, instead
//   bench_output --manifest D L FILE      writes the model's manifest (for timing the CLI)
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "bench/models.hpp"
#include "engine/action_print.hpp"
#include "engine/extract.hpp"
#include "engine/parallel.hpp"
#include "frontends/manifest.hpp"

using namespace flowaction;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "--manifest") {
    std::ofstream(argv[4]) << oracle::manifest(
        bench::alternating_model(std::atoi(argv[2]), std::atoi(argv[3]), 1));
    return 0;
  }
  const int d = argc > 1 ? std::atoi(argv[1]) : 64, L = argc > 2 ? std::atoi(argv[2]) : 8,
            K = argc > 3 ? std::atoi(argv[3]) : 4;
  const bool coupling = argc > 4 && std::string(argv[4]) == "coupling";
  const int H = argc > 5 ? std::atoi(argv[5]) : 16;
  const Model model = parse_manifest(oracle::manifest(coupling ? bench::coupling_model(d, L, H, 1)
                                                               : bench::alternating_model(d, L, 1)),
                                     "bench");
  const auto layers = instantiate<double>(model);
  ActionInfo info;
  info.field = field_kind::float64;
  info.source = "bench";
  info.at.assign(static_cast<std::size_t>(d), "0");
  extract_action(layers, d, std::vector<double>(d, 0.0), K, false);  // index tables, warm caches
  fmt::print("float field, d = {}, L = {}, K = {} ({})\n", d, L, K,
             coupling ? fmt::format("additive couplings, {} hidden units, cubic", H)
                      : std::string("alternating affine/activation"));
  // What two threads can gain on this machine right now (other jobs share the cores): an
  // embarrassingly parallel loop through parallel_for, on 1 thread and on all.
  const auto control = [](unsigned t) {
    set_threads(t);
    std::vector<double> sums(64, 0.0);
    const auto t0 = clock_type::now();
    parallel_for(sums.size(), [&](std::size_t i) {
      double x = 0;
      for (long n = 0; n < 4000000; ++n) x += static_cast<double>(n ^ static_cast<long>(i)) * 1e-9;
      sums[i] = x;
    });
    const double elapsed = seconds_since(t0);
    return sums[0] == -1 ? 0 : elapsed;
  };
  const double ceiling = control(1) / control(hardware_threads());
  fmt::print("  a perfectly parallel loop runs {:.2f}x faster on {} threads than on 1 here now\n",
             ceiling, hardware_threads());
  double base[3] = {0, 0, 0};
  for (unsigned t : {1u, hardware_threads()}) {
    set_threads(t);
    auto t0 = clock_type::now();
    const Action<double> a = extract_action(layers, d, std::vector<double>(d, 0.0), K, false);
    double times[3] = {seconds_since(t0), 0, 0};
    for (int f = 1; f <= 2; ++f) {
      std::ofstream out("/dev/null");
      t0 = clock_type::now();
      print(a, info, *make_print_context(f == 1 ? "json" : "text", out));
      out.flush();
      times[f] = seconds_since(t0);
    }
    if (t == 1) std::copy(times, times + 3, base);
    fmt::print(
        "  {} thread{}: pullback {:.3f} s; JSON {:.3f} s ({:.2f}x the pullback); text {:.3f} s "
        "({:.2f}x)",
        t, t == 1 ? " " : "s", times[0], times[1], times[1] / times[0], times[2],
        times[2] / times[0]);
    if (t == 1)
      fmt::print("\n");
    else
      fmt::print("; speed-up over 1 thread: pullback {:.2f}x, JSON {:.2f}x, text {:.2f}x\n",
                 base[0] / times[0], base[1] / times[1], base[2] / times[2]);
  }
  return 0;
}
