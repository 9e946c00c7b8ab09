#include "diagrams/diagram.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <boost/property_map/function_property_map.hpp>
#include <map>
#include <mutex>
#include <stdexcept>

#include "diagrams/automorphisms.hpp"

namespace flowaction::diagrams {

std::uint64_t factorial(int n) {
  std::uint64_t f = 1;
  for (int i = 2; i <= n; ++i) f *= static_cast<std::uint64_t>(i);
  return f;
}

namespace {

int colour_of(const node& v) {
  return static_cast<int>(v.kind) + 4 * v.legs;
}

// The least rotation of a cyclic sequence, so that rotations name one class.
std::vector<int> least_rotation(const std::vector<int>& s) {
  std::vector<int> best = s;
  std::vector<int> r = s;
  for (std::size_t i = 1; i < s.size(); ++i) {
    std::rotate(r.begin(), r.begin() + 1, r.end());
    best = std::min(best, r);
  }
  return best;
}

}  // namespace

Diagram::Diagram(diagram_kind kind, std::vector<int> sizes)
    : kind_(kind), sizes_(std::move(sizes)) {
  for (int m : sizes_) {
    if (m < 1) throw std::invalid_argument("Diagram: a layer vertex needs at least one leg");
    order_ += m;
  }
  auto add_legs = [&](graph::vertex_descriptor from, int m) {
    for (int j = 0; j < m; ++j)
      boost::add_edge(from, boost::add_vertex(node{node_kind::external, 0}, graph_), graph_);
  };
  if (kind_ == diagram_kind::tree) {
    std::sort(sizes_.begin(), sizes_.end(), std::greater<>());
    const auto old = boost::add_vertex(node{node_kind::action_vertex, vertex_count()}, graph_);
    for (int m : sizes_) {
      const auto fan = boost::add_vertex(node{node_kind::fan, m}, graph_);
      boost::add_edge(old, fan, graph_);
      add_legs(fan, m);
    }
    sign_ = 1;
  } else {
    if (sizes_.empty()) throw std::invalid_argument("Diagram: a ring needs a vertex");
    sizes_ = least_rotation(sizes_);
    const std::size_t r = sizes_.size();
    std::vector<graph::vertex_descriptor> ring(r);
    for (std::size_t s = 0; s < r; ++s)
      ring[s] = boost::add_vertex(node{node_kind::ring, sizes_[s]}, graph_);
    for (std::size_t s = 0; s < r; ++s) boost::add_edge(ring[s], ring[(s + 1) % r], graph_);
    for (std::size_t s = 0; s < r; ++s) add_legs(ring[s], sizes_[s]);
    sign_ = (r % 2 == 0) ? 1 : -1;
  }
  if (order_ > max_order)
    throw std::length_error("Diagram: more legs than a 64-bit multiplicity holds");
  automorphisms_ = count_automorphisms(
      graph_, boost::make_function_property_map<graph::vertex_descriptor>(
                  [this](graph::vertex_descriptor v) { return colour_of(graph_[v]); }));
  multiplicity_ = factorial(order_) / automorphisms_;
}

Diagram Diagram::tree(std::vector<int> fan_sizes) {
  return Diagram(diagram_kind::tree, std::move(fan_sizes));
}
Diagram Diagram::ring(std::vector<int> cyclic_sizes) {
  return Diagram(diagram_kind::ring, std::move(cyclic_sizes));
}

int Diagram::max_derivative() const {
  const int m = sizes_.empty() ? 0 : *std::max_element(sizes_.begin(), sizes_.end());
  return kind_ == diagram_kind::tree ? m : m + 1;
}

std::string Diagram::describe() const {
  if (kind_ == diagram_kind::tree)
    return fmt::format("tree: Gamma^({}) with fans G^(m), m = ({}); {} labelled copies, |Aut| = {}",
                       vertex_count(), fmt::join(sizes_, ","), multiplicity_, automorphisms_);
  return fmt::format(
      "ring: {} vertices G^(m+1), m = ({}) around the cycle; {} labelled copies, |Aut| = {}, sign "
      "{:+d}",
      vertex_count(), fmt::join(sizes_, ","), multiplicity_, automorphisms_, sign_);
}

std::vector<Diagram> tree_diagrams(int n) {
  std::vector<Diagram> out;
  if (n == 0) {
    out.push_back(Diagram::tree({}));
    return out;
  }
  // Integer partitions of n, parts nonincreasing.
  std::vector<int> parts;
  auto rec = [&](auto&& self, int rest, int max_part) -> void {
    if (rest == 0) {
      out.push_back(Diagram::tree(parts));
      return;
    }
    for (int m = std::min(rest, max_part); m >= 1; --m) {
      parts.push_back(m);
      self(self, rest - m, m);
      parts.pop_back();
    }
  };
  rec(rec, n, n);
  return out;
}

std::vector<Diagram> ring_diagrams(int n) {
  std::vector<Diagram> out;
  if (n < 1) return out;
  // Compositions of n whose sequence is its own least rotation: one per class.
  std::vector<int> parts;
  auto rec = [&](auto&& self, int rest) -> void {
    if (rest == 0) {
      if (least_rotation(parts) == parts) out.push_back(Diagram::ring(parts));
      return;
    }
    for (int m = 1; m <= rest; ++m) {
      parts.push_back(m);
      self(self, rest - m);
      parts.pop_back();
    }
  };
  rec(rec, n);
  return out;
}

const std::vector<Diagram>& layer_diagrams(layer_kind layer, int n) {
  static std::mutex mutex;
  static std::map<std::pair<layer_kind, int>, std::vector<Diagram>> cache;
  const std::lock_guard lock(mutex);
  auto [it, inserted] = cache.try_emplace({layer, n});
  if (inserted) {
    std::vector<Diagram>& set = it->second;
    for (Diagram& t : tree_diagrams(n))
      if (layer != layer_kind::affine || t.max_derivative() <= 1) set.push_back(std::move(t));
    if (layer == layer_kind::activation)
      for (Diagram& r : ring_diagrams(n)) set.push_back(std::move(r));
  }
  return it->second;
}

}  // namespace flowaction::diagrams
