// NumPy .npz archives (numpy.savez and savez_compressed): a zip of .npy members, read through
// libzip from memory. Member "NAME.npy" is tensor NAME. Declared member sizes are checked before
// anything is inflated, so a zip bomb is refused instead of filling memory.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "frontends/tensor_file.hpp"

namespace flowaction {

TensorFile parse_npz(std::span<const std::byte> bytes, std::string_view name);

}  // namespace flowaction
