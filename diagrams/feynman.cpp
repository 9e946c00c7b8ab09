#include "diagrams/feynman.hpp"

#include <algorithm>
#include <boost/property_map/function_property_map.hpp>
#include <map>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "diagrams/automorphisms.hpp"
#include "diagrams/diagram.hpp"

namespace flowaction::diagrams {

int colour_of(const feynman_node& v) {
  switch (v.kind) {
    case feynman_node_kind::leg:
      return 0;
    case feynman_node_kind::source:
      return 1;
    case feynman_node_kind::interaction:
      return v.legs;  // ≥ 3
  }
  return -1;
}

int leg_colour(int leg) {
  return -1 - leg;
}

std::uint64_t FeynmanDiagram::labelled_copies() const {
  return factorial(legs) / (automorphisms / symmetry_factor);  // S divides |Aut|
}

std::vector<int> FeynmanDiagram::valences() const {
  std::vector<int> count;
  for (auto [v, end] = boost::vertices(graph); v != end; ++v) {
    const feynman_node& n = graph[*v];
    if (n.kind != feynman_node_kind::interaction) continue;
    if (static_cast<int>(count.size()) <= n.legs)
      count.resize(static_cast<std::size_t>(n.legs) + 1);
    ++count[static_cast<std::size_t>(n.legs)];
  }
  return count;
}

namespace {

using vertex = feynman_graph::vertex_descriptor;

std::uint64_t automorphisms_of(const feynman_graph& g, bool legs_fixed) {
  return count_automorphisms(g, boost::make_function_property_map<vertex>([&](vertex v) {
                               return legs_fixed && g[v].kind == feynman_node_kind::leg
                                          ? leg_colour(static_cast<int>(v))
                                          : colour_of(g[v]);
                             }));
}

// Builds every connected multigraph on fixed vertices. The touched vertices form one connected
// piece; the earliest-touched vertex u with free edge ends gets all its remaining edges at once,
// chosen as a multiset — loops, edges to touched vertices, edges to untouched ones — so that one
// set of edges is never built in different orders. Choices that symmetry makes equivalent are
// tried once: edge ends of one vertex are alike; untouched vertices of one kind are alike, so
// they are taken in order with nonincreasing multiplicities; touched twins (same kind, free ends
// and loops, same edges to every other vertex) are alike, so their multiplicities do not increase
// along the touch order. What is left over is deduplicated by canonical form.
class Generator {
 public:
  explicit Generator(const VertexContent& c) {
    auto add = [&](feynman_node n, int count) {
      kinds_.push_back(static_cast<int>(nodes_.size()));
      for (int i = 0; i < count; ++i) {
        nodes_.push_back(n);
        kind_of_.push_back(static_cast<int>(kinds_.size()) - 1);
      }
    };
    // Legs first: growing the piece from a leg repeats fewer choices than from a vertex.
    if (c.legs > 0) add({feynman_node_kind::leg, 1}, c.legs);
    if (c.sources > 0) add({feynman_node_kind::source, 1}, c.sources);
    std::vector<int> valences = c.interactions;
    std::sort(valences.begin(), valences.end());
    for (std::size_t i = 0; i < valences.size();) {
      if (valences[i] < 3) throw std::invalid_argument("feynman_diagrams: a vertex needs 3 legs");
      std::size_t j = i;
      while (j < valences.size() && valences[j] == valences[i]) ++j;
      add({feynman_node_kind::interaction, valences[i]}, static_cast<int>(j - i));
      i = j;
    }
    const std::size_t n = nodes_.size();
    for (const feynman_node& v : nodes_) free_.push_back(v.legs);
    next_untouched_ = kinds_;
    edges_between_.assign(n * n, 0);
  }

  std::vector<FeynmanDiagram> run() {
    int ends = 0;
    for (int f : free_) ends += f;
    if (nodes_.empty() || ends % 2 != 0) return {};
    touch(0);
    extend();
    std::vector<FeynmanDiagram> out;
    out.reserve(found_.size());
    for (auto& [form, d] : found_) out.push_back(std::move(d));
    return out;
  }

