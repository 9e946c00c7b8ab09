// Input files (manifests, tensor files, samples, actions) are read whole through one function
// that first checks what the path is: a directory, FIFO, device or socket is refused with a
// message naming it (a FIFO would wait for a writer, /dev/zero never ends), and so is a file
// larger than the cap of its format, before its bytes are read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace flowaction {

// The caps: what a manifest, a tensor file, a sample file and an action file may hold (the action
// reader keeps at most 1e8 components, a few bytes each at the least).
inline constexpr std::uint64_t max_manifest_bytes = std::uint64_t{256} << 20;
inline constexpr std::uint64_t max_tensor_file_bytes = std::uint64_t{1} << 30;
inline constexpr std::uint64_t max_samples_bytes = std::uint64_t{8} << 30;
inline constexpr std::uint64_t max_action_bytes = std::uint64_t{1} << 30;

// The bytes of the regular file at path (symbolic links followed). what says what the file should
// be, for messages ("a flowaction/1 manifest"). Throws flowaction::Error "PATH: …" if the path
// does not exist, is not a regular file, or holds more than cap bytes.
std::string read_input_file(const std::filesystem::path& path, std::string_view what,
                            std::uint64_t cap);

// "a directory", "a FIFO", "a character device", … for a st_mode that is not a regular file.
std::string_view file_type_name(unsigned mode);

}  // namespace flowaction
