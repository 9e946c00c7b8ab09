// Reads a flowaction/1 manifest with inline tensors into a double-precision Flow, for generate.
//
// Supported: affine (W, optional b); activation with "alpha" (φ(u) = u + αu², scalar or per unit)
// or "coeffs" describing u + αu² or u + αu³ (shared vector or one row per unit); coupling with
// mask, W1, b1, alpha|coeffs, W2, b2. Tensors stored in an external file are not supported here.
#pragma once

#include <filesystem>
#include <string_view>

#include "trainer/flow_model.hpp"

namespace flowaction::train {

Flow parse_model(std::string_view json_text, std::string_view name);
Flow read_model(const std::filesystem::path& path);

}  // namespace flowaction::train