 private:
  std::size_t at(int u, int w) const {
    return static_cast<std::size_t>(u) * nodes_.size() + static_cast<std::size_t>(w);
  }
  int& free(int v) { return free_[static_cast<std::size_t>(v)]; }
  void touch(int v) {
    order_.push_back(v);
    ++next_untouched_[static_cast<std::size_t>(kind_of_[static_cast<std::size_t>(v)])];
  }
  void untouch(int v) {
    order_.pop_back();
    --next_untouched_[static_cast<std::size_t>(kind_of_[static_cast<std::size_t>(v)])];
  }
  // The first untouched vertex of a kind, or -1.
  int first_untouched(std::size_t kind) const {
    const int v = next_untouched_[kind];
    const int end = kind + 1 < kinds_.size() ? kinds_[kind + 1] : static_cast<int>(nodes_.size());
    return v < end ? v : -1;
  }
  // Whether swapping touched vertices a and b (both ≠ u) maps the partial graph onto itself.
  bool twins(int a, int b) const {
    const auto sa = static_cast<std::size_t>(a), sb = static_cast<std::size_t>(b);
    if (kind_of_[sa] != kind_of_[sb] || free_[sa] != free_[sb] ||
        edges_between_[at(a, a)] != edges_between_[at(b, b)])
      return false;
    for (int x : order_)
      if (x != a && x != b && edges_between_[at(a, x)] != edges_between_[at(b, x)]) return false;
    return true;
  }

  // m edges u–w (a loop if u = w).
  void join(int u, int w, int m) {
    for (int i = 0; i < m; ++i) edges_.emplace_back(u, w);
    free(u) -= m;
    free(w) -= m;
    edges_between_[at(u, w)] += m;
    if (u != w) edges_between_[at(w, u)] += m;
  }
  void unjoin(int u, int w, int m) {
    if (u != w) edges_between_[at(w, u)] -= m;
    edges_between_[at(u, w)] -= m;
    free(w) += m;
    free(u) += m;
    edges_.resize(edges_.size() - static_cast<std::size_t>(m));
  }

  void extend() {
    int u = -1;
    for (int v : order_)
      if (free(v) > 0) {
        u = v;
        break;
      }
    if (u < 0) {
      // Complete if nothing is left untouched; otherwise the piece closed off: disconnected.
      if (order_.size() == nodes_.size()) emit();
      return;
    }
    // The touched vertices u may join, each with its closest earlier twin (or -1).
    std::vector<int> old, twin;
    for (int w : order_) {
      if (w == u || free(w) == 0) continue;
      int t = -1;
      for (std::size_t i = old.size(); i-- > 0 && t < 0;)
        if (twins(old[i], w)) t = static_cast<int>(i);
      old.push_back(w);
      twin.push_back(t);
    }
    std::vector<int> mult(old.size(), 0);
    for (int loops = free(u) / 2; loops >= 0; --loops) {
      join(u, u, loops);
      join_touched(u, old, twin, mult, 0);
      unjoin(u, u, loops);
    }
  }

  void join_touched(int u, const std::vector<int>& old, const std::vector<int>& twin,
                    std::vector<int>& mult, std::size_t i) {
    if (i == old.size()) {
      join_untouched(u, 0, free(u));
      return;
    }
    const int w = old[i];
    int most = std::min(free(u), free(w));
    if (twin[i] >= 0) most = std::min(most, mult[static_cast<std::size_t>(twin[i])]);
    for (int m = most; m >= 0; --m) {
      mult[i] = m;
      join(u, w, m);
      join_touched(u, old, twin, mult, i + 1);
      unjoin(u, w, m);
    }
  }

  // Joins u's remaining ends to untouched vertices, kind by kind from `kind` on, with
  // multiplicities that do not increase within a kind (at most `cap` for this kind).
  void join_untouched(int u, std::size_t kind, int cap) {
    if (free(u) == 0) {
      extend();
      return;
    }
    for (std::size_t k = kind; k < kinds_.size(); ++k) {
      const int w = first_untouched(k);
      if (w < 0) continue;
      const int most = std::min({free(u), free(w), k == kind ? cap : free(u)});
      for (int m = most; m >= 1; --m) {
        touch(w);
        join(u, w, m);
        join_untouched(u, k, m);
        unjoin(u, w, m);
        untouch(w);
      }
    }
  }

