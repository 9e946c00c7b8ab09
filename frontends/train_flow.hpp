// The trainer's double-precision Flow of a model read by read_manifest, so that `generate` reads
// every manifest (inline tensors or tensor files) through the one manifest reader. Lives here, not
// in trainer/, to keep the trainer free of GiNaC.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "trainer/flow_model.hpp"

namespace flowaction {

struct Model;  // engine/model.hpp; not included so that trainer code can use this header

// Every weight rounded to the nearest double. The trainer knows φ(u) = u + αu² and u + αu³ only:
// other "coeffs" are an Error naming the file, layer and field.
train::Flow to_train_flow(const Model& model);

// read_manifest / parse_manifest followed by to_train_flow.
train::Flow read_train_flow(const std::filesystem::path& path);
train::Flow parse_train_flow(std::string_view text, const std::string& source);

}  // namespace flowaction
