// What verify measures (DESIGN §10): how far an estimated action is from the truth, the cumulants
// of samples and those an action predicts, and the two baselines a physicist would fit to the same
// samples (the Gaussian fit and score matching of a general quartic polynomial action).
#pragma once

#include <Eigen/Dense>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/action.hpp"

namespace flowaction {

// How far an estimated action is from the truth (relative errors are signed means over the
// sites or couplings; NaN where the truth has no such vertex).
struct VertexErrors {
  double gamma2_diagonal = NAN;   // mean (Γᵢᵢ − Tᵢᵢ)/Tᵢᵢ
  double gamma2_couplings = NAN;  // mean over the off-diagonal couplings the truth has
  double gamma3_local = NAN;  // mean (Γᵢᵢᵢ − Tᵢᵢᵢ)/Tᵢᵢᵢ, when the truth has them
  double gamma4_local = NAN;  // mean (Γᵢᵢᵢᵢ − Tᵢᵢᵢᵢ)/Tᵢᵢᵢᵢ
  // Per order k = 1 … 4: the largest |Γ| where the truth is 0, absolute and over the largest true
  // |T| of that order (NaN when the truth has none of that order).
  std::vector<double> spurious_abs, spurious_rel;
  double heldout_nll = NAN;  // nats per sample on the test split (NaN: not normalisable)
};

VertexErrors vertex_errors(const Action<double>& estimate, const Action<double>& truth);

// The cumulants verify compares: site averages of ⟨φᵢ²⟩_c, of ⟨φᵢφⱼ⟩_c over the truth's couplings,
// and of the local third and fourth cumulants ⟨φᵢ³⟩_c, ⟨φᵢ⁴⟩_c.
struct LocalCumulants {
  double c2_diagonal = NAN, c2_couplings = NAN, c3_local = NAN, c4_local = NAN;
};
// Of samples (d × N), by the sample's central moments.
LocalCumulants cumulants_of(const Eigen::MatrixXd& samples, const Action<double>& truth);
// Predicted by an action: its perturbative connected functions (Feynman diagrams up to `loops`
// loops, engine/cumulants.hpp) expanded at 0. Throws flowaction::Error when Γ⁽²⁾ is not positive
// definite.
LocalCumulants perturbative_cumulants(const Action<double>& action, const Action<double>& truth,
                                      int loops);

// A truth: the action samples come from, and a short name for summaries.
struct Truth {
  Action<double> action;
  ActionInfo info;
  std::string name;
};
// Reads an action file ("flowaction-action/1", e.g. the sampler's .truth.json) whose values are
// numbers; throws flowaction::Error naming the file and the first symbolic vertex.
Truth read_truth(const std::filesystem::path& path);

// The baselines of DESIGN §10, fitted to samples (d × N): the Gaussian fit (Γ⁽²⁾ = inverse sample
// covariance, Γ⁽¹⁾ from the mean, Γ⁽⁰⁾ its normalisation) and score matching of a general
// polynomial action of degree 4 (all monomials; on lattices with more than 1000 of them, those
// whose sites are pairwise equal or coupled in the truth's Γ⁽²⁾; Γ⁽⁰⁾ is NaN, never normalised).
Action<double> gaussian_action(const Eigen::MatrixXd& samples, int order);
Action<double> score_matching_action(const Eigen::MatrixXd& samples, const Action<double>& truth,
                                     int order);

}  // namespace flowaction
