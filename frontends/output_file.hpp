// Output files appear whole or not at all: written to a temporary name beside the target, then
// renamed over it.
#pragma once

#include <filesystem>
#include <string_view>

namespace flowaction {

// Throws flowaction::Error naming the file if it cannot be written; the target is untouched then.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

}  // namespace flowaction
