// An architecture without weights (closed-form --arch): the layer types, data -> latent, with
// the shape of each nonlinearity and whether biases are present. Its weights stay symbolic
// tensors of any dimension d.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace flowaction {

struct ArchLayer {
  enum class kind { affine, activation, coupling, actnorm };
  kind type = kind::affine;
  // φ of an activation or coupling: u + αu^power (α per unit), or, with coefficients,
  // u + Σ_{k=2}^{degree} c_k u^k (one c_k per unit).
  int degree = 1;
  bool coefficients = false;
  bool bias = false;
  std::string token;  // as written in the SPEC
};

struct Architecture {
  std::vector<ArchLayer> layers;  // data -> latent
};

// "affine,activation:cubic,coupling" -> the layers. Tokens: affine, activation, coupling,
// actnorm; modifiers after ':': quadratic (default), cubic, degreeP (P >= 2), bias.
// Throws flowaction::Error naming the token.
Architecture parse_architecture(std::string_view spec);

// What the SPEC grammar accepts, for messages and --help.
std::string_view architecture_grammar();

}  // namespace flowaction
