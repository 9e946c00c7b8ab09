// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N
// bytes of JSON {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}},
// then the little-endian data, offsets relative to its start. Read strictly: offsets must lie in
// the data, tensors may not overlap or leave holes, and each byte range must match its shape.
#pragma once

#include <cstddef>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "frontends/tensor_file.hpp"

namespace flowaction {

// Supported dtypes: F64, F32, F16, BF16, I32 (index tables).
TensorFile parse_safetensors(std::span<const std::byte> bytes, std::string_view name);

// One tensor to write: dtype F64/F32/F16/BF16/I32 and its raw little-endian bytes.
struct RawTensor {
  std::string name, dtype;
  std::vector<std::size_t> shape;
  std::string data;
};
// A safetensors file holding the tensors in the given order, written to out as it goes (extract
// --format safetensors), or as bytes (for tests and tools).
void write_safetensors(std::ostream& out, const std::vector<RawTensor>& tensors);
std::string safetensors_bytes(const std::vector<RawTensor>& tensors);

}  // namespace flowaction
