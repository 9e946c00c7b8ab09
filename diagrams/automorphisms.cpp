#include "diagrams/automorphisms.hpp"

#include <limits>

namespace flowaction::diagrams {

namespace {

struct search {
  const std::vector<int>& colour;
  const std::vector<std::vector<int>>& count;
  std::size_t n;
  std::vector<int> image;  // image[v] or -1
  std::vector<bool> used;

  bool consistent(std::size_t v, std::size_t w) const {
    if (colour[v] != colour[w] || count[v][v] != count[w][w]) return false;
    for (std::size_t u = 0; u < n; ++u) {
      if (image[u] < 0) continue;
      const auto iu = static_cast<std::size_t>(image[u]);
      if (count[v][u] != count[w][iu] || count[u][v] != count[iu][w]) return false;
    }
    return true;
  }

  // Completes the partial map to an automorphism if one exists.
  bool extend(std::size_t from) {
    std::size_t v = from;
    while (v < n && image[v] >= 0) ++v;
    if (v == n) return true;
    for (std::size_t w = 0; w < n; ++w) {
      if (used[w] || !consistent(v, w)) continue;
      image[v] = static_cast<int>(w);
      used[w] = true;
      const bool ok = extend(v + 1);
      image[v] = -1;
      used[w] = false;
      if (ok) return true;
    }
    return false;
  }
};

}  // namespace

std::uint64_t count_automorphisms_of_matrix(const std::vector<int>& colour,
                                            const std::vector<std::vector<int>>& edge_count) {
  const std::size_t n = colour.size();
  search s{colour, edge_count, n, std::vector<int>(n, -1), std::vector<bool>(n, false)};
  std::uint64_t total = 1;
  for (std::size_t v = 0; v < n; ++v) {
    // Orbit of v under the automorphisms that fix vertices 0 … v-1.
    std::uint64_t orbit = 0;
    for (std::size_t w = 0; w < n; ++w) {
      if (s.used[w] || !s.consistent(v, w)) continue;
      s.image[v] = static_cast<int>(w);
      s.used[w] = true;
      if (s.extend(v + 1)) ++orbit;
      s.image[v] = -1;
      s.used[w] = false;
    }
    if (orbit > std::numeric_limits<std::uint64_t>::max() / total) return 0;  // overflow
    total *= orbit;
    s.image[v] = static_cast<int>(v);
    s.used[v] = true;
  }
  return total;
}

}  // namespace flowaction::diagrams
