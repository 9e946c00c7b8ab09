#include "diagrams/diagram_layout.hpp"

#include <algorithm>
#include <cmath>
#include <map>
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

// ---- Feynman diagrams -----------------------------------------------------------------------

namespace {

constexpr double pi = std::numbers::pi;
constexpr double spacing = 1.6;      // cm between joined interaction vertices
constexpr double pendant = 0.8;      // cm of an external leg or of a source's line
constexpr double loop_length = 1.1;  // cm from a vertex to a self-loop's control points

using fvertex = feynman_graph::vertex_descriptor;

point operator+(point a, point b) {
  return {a.x + b.x, a.y + b.y};
}
point operator*(double s, point a) {
  return {s * a.x, s * a.y};
}
point direction(double angle) {
  return {std::cos(angle), std::sin(angle)};
}
double angle_of(point d) {
  return std::atan2(d.y, d.x);
}
double wrap(double a) {  // into [0, 2π)
  a = std::fmod(a, 2 * pi);
  return a < 0 ? a + 2 * pi : a;
}

// m directions spread evenly, the first pointing left (or, for an even m > 2, up-left, so that
// a square stands on its side), then clockwise.
double first_angle(int m) {
  return pi - (m % 2 == 0 && m > 2 ? pi / m : 0);
}

// Directions for `count` new lines at a vertex whose lines already leave at `taken`: each goes
// into the gap where it gets the most room (the wider gap on a tie), spread evenly within it.
// Returned clockwise from the left, so that the legs x_i, x_j, … read around the vertex in order.
std::vector<double> place_in_gaps(std::vector<double> taken, int count) {
  std::vector<double> out;
  if (count == 0) return out;
  if (taken.empty()) {
    for (int k = 0; k < count; ++k) out.push_back(wrap(first_angle(count) - 2 * pi * k / count));
  } else {
    for (double& a : taken) a = wrap(a);
    std::sort(taken.begin(), taken.end());
    const std::size_t g = taken.size();
    std::vector<double> width(g);
    for (std::size_t i = 0; i < g; ++i)
      width[i] = (i + 1 < g ? taken[i + 1] : taken[0] + 2 * pi) - taken[i];
    std::vector<int> n(g, 0);
    for (int k = 0; k < count; ++k) {
      std::size_t best = 0;
      for (std::size_t i = 1; i < g; ++i)
        if (const double room = width[i] / (n[i] + 1), most = width[best] / (n[best] + 1);
            room > most + 1e-9 || (room > most - 1e-9 && width[i] > width[best] + 1e-9))
          best = i;
      ++n[best];
    }
    for (std::size_t i = 0; i < g; ++i)
      for (int k = 1; k <= n[i]; ++k) out.push_back(wrap(taken[i] + width[i] * k / (n[i] + 1)));
  }
  std::sort(out.begin(), out.end(),
            [](double a, double b) { return wrap(pi + 1e-9 - a) < wrap(pi + 1e-9 - b); });
  return out;
}

// joined[a][b]: how many lines join vertices[a] and vertices[b] (a ≠ b; self-loops left out).
std::vector<std::vector<int>> lines_between(const feynman_graph& g,
                                            const std::vector<fvertex>& vertices) {
  const std::size_t k = vertices.size();
  std::map<fvertex, std::size_t> at;
  for (std::size_t i = 0; i < k; ++i) at[vertices[i]] = i;
  std::vector<std::vector<int>> joined(k, std::vector<int>(k, 0));
  for (auto [e, end] = boost::edges(g); e != end; ++e) {
    const fvertex s = boost::source(*e, g), t = boost::target(*e, g);
    if (s == t || !at.count(s) || !at.count(t)) continue;
    ++joined[at[s]][at[t]];
    ++joined[at[t]][at[s]];
  }
  return joined;
}

// The interaction vertices in the order they are placed: along a line when they form a chain
// (the end nearer to leg 0 on the left), else around a circle in the order that keeps joined
// vertices closest (tried exhaustively up to 7 vertices; beyond, breadth first, then improved by
// swaps).
struct core_order {
  std::vector<fvertex> order;
  bool chain = true;
};

core_order order_core(const feynman_graph& g, const std::vector<fvertex>& core) {
  const std::size_t k = core.size();
  const std::vector<std::vector<int>> joined = lines_between(g, core);
  std::vector<int> degree(k, 0);
  int pairs = 0;
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = 0; j < k; ++j)
      if (joined[i][j] > 0) ++degree[i], pairs += j > i;
  core_order out;
  out.chain = k <= 1 || (pairs + 1 == static_cast<int>(k) &&
                         std::all_of(degree.begin(), degree.end(), [](int d) { return d <= 2; }));
  std::vector<std::size_t> seq;
  if (out.chain) {
    std::size_t first = 0;
    while (k > 1 && degree[first] != 1) ++first;
    seq.push_back(first);
    for (std::size_t prev = k, cur = first; seq.size() < k;) {
      std::size_t next = 0;
      while (next == prev || next == cur || joined[cur][next] == 0) ++next;
      seq.push_back(next);
      prev = cur;
      cur = next;
    }
    // Leg 0 (vertex 0 of the graph, when it is a leg) on the left.
    if (k > 1 && boost::num_vertices(g) > 0 && g[0].kind == feynman_node_kind::leg) {
      const fvertex holder = *boost::adjacent_vertices(0, g).first;
      if (core[seq.back()] == holder) std::reverse(seq.begin(), seq.end());
    }
  } else {
    const auto cost = [&](const std::vector<std::size_t>& s) {
      int c = 0;
      for (std::size_t a = 0; a < k; ++a)
        for (std::size_t b = a + 1; b < k; ++b) {
          const std::size_t d = b - a;
          c += joined[s[a]][s[b]] * static_cast<int>(std::min(d, k - d));
        }
      return c;
    };
    std::vector<std::size_t> s(k);
    for (std::size_t i = 0; i < k; ++i) s[i] = i;
    if (k <= 7) {
      seq = s;
      int best = cost(s);
      while (std::next_permutation(s.begin() + 1, s.end()))
        if (const int c = cost(s); c < best) best = c, seq = s;
    } else {
      std::vector<bool> seen(k, false);
      seq = {0};
      seen[0] = true;
      for (std::size_t q = 0; q < seq.size(); ++q)
        for (std::size_t j = 0; j < k; ++j)
          if (!seen[j] && joined[seq[q]][j] > 0) seen[j] = true, seq.push_back(j);
      // Then any swap of two places that brings joined vertices closer, until none does.
      for (int best = cost(seq), before = best + 1; best < before;) {
        before = best;
        for (std::size_t a = 1; a < k; ++a)
          for (std::size_t b = a + 1; b < k; ++b) {
            std::swap(seq[a], seq[b]);
            if (const int c = cost(seq); c < best)
              best = c;
            else
              std::swap(seq[a], seq[b]);
          }
      }
    }
  }
  for (std::size_t i : seq) out.order.push_back(core[i]);
  return out;
}

