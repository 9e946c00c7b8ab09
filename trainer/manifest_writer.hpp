// Writes a trained flow as a flowaction/1 manifest with inline tensors (DESIGN §3).
//
// Numbers are the shortest decimals that read back to the same double, so the engine's exact
// field sees exactly the trained binary values. Cubic activations are written as per-unit
// "coeffs": [[1, 0, α_u], ...] (φ(u) = u + α_u u³); quadratic ones as per-unit "alpha"; actnorm
// layers as "scale" (s = exp θ) and "shift" vectors.
#pragma once

#include <string>

#include "trainer/flow_model.hpp"

namespace flowaction::train {

std::string manifest_json(const Flow& flow);

}  // namespace flowaction::train
