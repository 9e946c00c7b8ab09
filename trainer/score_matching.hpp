// Score matching (Hyvärinen, "Estimation of non-normalized statistical models by score
// matching", JMLR 6, 2005) of a polynomial action: the baseline a physicist fits to the same
// samples a flow is trained on (DESIGN §10).
//
// With S_c(x) = Σ_α c_α x^α over a basis of monomials (no constant: it cancels), the objective
// E[½|∇S_c|² − ΔS_c] is quadratic in c, so c solves one linear system A c = b with
// A_{αβ} = E[∇x^α · ∇x^β] and b_α = E[Δx^α]. No normalisation is needed.
#pragma once

#include <Eigen/Dense>
#include <vector>

namespace flowaction::train {

// A monomial x^α as its sorted multi-index (x₀²x₂ is {0, 0, 2}).
using monomial = std::vector<int>;

// Every monomial of degree 1 … max_degree in d variables, by degree, then in reading order.
std::vector<monomial> all_monomials(int d, int max_degree);

// The monomials of degree 1 … max_degree whose units are pairwise equal or neighbours
// (neighbours[i] lists the units next to unit i): local terms and nearest-neighbour couplings,
// the basis that stays affordable on large lattices.
std::vector<monomial> local_monomials(const std::vector<std::vector<int>>& neighbours,
                                      int max_degree);

struct ScoreMatchingFit {
  std::vector<monomial> basis;
  Eigen::VectorXd coefficients;  // c_α of x^α; the vertex is Γ_α = α! c_α
  double objective = 0;          // ½ cᵀAc − bᵀc at the solution (per sample)
};

// data: d × N, one sample per column. ridge adds ridge·I to A (0: none). Throws flowaction::Error
// when A is singular (too few samples for the basis).
ScoreMatchingFit score_matching(const Eigen::MatrixXd& data, const std::vector<monomial>& basis,
                                double ridge = 0);

}  // namespace flowaction::train