// Bends of m parallel lines, in radians, symmetric about the straight line.
double bend(int j, int m) {
  if (m <= 1) return 0;
  const double step = m == 2 ? 60.0 : m == 3 ? 40.0 : 120.0 / (m - 1);
  return (j - 0.5 * (m - 1)) * step * pi / 180.0;
}

// The vertices drawn first, on a line or a circle: the interaction vertices on cycles (what is
// left after branches are pruned leaf by leaf; parallel lines make a cycle, self-loops do not),
// or, when there is no cycle, the longest path. Everything else hangs from them.
std::vector<fvertex> base_of(const feynman_graph& g, const std::vector<fvertex>& core) {
  const std::size_t k = core.size();
  const std::vector<std::vector<int>> joined = lines_between(g, core);
  std::vector<bool> kept(k, true);
  for (bool pruned = true; pruned;) {
    pruned = false;
    for (std::size_t i = 0; i < k; ++i) {
      if (!kept[i]) continue;
      int degree = 0;
      for (std::size_t j = 0; j < k; ++j) degree += kept[j] ? joined[i][j] : 0;
      if (degree <= 1) kept[i] = false, pruned = true;
    }
  }
  std::vector<fvertex> base;
  for (std::size_t i = 0; i < k; ++i)
    if (kept[i]) base.push_back(core[i]);
  if (!base.empty() || k == 0) return base;
  // A tree: its longest path, between the vertices farthest apart (breadth first twice).
  const auto farthest = [&](std::size_t from, std::vector<std::size_t>& parent) {
    std::vector<std::size_t> order{from};
    parent.assign(k, k);
    parent[from] = from;
    for (std::size_t q = 0; q < order.size(); ++q)
      for (std::size_t j = 0; j < k; ++j)
        if (joined[order[q]][j] > 0 && parent[j] == k) parent[j] = order[q], order.push_back(j);
    return order.back();
  };
  std::vector<std::size_t> parent;
  const std::size_t u = farthest(0, parent);
  for (std::size_t w = farthest(u, parent);; w = parent[w]) {
    base.push_back(core[w]);
    if (w == u) break;
  }
  std::sort(base.begin(), base.end());
  return base;
}

}  // namespace

