// The true vertices of a lattice φ⁴ (+ φ³) theory in the normalisation of DESIGN §2, as an action
// that the printers write and verify compares against: Γ⁽²⁾ = −Δ + m², Γ⁽³⁾ₓₓₓ = κ, Γ⁽⁴⁾ₓₓₓₓ = λ.
#pragma once

#include "engine/action.hpp"
#include "trainer/phi4_sampler.hpp"

namespace flowaction {

struct TrueAction {
  Action<double> action;  // orders 0 … 4; Γ⁽⁰⁾ = ln Z is not included (0)
  ActionInfo info;
};

TrueAction phi4_truth(const train::Phi4Theory& theory);

}  // namespace flowaction
