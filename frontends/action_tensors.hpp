// The vertices of a float-field action as binary tensors, for NumPy and PyTorch (extract --format
// npz | safetensors). For each order k = 0 … K:
//   gamma{k}_index  int32, shape (n, k): the sorted 0-based multi-indices of the n nonzero
//                   components, in the order of the JSON "vertices" list;
//   gamma{k}_value  float64, shape (n,): their values;
// or with dense, gamma{k}: float64 of shape (d,)·k, every permutation of an index holding its
// component (a full symmetric array). With --per-layer, every stage s = 0 … L in the order of the
// JSON "stages" list (0: the latent Gaussian of z, L: the data's action) as the same tensors
// named stage{s}_gamma{k}…, and stage{s}_at (float64, (d,)): the point that stage is expanded
// around. The exact and symbolic fields are not written as binary.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/action.hpp"
#include "frontends/safetensors.hpp"

namespace flowaction {

// "npz" or "safetensors".
bool is_binary_format(std::string_view format);

// Tensor names start with prefix.
std::vector<RawTensor> action_tensors(const Action<double>& action, bool dense,
                                      const std::string& prefix = "");
// --per-layer: the stages of a float-field extraction.
std::vector<RawTensor> stage_tensors(const std::vector<ActionStage>& stages, bool dense);

// Bytes of the dense tensors of orders 0 … order over dim units (8 d^k each).
double dense_bytes(int dim, int order);

// Bytes the binary output of orders 0 … order over dim units needs in memory while it is written
// (every component counted, as the memory check before an extraction does), for `actions`
// actions (--per-layer: the layers and the latent one). Either format is written from these
// tensors as it goes, so it needs no more.
double binary_output_bytes(int dim, int order, bool dense, int actions = 1);

}  // namespace flowaction
