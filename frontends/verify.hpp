// `flowaction verify`: from a known theory to a recovered one, judged against the truth and
// against what a physicist would fit to the same samples (DESIGN §10): the Gaussian fit
// (inverse sample covariance) and score matching of a general quartic polynomial action.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "engine/action.hpp"
#include "frontends/verify_measures.hpp"
#include "trainer/phi4_sampler.hpp"
#include "trainer/trainer.hpp"

namespace flowaction {

inline constexpr int perturbative_max_dim = 8;

struct VerifyOptions {
  train::Phi4Theory theory;     // when no data is given
  std::size_t samples = 20000;  // training samples per run; 0 with data: all of it
  std::optional<std::filesystem::path> data, truth, model;  // data and truth go together
  // Loops of the perturbative cumulant predictions; -1: 2 up to perturbative_max_dim units, none
  // above (their dense n-point tensors cost d⁴ per diagram).
  int loops = -1;
  train::FlowSpec spec;
  train::TrainOptions training;
  int order = 4;
  int seeds = 1;
  std::uint64_t seed = 0;
  double test_fraction = 0.2;
  // --sweep KEY=V1,V2,…: layers, samples, epochs or hidden; every combination is a cell.
  std::vector<std::pair<std::string, std::vector<long>>> sweep;
  std::filesystem::path out_dir;
  std::string tex_engine = "pdflatex";
};

// The files verify writes into its folder (report.pdf's LaTeX by-products are removed).
inline constexpr const char* verify_outputs[] = {"metrics.json", "truth.json",  "model.flow.json",
                                                 "learned.json", "samples.npy", "report.tex",
                                                 "report.pdf"};

// Runs every cell and seed, writes out_dir/metrics.json (format "flowaction-verify/1"),
// report.tex (and report.pdf when TeX is present) and the samples, models and actions of the
// first run; a summary on out and progress on err.
void verify(const VerifyOptions& options, std::ostream& out, std::ostream& err);

}  // namespace flowaction
