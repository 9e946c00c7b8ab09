// Writes a Model as a flowaction/1 manifest with inline tensors (DESIGN §3), field by field as
// the layer registry lists them; the reader (frontends/manifest.hpp) reads it back to the same
// exact values.
#pragma once

#include <string>

#include "engine/model.hpp"

namespace flowaction {

// Numbers are written as exact decimals (every value must have a terminating decimal expansion,
// as everything read from JSON or a binary tensor file has); one matrix row per line.
std::string manifest_json(const Model& model);

// The shortest exact decimal of a rational with a terminating expansion ("0.1", "-2.5e-20");
// throws flowaction::Error for other rationals (1/3).
std::string exact_decimal(const GiNaC::numeric& q);

}  // namespace flowaction
