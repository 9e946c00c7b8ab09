// Symmetry augmentation of lattice data (issue 11): every training sample together with its
// images under a symmetry group of the lattice theory — the lattice's translations and
// reflections (permutations of the sites) and the Z₂ field flip φ → −φ — so that the flow is
// trained on a data set that has the symmetry exactly.
#pragma once

#include <Eigen/Dense>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trainer/phi4_sampler.hpp"

namespace flowaction::train {

struct Augment {
  bool z2 = false;  // add the image φ → −φ of every (permuted) sample
  // Site permutations (x ↦ perm[x] means image[perm[x]] = φ[x]), the identity included, each
  // element of the group once; empty: the identity only.
  std::vector<std::vector<int>> permutations;
  std::string name;  // as given, for messages ("z2,translate")

  bool empty() const { return !z2 && permutations.size() <= 1; }
  // Images per sample: |permutations| (at least 1) times 2 with z2.
  std::size_t images() const;
};

// The site permutations of a lattice (ring or torus, site x = i·n1 + j, periodic): with
// translate every translation, with reflect the reflections i → −i and j → −j (and the swap
// i ↔ j on a square torus); with both the group they generate. Each distinct permutation once,
// the identity first.
std::vector<std::vector<int>> lattice_symmetries(const Lattice& lattice, bool translate,
                                                 bool reflect);

// "z2,translate,reflect" (any subset, comma separated; "none" or "" for nothing). translate and
// reflect need the lattice; without one they are an Error saying so.
Augment parse_augment(std::string_view spec, const std::optional<Lattice>& lattice);

// data (d × N, one sample per column) and its images: column g·N + n is the image of sample n
// under group element g (permutations in order, then the same with the sign flipped for z2).
// Throws flowaction::Error if a permutation's size is not d.
Eigen::MatrixXd augment(const Eigen::MatrixXd& data, const Augment& a);

}  // namespace flowaction::train
