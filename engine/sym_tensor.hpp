// Symmetric tensors stored once per unique component.
//
// A component of a symmetric tensor of order k over d units is named by its sorted multi-index
// i_1 <= ... <= i_k. Components are stored contiguously in colexicographic order, whose rank
// sum_p C(i_p + p - 1, p) does not depend on d: a tensor over fewer units is a prefix.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/huge_pages.hpp"

namespace flowaction {

using multi_index = std::vector<int>;

// Binomial coefficient C(n, k); saturates at UINT64_MAX instead of overflowing.
std::uint64_t binomial(std::uint64_t n, std::uint64_t k);

// Number of unique components of a symmetric tensor of order k over d units: C(d + k - 1, k).
std::uint64_t sym_size(int dim, int order);

// Shape of a symmetric tensor: dimension, order, cached binomials for fast ranks.
class SymShape {
 public:
  SymShape() = default;
  SymShape(int dim, int order);

  int dim() const { return dim_; }
  int order() const { return order_; }
  std::size_t size() const { return size_; }

  // Colex rank of a sorted multi-index of this order.
  std::size_t rank(std::span<const int> sorted_index) const {
    std::size_t r = 0;
    for (int p = 0; p < order_; ++p) r += rank_term(p, sorted_index[p] + p);
    return r;
  }
  // C(c, p + 1): what unit c − p at position p adds to a colex rank (p < order, c < dim + order),
  // for ranks summed term by term without building the index.
  std::size_t rank_term(int p, int c) const {
    return table_[static_cast<std::size_t>(p) * stride_ + static_cast<std::size_t>(c)];
  }
  // The multi-index of rank r (inverse of rank).
  multi_index unrank(std::size_t r) const;
  // First multi-index (all zeros) and colex successor; next() returns false past the last one.
  multi_index first() const { return multi_index(order_, 0); }
  bool next(multi_index& index) const;

 private:
  int dim_ = 0;
  int order_ = 0;
  std::size_t size_ = 1;
  std::size_t stride_ = 0;
  std::vector<std::size_t> table_;  // table_[p * stride_ + c] = C(c, p + 1)
};

// Lexicographic successor of a sorted multi-index over dim units (for output in reading order);
// false past the last one. Positions before `from` stay fixed (the successor among the indices
// with that prefix).
bool next_lex(multi_index& index, int dim, std::size_t from = 0);

// α! = Π_u α_u! for the multiplicities α of a sorted multi-index (the monomial coefficient of
// δ^α is Γ_α / α!).
std::uint64_t multiplicity_factorial(std::span<const int> sorted_index);

// A symmetric tensor with coefficients in field T.
template <class T>
class SymTensor {
 public:
  SymTensor() = default;
  SymTensor(int dim, int order) : shape_(dim, order) { assign_advised(data_, shape_.size(), T(0)); }

  const SymShape& shape() const { return shape_; }
  int dim() const { return shape_.dim(); }
  int order() const { return shape_.order(); }
  std::size_t size() const { return data_.size(); }

  T& operator[](std::size_t r) { return data_[r]; }
  const T& operator[](std::size_t r) const { return data_[r]; }
  T& at(std::span<const int> sorted_index) { return data_[shape_.rank(sorted_index)]; }
  const T& at(std::span<const int> sorted_index) const { return data_[shape_.rank(sorted_index)]; }

  std::vector<T>& data() { return data_; }
  const std::vector<T>& data() const { return data_; }

 private:
  SymShape shape_;
  std::vector<T> data_;
};

}  // namespace flowaction
