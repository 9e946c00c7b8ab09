#include "diagrams/diagram_layout.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace flowaction::diagrams {

namespace {

constexpr double leg_spacing = 0.75;  // cm between neighbouring leg ends of a tree
constexpr double row = 1.3;           // cm between the rows of a tree
constexpr double leg_length = 0.9;    // cm of a ring's external leg, more for crowded vertices

using vertex = graph::vertex_descriptor;

std::vector<vertex> targets(vertex v, const graph& g) {
  std::vector<vertex> out;
  for (auto [e, end] = boost::out_edges(v, g); e != end; ++e) out.push_back(boost::target(*e, g));
  return out;
}

void tree_layout(const graph& g, diagram_layout& L) {
  vertex root = 0;
  for (auto [v, end] = boost::vertices(g); v != end; ++v)
    if (g[*v].kind == node_kind::action_vertex) root = *v;
  const std::vector<vertex> fans = targets(root, g);
  int n = 0;
  for (vertex f : fans) n += static_cast<int>(targets(f, g).size());
  // Leg slots left to right, centred on x = 0.
  double slot = -0.5 * leg_spacing * (n - 1);
  for (vertex f : fans) {
    const std::vector<vertex> legs = targets(f, g);
    const double first = slot;
    for (vertex l : legs) {
      L.at[l] = {slot, -2 * row};
      L.outward[l] = {0, -1};
      slot += leg_spacing;
    }
    L.at[f] = {0.5 * (first + slot - leg_spacing), -row};
  }
  L.at[root] = {0, 0};
  L.outward[root] = {0, 1};
}

void ring_layout(const graph& g, diagram_layout& L) {
  std::vector<vertex> ring;
  for (auto [v, end] = boost::vertices(g); v != end; ++v)
    if (g[*v].kind == node_kind::ring) ring.push_back(*v);
  const auto r = static_cast<int>(ring.size());
  const double pi = std::numbers::pi;
  // One vertex: a loop above it, its legs below; more: a circle wide enough for the legs.
  const double radius = r == 1 ? 0.45 : std::max(0.75, 0.32 * r);
  L.ring_radius = radius;
  for (int s = 0; s < r; ++s) {
    // The first vertex at the bottom, then counter-clockwise (the direction of the trace).
    const double theta = r == 1 ? -pi / 2 : -pi / 2 + 2 * pi * s / r;
    const point dir{std::cos(theta), std::sin(theta)};
    const vertex v = ring[static_cast<std::size_t>(s)];
    L.at[v] = r == 1 ? point{0, 0} : point{radius * dir.x, radius * dir.y};
    L.outward[v] = dir;
    std::vector<vertex> legs;
    for (vertex t : targets(v, g))
      if (g[t].kind == node_kind::external) legs.push_back(t);
    const auto m = static_cast<int>(legs.size());
    // Legs share the angle a vertex owns on the circle (at most 160 degrees); many legs get
    // longer, so that the labels at their ends stay apart.
    const double spread = std::min(160.0, 0.9 * 360.0 / std::max(r, 1)) * pi / 180.0;
    const double step = m > 1 ? spread / (m - 1) : 0;
    const double length = leg_length + (m > 2 ? 0.2 * (m - 2) : 0.0);
    for (int k = 0; k < m; ++k) {
      // Clockwise across the spread, so that leg labels read in trace order.
      const double phi = theta + (m > 1 ? spread / 2 - k * step : 0);
      const point d{std::cos(phi), std::sin(phi)};
      const vertex l = legs[static_cast<std::size_t>(k)];
      L.at[l] = {L.at[v].x + length * d.x, L.at[v].y + length * d.y};
      L.outward[l] = d;
    }
  }
}

}  // namespace

diagram_layout layout(const DiagramClass& c, const graph& g) {
  diagram_layout L;
  const auto n = boost::num_vertices(g);
  L.at.assign(n, {});
  L.outward.assign(n, {0, -1});
  if (c.kind == diagram_kind::tree)
    tree_layout(g, L);
  else
    ring_layout(g, L);
  if (c.kind == diagram_kind::ring && c.vertex_count() == 1)
    L.high = {L.ring_radius, 2 * L.ring_radius};  // the loop above the vertex
  for (const point& p : L.at) {
    L.low = {std::min(L.low.x, p.x), std::min(L.low.y, p.y)};
    L.high = {std::max(L.high.x, p.x), std::max(L.high.y, p.y)};
  }
  return L;
}

}  // namespace flowaction::diagrams
