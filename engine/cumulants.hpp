// Perturbative cumulants of an action by Feynman diagrams (DESIGN §6).
//
// Around the expansion point, S(x₀+δ) = Γ⁽⁰⁾ + Γ⁽¹⁾δ + ½δΓ⁽²⁾δ + Σ_{k≥3} Γ⁽ᵏ⁾δᵏ/k!. The Gaussian
// part gives the propagator G = (Γ⁽²⁾)⁻¹; the rest are vertices −Γ⁽ᵏ⁾ (k ≥ 3) and −Γ⁽¹⁾. The
// connected n-point function is the sum over connected diagrams with n legs, each labelled
// diagram weighted by 1/S (diagrams/feynman.hpp), and ln(Z/Z₀) the sum over vacuum diagrams.
#pragma once

#include <vector>

#include "diagrams/feynman.hpp"
#include "engine/action.hpp"

namespace flowaction {

// The sentence every cumulant output carries.
inline constexpr const char* cumulant_convention =
    "W^(n)_{i1..in} = <x_i1 ... x_in>_c, the connected n-point function (cumulant) of x under "
    "p(x) ~ exp(-S(x)), 1-point including x0; ln(Z/Z0) with Z = integral of exp(-(S - "
    "Gamma^(0))) and Z0 = integral of exp(-1/2 d.Gamma^(2).d), d = x - x0. Perturbative: connected "
    "Feynman diagrams with propagator G = (Gamma^(2))^-1 and vertices -Gamma^(k) (k >= 3) and "
    "-Gamma^(1), each labelled diagram (legs told apart) weighted by 1/S, S the number of its "
    "automorphisms that fix every leg, "
    "up to the given loops (independent cycles, plus one per Gamma^(1) vertex). A component is "
    "named by its sorted 0-based multi-index.";

struct CumulantRequest {
  int loops = 1;  // keep diagrams with at most this many loops
  int order = 4;  // connected n-point functions for n = 1 … order
};

template <class T>
struct Cumulants {
  int dim = 0;
  int loops = 0;
  T log_z = T(0);                       // ln(Z/Z₀)
  std::vector<SymTensor<T>> connected;  // connected[n] = W⁽ⁿ⁾, n = 0 … order (W⁽⁰⁾ stays 0)
  int order() const { return static_cast<int>(connected.size()) - 1; }
};

// The vertices an action has: valences k ≥ 3 with a nonzero Γ⁽ᵏ⁾, and whether Γ⁽¹⁾ ≠ 0.
template <Field T>
diagrams::FeynmanRules feynman_rules(const Action<T>& action);

// G = (Γ⁽²⁾)⁻¹ as a d×d row-major matrix, exact in the exact field. Throws flowaction::Error if
// Γ⁽²⁾ is singular or not positive definite (a symbolic Γ⁽²⁾ is checked where it is numeric).
template <Field T>
std::vector<T> propagator(const Action<T>& action);

// The diagrams' ingredients: G and the dense vertex tensors −Γ⁽ᵏ⁾ the rules use.
template <class T>
struct FeynmanInputs {
  int dim = 0;
  std::vector<T> propagator;           // d×d
  std::vector<std::vector<T>> vertex;  // vertex[k]: −Γ⁽ᵏ⁾ over dᵏ entries (k = 1 and k ≥ 3)
};
template <Field T>
FeynmanInputs<T> feynman_inputs(const Action<T>& action, const diagrams::FeynmanRules& rules);

// The value of one diagram with its legs 0 … n−1 carrying the indices i₀ … i_{n−1}: a dense
// tensor over dⁿ entries, row-major (leg 0 slowest), contracted as engine/diagram_contraction.hpp
// describes.
template <Field T>
std::vector<T> diagram_value(const diagrams::FeynmanDiagram& d, const FeynmanInputs<T>& in);

// ln(Z/Z₀) and W⁽ⁿ⁾, n = 1 … order, with x0 the expansion point (added to W⁽¹⁾). Exact
// rationals are contracted as integers over common denominators (no gcd per product). Throws
// flowaction::Error for a singular or indefinite Γ⁽²⁾ or an intermediate tensor too large.
template <Field T>
Cumulants<T> cumulants(const Action<T>& action, const std::vector<T>& x0,
                       const CumulantRequest& request);

}  // namespace flowaction
