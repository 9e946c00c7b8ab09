// A closed form evaluated for concrete weights: the check that it is right (tests compare it
// with the engine's exact vertices of the same model) and a way to use it numerically.
#pragma once

#include <vector>

#include "engine/action.hpp"
#include "engine/closed_form.hpp"
#include "engine/model.hpp"

namespace flowaction {

// The vertices the closed form gives for the model's weights at x₀ (empty: the origin), in
// double precision. The model's layers must match the architecture (types in order; an
// activation's φ of the architecture's shape). Throws flowaction::Error otherwise.
Action<double> evaluate(const ClosedForm& form, const Model& model,
                        const std::vector<double>& x0 = {});

}  // namespace flowaction
