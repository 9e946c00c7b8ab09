#include "engine/sym_tensor.hpp"

#include <limits>
#include <stdexcept>

namespace flowaction {

std::uint64_t binomial(std::uint64_t n, std::uint64_t k) {
  if (k > n) return 0;
  if (k > n - k) k = n - k;
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t r = 1;
  for (std::uint64_t i = 1; i <= k; ++i) {
    // r * (n - k + i) / i is exact at every step; guard the product.
    const std::uint64_t f = n - k + i;
    const std::uint64_t g = r / i, rem = r % i;
    if (g > max / f) return max;
    const std::uint64_t hi = g * f;
    const std::uint64_t lo = rem * f / i;  // rem < i, so rem * f / i < f: no overflow for f < 2^63
    if (hi > max - lo) return max;
    r = hi + lo;
  }
  return r;
}

std::uint64_t sym_size(int dim, int order) {
  if (order == 0) return 1;
  if (dim == 0) return 0;
  return binomial(static_cast<std::uint64_t>(dim) + order - 1, static_cast<std::uint64_t>(order));
}

SymShape::SymShape(int dim, int order) : dim_(dim), order_(order) {
  if (dim < 0 || order < 0) throw std::invalid_argument("SymShape: negative dimension or order");
  const std::uint64_t n = sym_size(dim, order);
  if (n == std::numeric_limits<std::uint64_t>::max() ||
      n > std::numeric_limits<std::size_t>::max() / 16)
    throw std::length_error("SymShape: tensor too large");
  size_ = static_cast<std::size_t>(n);
  stride_ = static_cast<std::size_t>(dim + order);
  table_.assign(static_cast<std::size_t>(order) * stride_, 0);
  for (int p = 0; p < order; ++p)
    for (std::size_t c = 0; c < stride_; ++c)
      table_[p * stride_ + c] =
          static_cast<std::size_t>(binomial(c, static_cast<std::uint64_t>(p + 1)));
}

multi_index SymShape::unrank(std::size_t r) const {
  multi_index index(order_, 0);
  // Greedy from the last position: the largest c with C(c, p + 1) <= r.
  for (int p = order_ - 1; p >= 0; --p) {
    std::size_t c = static_cast<std::size_t>(p);
    while (c + 1 < stride_ && table_[p * stride_ + c + 1] <= r) ++c;
    r -= table_[p * stride_ + c];
    index[p] = static_cast<int>(c) - p;
  }
  return index;
}

bool SymShape::next(multi_index& index) const {
  for (int p = 0; p < order_; ++p) {
    const int limit = (p + 1 < order_) ? index[p + 1] : dim_ - 1;
    if (index[p] < limit) {
      ++index[p];
      for (int q = 0; q < p; ++q) index[q] = 0;
      return true;
    }
  }
  return false;
}

bool next_lex(multi_index& index, int dim, std::size_t from) {
  for (int p = static_cast<int>(index.size()) - 1; p >= static_cast<int>(from); --p) {
    if (index[p] < dim - 1) {
      ++index[p];
      for (std::size_t q = p + 1; q < index.size(); ++q) index[q] = index[p];
      return true;
    }
  }
  return false;
}

std::uint64_t multiplicity_factorial(std::span<const int> sorted_index) {
  std::uint64_t f = 1;
  std::uint64_t run = 0;
  for (std::size_t p = 0; p < sorted_index.size(); ++p) {
    run = (p > 0 && sorted_index[p] == sorted_index[p - 1]) ? run + 1 : 1;
    f *= run;
  }
  return f;
}

}  // namespace flowaction
