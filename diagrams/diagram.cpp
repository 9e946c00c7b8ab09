#include "diagrams/diagram.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace flowaction::diagrams {

std::uint64_t factorial(int n) {
  std::uint64_t f = 1;
  for (int i = 2; i <= n; ++i) f *= static_cast<std::uint64_t>(i);
  return f;
}

namespace detail {

bool is_least_rotation(const std::vector<int>& s) {
  const std::size_t r = s.size();
  for (std::size_t shift = 1; shift < r; ++shift)
    for (std::size_t i = 0; i < r; ++i) {
      const int a = s[(i + shift) % r], b = s[i];
      if (a < b) return false;
      if (a > b) break;
    }
  return true;
}

}  // namespace detail

namespace {

std::vector<int> least_rotation(std::vector<int> s) {
  std::vector<int> best = s;
  for (std::size_t i = 1; i < s.size(); ++i) {
    std::rotate(s.begin(), s.begin() + 1, s.end());
    best = std::min(best, s);
  }
  return best;
}

int sum(const std::vector<int>& s) {
  int n = 0;
  for (int m : s) {
    if (m < 1) throw std::invalid_argument("diagram class: a layer vertex needs at least one leg");
    n += m;
  }
  if (n > max_order)
    throw std::length_error("diagram class: more legs than a 64-bit multiplicity holds");
  return n;
}

}  // namespace

DiagramClass DiagramClass::tree(std::vector<int> fan_sizes) {
  DiagramClass c;
  c.kind = diagram_kind::tree;
  c.sizes = std::move(fan_sizes);
  std::sort(c.sizes.begin(), c.sizes.end(), std::greater<>());
  const int n = sum(c.sizes);
  // Legs of one fan permute among themselves; fans of equal size permute on the symmetric vertex.
  std::map<int, int> count;
  for (int m : c.sizes) c.automorphisms *= factorial(m), ++count[m];
  for (const auto& [m, k] : count) c.automorphisms *= factorial(k);
  c.multiplicity = factorial(n) / c.automorphisms;
  c.sign = 1;
  return c;
}

DiagramClass DiagramClass::ring(std::vector<int> cyclic_sizes) {
  if (cyclic_sizes.empty()) throw std::invalid_argument("diagram class: a ring needs a vertex");
  DiagramClass c;
  c.kind = diagram_kind::ring;
  c.sizes = least_rotation(std::move(cyclic_sizes));
  const int n = sum(c.sizes);
  // Legs of one vertex permute; rotations that map the size sequence to itself (the trace is
  // oriented: reflections are other terms).
  const std::size_t r = c.sizes.size();
  std::uint64_t rho = 0;
  for (std::size_t shift = 0; shift < r; ++shift) {
    bool same = true;
    for (std::size_t i = 0; i < r && same; ++i) same = c.sizes[(i + shift) % r] == c.sizes[i];
    rho += same;
  }
  c.automorphisms = rho;
  for (int m : c.sizes) c.automorphisms *= factorial(m);
  c.multiplicity = factorial(n) / c.automorphisms;
  c.sign = r % 2 == 0 ? 1 : -1;
  return c;
}

int DiagramClass::order() const {
  int n = 0;
  for (int m : sizes) n += m;
  return n;
}

int DiagramClass::max_derivative() const {
  const int m = sizes.empty() ? 0 : *std::max_element(sizes.begin(), sizes.end());
  return kind == diagram_kind::tree ? m : m + 1;
}

std::vector<DiagramClass> classes(int n, const ClassFilter& filter) {
  std::vector<DiagramClass> out;
  for_each_class(n, filter, [&](const DiagramClass& c) { out.push_back(c); });
  return out;
}

std::vector<DiagramClass> tree_classes(int n) {
  return classes(n, ClassFilter{max_order + 1, false});
}

std::vector<DiagramClass> ring_classes(int n) {
  std::vector<DiagramClass> out = classes(n);
  std::erase_if(out, [](const DiagramClass& c) { return c.kind != diagram_kind::ring; });
  return out;
}

graph to_graph(const DiagramClass& c) {
  graph g;
  auto add_legs = [&](graph::vertex_descriptor from, int m) {
    for (int j = 0; j < m; ++j)
      boost::add_edge(from, boost::add_vertex(node{node_kind::external, 0}, g), g);
  };
  if (c.kind == diagram_kind::tree) {
    const auto old = boost::add_vertex(node{node_kind::action_vertex, c.vertex_count()}, g);
    for (int m : c.sizes) {
      const auto fan = boost::add_vertex(node{node_kind::fan, m}, g);
      boost::add_edge(old, fan, g);
      add_legs(fan, m);
    }
    return g;
  }
  const std::size_t r = c.sizes.size();
  std::vector<graph::vertex_descriptor> ring(r);
  for (std::size_t s = 0; s < r; ++s)
    ring[s] = boost::add_vertex(node{node_kind::ring, c.sizes[s]}, g);
  for (std::size_t s = 0; s < r; ++s) boost::add_edge(ring[s], ring[(s + 1) % r], g);
  for (std::size_t s = 0; s < r; ++s) add_legs(ring[s], c.sizes[s]);
  return g;
}

}  // namespace flowaction::diagrams