  void emit() {
    feynman_graph g;
    for (const feynman_node& n : nodes_) boost::add_vertex(n, g);
    for (auto [s, t] : edges_) boost::add_edge(static_cast<vertex>(s), static_cast<vertex>(t), g);
    std::vector<std::uint64_t> form = canonical_form(
        g, boost::make_function_property_map<vertex>([&](vertex v) { return colour_of(g[v]); }));
    auto [it, inserted] = found_.try_emplace(std::move(form));
    if (!inserted) return;
    FeynmanDiagram& d = it->second;
    d.legs =
        static_cast<int>(std::count_if(nodes_.begin(), nodes_.end(), [](const feynman_node& n) {
          return n.kind == feynman_node_kind::leg;
        }));
    d.sources =
        static_cast<int>(std::count_if(nodes_.begin(), nodes_.end(), [](const feynman_node& n) {
          return n.kind == feynman_node_kind::source;
        }));
    d.cycles = static_cast<int>(edges_.size()) - static_cast<int>(nodes_.size()) + 1;
    d.automorphisms = automorphisms_of(g, false);
    d.symmetry_factor = d.legs > 1 ? automorphisms_of(g, true) : d.automorphisms;
    d.graph = std::move(g);
  }

  std::vector<feynman_node> nodes_;
  std::vector<int> kind_of_;         // per vertex: index into kinds_
  std::vector<int> kinds_;           // first vertex of each kind
  std::vector<int> next_untouched_;  // per kind: touched vertices of a kind are a prefix
  std::vector<int> free_;            // unpaired edge ends per vertex
  std::vector<int> order_;           // touched vertices in the order they were touched
  std::vector<int> edges_between_;   // edge multiplicities, n × n (a loop counted once)
  std::vector<std::pair<int, int>> edges_;
  std::map<std::vector<std::uint64_t>, FeynmanDiagram> found_;
};

}  // namespace

std::vector<FeynmanDiagram> feynman_diagrams(const VertexContent& content) {
  if (content.legs < 0 || content.sources < 0)
    throw std::invalid_argument("feynman_diagrams: negative vertex count");
  if (content.legs > max_order)
    throw std::length_error("feynman_diagrams: more legs than a 64-bit n! holds");
  return Generator(content).run();
}

std::vector<VertexContent> vertex_contents(int legs, int max_loops, const FeynmanRules& rules) {
  std::vector<VertexContent> out;
  // 2·loops = Σ |k − 2| − n + 2 over the vertices: what the vertices may spend.
  const int budget = 2 * max_loops - 2 + legs;
  if (legs < 0 || budget < 0) return out;
  std::vector<int> valences = rules.valences;
  std::sort(valences.begin(), valences.end());
  valences.erase(std::unique(valences.begin(), valences.end()), valences.end());
  for (int k : valences)
    if (k < 3) throw std::invalid_argument("vertex_contents: interaction valences are >= 3");
  VertexContent c;
  c.legs = legs;
  auto choose = [&](auto&& self, std::size_t i, int left) -> void {
    if (i == valences.size()) {
      int ends = legs + c.sources, twice_cycles = 2 - legs - c.sources;
      for (int k : c.interactions) ends += k, twice_cycles += k - 2;
      // A connected graph has E − V + 1 ≥ 0 cycles; a vacuum diagram needs a vertex.
      const bool vacuum_needs_vertex = legs == 0 && c.sources == 0 && c.interactions.empty();
      if (ends % 2 == 0 && twice_cycles >= 0 && !vacuum_needs_vertex) out.push_back(c);
      return;
    }
    const int k = valences[i];
    for (int m = 0; m * (k - 2) <= left; ++m) {
      self(self, i + 1, left - m * (k - 2));
      c.interactions.push_back(k);
    }
    c.interactions.erase(std::remove(c.interactions.begin(), c.interactions.end(), k),
                         c.interactions.end());
  };
  for (c.sources = 0; c.sources <= (rules.sources ? budget : 0); ++c.sources)
    choose(choose, 0, budget - c.sources);
  auto loops = [&](const VertexContent& v) {
    int twice = 2 - v.legs + v.sources;
    for (int k : v.interactions) twice += k - 2;
    return twice;
  };
  std::stable_sort(out.begin(), out.end(), [&](const VertexContent& a, const VertexContent& b) {
    return std::make_tuple(loops(a), a.sources, a.interactions) <
           std::make_tuple(loops(b), b.sources, b.interactions);
  });
  return out;
}

std::vector<FeynmanDiagram> feynman_diagrams(int legs, int max_loops, const FeynmanRules& rules) {
  std::vector<FeynmanDiagram> out;
  for (const VertexContent& c : vertex_contents(legs, max_loops, rules))
    for (FeynmanDiagram& d : feynman_diagrams(c)) out.push_back(std::move(d));
  return out;
}

}  // namespace flowaction::diagrams
