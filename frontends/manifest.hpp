// The model manifest, format "flowaction/1" (DESIGN §3), with tensors inline or in a tensor file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "engine/model.hpp"

namespace flowaction {

// Reads and checks a manifest; throws flowaction::Error naming file, layer and field (and the
// tensor, for tensors read from the file named by "tensors", which is relative to base_dir).
Model read_manifest(const std::filesystem::path& path);
Model parse_manifest(std::string_view text, const std::string& source,
                     const std::filesystem::path& base_dir = {});

}  // namespace flowaction