feynman_layout layout(const FeynmanDiagram& d) {
  const feynman_graph& g = d.graph;
  const std::size_t n = boost::num_vertices(g);
  feynman_layout L;
  L.at.assign(n, {});
  L.outward.assign(n, {0, 0});
  L.label.assign(n, {});
  std::vector<std::pair<fvertex, fvertex>> ends;
  for (auto [e, end] = boost::edges(g); e != end; ++e)
    ends.emplace_back(boost::source(*e, g), boost::target(*e, g));
  L.edges.resize(ends.size());
  std::vector<fvertex> core;
  for (fvertex v = 0; v < n; ++v)
    if (g[v].kind == feynman_node_kind::interaction) core.push_back(v);

  // Directions of the lines leaving each vertex so far, in radians.
  std::vector<std::vector<double>> taken(n);
  const auto straight = [&](std::size_t e) {
    const point a = L.at[ends[e].first], b = L.at[ends[e].second];
    L.edges[e] = {a + (1.0 / 3) * point{b.x - a.x, b.y - a.y},
                  a + (2.0 / 3) * point{b.x - a.x, b.y - a.y}, true};
  };

  if (core.empty()) {  // one line between two one-legged vertices
    L.at[0] = {-0.7, 0};
    L.outward[0] = {-1, 0};
    if (n > 1) L.at[1] = {0.7, 0}, L.outward[1] = {1, 0};
  } else {
    const std::vector<fvertex> base = base_of(g, core);
    const core_order placed = order_core(g, base);
    const auto k = static_cast<int>(base.size());
    const double radius = k > 2 ? spacing / (2 * std::sin(pi / k)) : 0;
    std::vector<bool> is_placed(n, false);
    for (int s = 0; s < k; ++s) {
      const fvertex v = placed.order[static_cast<std::size_t>(s)];
      const double theta = first_angle(k) - 2 * pi * s / k;
      L.at[v] = placed.chain ? point{(s - 0.5 * (k - 1)) * spacing, 0} : radius * direction(theta);
      is_placed[v] = true;
      // On a circle the inside belongs to the lines between the vertices and the neighbours'
      // legs: nothing else points there, nor along the circle.
      if (!placed.chain)
        for (const double side : {-pi / 2, -3 * pi / 4, pi, 3 * pi / 4, pi / 2})
          taken[v].push_back(theta + side);
    }
    // Lines within the base: parallel ones bent apart.
    std::map<std::pair<fvertex, fvertex>, std::vector<std::size_t>> parallel;
    for (std::size_t e = 0; e < ends.size(); ++e) {
      const auto [s, t] = ends[e];
      if (s != t && is_placed[s] && is_placed[t])
        parallel[{std::min(s, t), std::max(s, t)}].push_back(e);
    }
    for (const auto& [pair, lines] : parallel) {
      const auto m = static_cast<int>(lines.size());
      for (int j = 0; j < m; ++j) {
        const std::size_t e = lines[static_cast<std::size_t>(j)];
        const auto [s, t] = ends[e];
        const point a = L.at[s], b = L.at[t];
        const double chord = angle_of({b.x - a.x, b.y - a.y});
        const double length = std::hypot(b.x - a.x, b.y - a.y);
        // Bent to the left of pair.first → pair.second by beta.
        const double beta = bend(j, m) * (s == pair.first ? 1 : -1);
        taken[s].push_back(chord + beta);
        taken[t].push_back(chord + pi - beta);
        if (beta == 0) continue;  // straight, below
        const double reach = length / (3 * std::pow(std::cos(beta / 2), 2));
        L.edges[e] = {a + reach * direction(chord + beta), b + reach * direction(chord + pi - beta),
                      false};
      }
    }
    // From the base outward, breadth first: the legs, sources and branches of each vertex into
    // the widest free angles; a branch's vertex keeps the line back to its parent.
    std::vector<fvertex> queue = placed.order;
    for (std::size_t q = 0; q < queue.size(); ++q) {
      const fvertex v = queue[q];
      // Branches first, each into the widest angle; then legs and sources.
      std::vector<fvertex> branches, pendants;
      for (const auto& [s, t] : ends) {
        const fvertex w = s == v ? t : s;
        if (s != t && (s == v || t == v) && !is_placed[w])
          (g[w].kind == feynman_node_kind::interaction ? branches : pendants).push_back(w);
      }
      for (std::vector<fvertex>* hung : {&branches, &pendants}) {
        std::sort(hung->begin(), hung->end());
        const std::vector<double> out = place_in_gaps(taken[v], static_cast<int>(hung->size()));
        for (std::size_t p = 0; p < hung->size(); ++p) {
          const fvertex w = (*hung)[p];
          const bool branch = hung == &branches;
          L.at[w] = L.at[v] + (branch ? spacing : pendant) * direction(out[p]);
          L.outward[w] = direction(out[p]);
          is_placed[w] = true;
          taken[v].push_back(out[p]);
          taken[w].push_back(out[p] + pi);
          if (branch) queue.push_back(w);
        }
      }
    }
    // Self-loops into what is left, as teardrops.
    for (const fvertex v : core) {
      std::vector<std::size_t> loops;
      for (std::size_t e = 0; e < ends.size(); ++e)
        if (ends[e].first == v && ends[e].second == v) loops.push_back(e);
      const std::vector<double> centres = place_in_gaps(taken[v], static_cast<int>(loops.size()));
      taken[v].insert(taken[v].end(), centres.begin(), centres.end());
      for (std::size_t l = 0; l < loops.size(); ++l) {
        // Half the opening: a third of the room to the nearest other line, within 10°–28°.
        double room = 2 * pi;
        for (const double a : taken[v]) {
          const double gap = std::fabs(wrap(a - centres[l] + pi) - pi);
          if (gap > 1e-9) room = std::min(room, gap);
        }
        const double half = std::clamp(room / 3, 10 * pi / 180, 28 * pi / 180);
        L.edges[loops[l]] = {L.at[v] + loop_length * direction(centres[l] + half),
                             L.at[v] + loop_length * direction(centres[l] - half), false};
      }
    }
  }
  // Every other line is straight.
  for (std::size_t e = 0; e < ends.size(); ++e)
    if (L.edges[e].straight) straight(e);

  L.low = L.high = n ? L.at[0] : point{};
  const auto cover = [&](point p) {
    L.low = {std::min(L.low.x, p.x), std::min(L.low.y, p.y)};
    L.high = {std::max(L.high.x, p.x), std::max(L.high.y, p.y)};
  };
  for (fvertex v = 0; v < n; ++v) {
    cover(L.at[v]);
    if (g[v].kind != feynman_node_kind::leg) continue;
    L.label[v] = L.at[v] + 0.3 * L.outward[v];
    cover(L.label[v] + point{-0.3, -0.2});
    cover(L.label[v] + point{0.3, 0.2});
  }
  // A cubic Bézier stays within its control points; a self-loop reaches about ¾ of the way.
  for (const feynman_curve& c : L.edges) {
    cover(c.control1);
    cover(c.control2);
  }
  return L;
}

}  // namespace flowaction::diagrams
