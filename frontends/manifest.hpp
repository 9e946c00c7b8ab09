// The model manifest, format "flowaction/1" (DESIGN §3), with inline tensors.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "engine/model.hpp"

namespace flowaction {

// Reads and checks a manifest; throws flowaction::Error naming file, layer and field.
Model read_manifest(const std::filesystem::path& path);
Model parse_manifest(std::string_view text, const std::string& source);

}  // namespace flowaction
