// `flowaction inspect`: what a model file holds and where it is invertible — layers, tensor
// shapes and dtypes, parameter count, det W of every affine layer, the smallest φ′ at the
// expansion point, and (given samples) which samples leave the invertible domain.
#pragma once

#include <optional>
#include <ostream>
#include <vector>

#include "engine/model.hpp"
#include "frontends/npy.hpp"

namespace flowaction {

struct InspectRequest {
  std::vector<double> at;        // expansion point; empty = origin
  std::optional<NpyArray> data;  // samples x units
  std::string data_name;         // for messages
};

// The parameters of a model, as `inspect` and `train` report them: every number stored in its
// weight tensors (W, b, alpha or coeffs, W1, b1, W2, b2, scale, shift; an absent bias counts 0;
// a coupling's mask is not a weight). A trained cubic activation stores [1, 0, α] per unit, so
// the file holds more numbers than the trainer optimises (α alone); train reports both.
std::size_t parameter_count(const Model& model);

// Writes the report; throws flowaction::Error for samples that do not fit the model.
void inspect(const Model& model, const InspectRequest& request, std::ostream& out);

}  // namespace flowaction
