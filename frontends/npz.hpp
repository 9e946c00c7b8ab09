// NumPy .npz archives (numpy.savez and savez_compressed): a zip of .npy members, read through
// libzip from memory. Member "NAME.npy" is tensor NAME. Declared member sizes are checked before
// anything is inflated, so a zip bomb is refused instead of filling memory.
//
// Written as numpy.savez writes them (members stored, not compressed), straight to a stream: each
// member's bytes are known before it is written, so the archive is never held in memory and
// needs no seeking (standard output and pipes work). Zip64 records are used where a size or
// offset does not fit 32 bits (d = 256 order 4: 4.4 GB).
#pragma once

#include <cstddef>
#include <ostream>
#include <span>
#include <string_view>
#include <vector>

#include "frontends/safetensors.hpp"
#include "frontends/tensor_file.hpp"

namespace flowaction {

TensorFile parse_npz(std::span<const std::byte> bytes, std::string_view name);

// Tensor t becomes member t.name + ".npy" (dtypes I32 and F64). zip64: use the Zip64 records
// even where the sizes fit (for tests of that path).
void write_npz(std::ostream& out, const std::vector<RawTensor>& tensors, bool zip64 = false);

}  // namespace flowaction
