// The one place where the trainer's double-precision Flow and the engine's Model meet: both
// directions of the conversion, so that `generate` reads every manifest (inline tensors or
// tensor files) through the one manifest reader and `train` writes through the one writer.
// Lives here, not in trainer/, to keep the trainer free of GiNaC.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "trainer/flow_model.hpp"

namespace flowaction {

struct Model;  // engine/model.hpp; not included so that trainer code can use this header

// Every weight rounded to the nearest double. The trainer knows φ(u) = u + αu² and u + αu³ and
// positive ActNorm scales only: anything else is an Error naming the file, layer and field.
train::Flow to_train_flow(const Model& model);

// Every double as the shortest decimal that reads back to it (exact in the model, so the exact
// field sees the decimals the file holds): activations as per-unit "coeffs", [1, α] for
// quadratic and [1, 0, α] for cubic ones, ActNorm as its scale exp θ and shift.
Model to_model(const train::Flow& flow, const std::string& source = "trained flow");

// read_manifest / parse_manifest followed by to_train_flow.
train::Flow read_train_flow(const std::filesystem::path& path);
train::Flow parse_train_flow(std::string_view text, const std::string& source);

// The manifest text of a trained flow: manifest_json(to_model(flow)).
std::string manifest_json(const train::Flow& flow);

}  // namespace flowaction
