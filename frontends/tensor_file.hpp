// The tensor file a manifest names with "tensors" (DESIGN §3): a .safetensors file or a NumPy
// .npz archive, parsed and checked as a whole before any tensor is used. Both formats decode to
// doubles without rounding (every supported dtype is a subset of double); exact_value turns
// those into the exact dyadic rationals the engine computes with.
#pragma once

#include <ginac/ginac.h>

#include <cstddef>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model.hpp"

namespace flowaction {

struct StoredTensor {
  std::vector<std::size_t> shape;
  std::string dtype;           // as the file names it: "F32", "BF16", "<f8", ">f4"
  std::vector<double> values;  // C (row-major) order, decoded exactly
};

struct TensorFile {
  std::string name;  // the file, for messages
  std::map<std::string, StoredTensor> tensors;

  // The tensor `key` as the exact manifest Tensor for `field` (rank <= 2, finite values).
  // Throws flowaction::Error "FILE: tensor 'KEY': problem".
  Tensor get(const std::string& key, const std::string& field) const;
};

// The exact rational value m·2^e of a finite double.
GiNaC::numeric exact_value(double x);

// Reads a .safetensors or .npz file, chosen by extension (a regular file of at most
// max_tensor_file_bytes).
TensorFile read_tensor_file(const std::filesystem::path& path);

}  // namespace flowaction
