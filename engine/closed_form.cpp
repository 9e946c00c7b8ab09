#include "engine/closed_form.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "diagrams/automorphisms.hpp"
#include "diagrams/diagram.hpp"
#include "engine/error.hpp"

namespace flowaction {

namespace {

using diagrams::DiagramClass;
using GiNaC::ex;

// Symbols made once per key (GiNaC tells symbols apart by identity, not by name), and the key of
// a symbol found again by its name.
template <class Key>
struct Interned {
  std::map<Key, ex> by_key;
  std::map<std::string, Key> by_name;

  ex get(const Key& key, const std::string& name, const std::string& tex) {
    const auto it = by_key.find(key);
    if (it != by_key.end()) return it->second;
    const ex sym = tex.empty() ? GiNaC::realsymbol(name) : GiNaC::realsymbol(name, tex);
    by_key.emplace(key, sym);
    by_name.emplace(name, key);
    return sym;
  }
  std::optional<Key> find(const ex& symbol) const {
    if (!GiNaC::is_a<GiNaC::symbol>(symbol)) return std::nullopt;
    const auto it = by_name.find(GiNaC::ex_to<GiNaC::symbol>(symbol).get_name());
    if (it == by_name.end()) return std::nullopt;
    return it->second;
  }
};

struct Symbols {
  std::mutex lock;
  Interned<std::pair<Quantity, int>> quantities;
  Interned<int> log_dets;
  ex d = GiNaC::realsymbol("d");
};

Symbols& symbols() {
  static Symbols s;
  return s;
}

std::string quantity_name(const Quantity& q) {
  switch (q.what) {
    case Quantity::kind::alpha:
      return fmt::format("alpha{}", q.layer);
    case Quantity::kind::coefficient:
      return fmt::format("c{}_{}", q.layer, q.power);
    case Quantity::kind::scale:
      return fmt::format("s{}", q.layer);
    case Quantity::kind::unit_value:
      return fmt::format("u{}", q.layer);
    case Quantity::kind::hidden_value:
      return fmt::format("v{}", q.layer);
  }
  return "?";
}

}  // namespace

ex closed_symbol(const Quantity& q, int index) {
  Symbols& s = symbols();
  const std::lock_guard<std::mutex> guard(s.lock);
  return s.quantities.get({q, index}, fmt::format("{}[{}]", quantity_name(q), index), "");
}

std::optional<std::pair<Quantity, int>> closed_symbol_of(const ex& symbol) {
  Symbols& s = symbols();
  const std::lock_guard<std::mutex> guard(s.lock);
  return s.quantities.find(symbol);
}

ex dimension_symbol() {
  return symbols().d;
}

ex log_det_symbol(int layer) {
  Symbols& s = symbols();
  const std::lock_guard<std::mutex> guard(s.lock);
  return s.log_dets.get(layer, fmt::format("logdetW{}", layer),
                        fmt::format("\\ln|\\det W^{{({})}}|", layer));
}

std::optional<int> log_det_layer(const ex& symbol) {
  Symbols& s = symbols();
  const std::lock_guard<std::mutex> guard(s.lock);
  return s.log_dets.find(symbol);
}

ex closed_phi(const ArchLayer& layer, int number, const ex& u, int index) {
  if (layer.coefficients) {
    ex phi = u;
    for (int k = 2; k <= layer.degree; ++k)
      phi += closed_symbol({Quantity::kind::coefficient, number, k}, index) * GiNaC::pow(u, k);
    return phi;
  }
  return u + closed_symbol({Quantity::kind::alpha, number, 0}, index) * GiNaC::pow(u, layer.degree);
}

namespace {

// Canonical index numbers: the term's index graph (index and weight vertices, each weight an
// arrow out-index -> weight -> in-index) labelled by nauty; external legs only colour the index
// they sit on, since [T] sums over their orders anyway. Labelled legs (for the symmetry test)
// are vertices of their own.
struct Labelled {
  std::vector<std::uint64_t> form;
  std::vector<int> renumber;  // old index -> canonical index
};

Labelled label(const ClosedTerm& t, bool legs_as_vertices) {
  const auto I = t.ranges.size();
  diagrams::detail::coloured_multigraph g;
  g.directed = true;
  std::vector<int> legs_on(I, 0);
  for (int i : t.legs) ++legs_on[static_cast<std::size_t>(i)];
  for (std::size_t i = 0; i < I; ++i)
    g.colours.push_back(1 + 64 * t.ranges[i] + (legs_as_vertices ? 0 : legs_on[i]));
  for (const IndexedWeight& w : t.weights) {
    const std::size_t v = g.colours.size();
    g.colours.push_back(100000 + 1000 * static_cast<int>(w.what) + w.layer);
    g.edges.emplace_back(static_cast<std::size_t>(w.out), v);
    g.edges.emplace_back(v, static_cast<std::size_t>(w.in));
  }
  if (legs_as_vertices)
    for (std::size_t s = 0; s < t.legs.size(); ++s) {
      const std::size_t v = g.colours.size();
      g.colours.push_back(50000 + static_cast<int>(s));
      g.edges.emplace_back(v, static_cast<std::size_t>(t.legs[s]));
    }
  auto c = diagrams::detail::canonical_labelling_of(g);
  std::vector<std::size_t> order(I);
  for (std::size_t i = 0; i < I; ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return c.position[a] < c.position[b]; });
  Labelled out{std::move(c.form), std::vector<int>(I)};
  for (std::size_t k = 0; k < I; ++k) out.renumber[order[k]] = static_cast<int>(k);
  return out;
}

ex renumbered(const ex& coefficient, const std::vector<int>& renumber) {
  GiNaC::exmap map;
  for (auto it = coefficient.preorder_begin(); it != coefficient.preorder_end(); ++it)
    if (const auto q = closed_symbol_of(*it))
      map[*it] = closed_symbol(q->first, renumber[static_cast<std::size_t>(q->second)]);
  return map.empty() ? coefficient : coefficient.subs(map);
}

ClosedTerm renumbered(const ClosedTerm& t, const std::vector<int>& renumber) {
  ClosedTerm out;
  out.coefficient = renumbered(t.coefficient, renumber);
  out.ranges.resize(t.ranges.size());
  for (std::size_t i = 0; i < t.ranges.size(); ++i)
    out.ranges[static_cast<std::size_t>(renumber[i])] = t.ranges[i];
  for (IndexedWeight w : t.weights) {
    w.out = renumber[static_cast<std::size_t>(w.out)];
    w.in = renumber[static_cast<std::size_t>(w.in)];
    out.weights.push_back(w);
  }
  std::sort(out.weights.begin(), out.weights.end());
  for (int i : t.legs) out.legs.push_back(renumber[static_cast<std::size_t>(i)]);
  return out;
}

// Whether T equals itself with any two legs exchanged (then [T] = n! T): checked on adjacent
// exchanges, which generate all orders. A false "no" only costs a Sym[] in the output.
bool leg_symmetric(const ClosedTerm& t) {
  const Labelled base = label(t, true);
  const ex c = renumbered(t.coefficient, base.renumber);
  for (std::size_t s = 0; s + 1 < t.legs.size(); ++s) {
    if (t.legs[s] == t.legs[s + 1]) continue;
    ClosedTerm swapped = t;
    std::swap(swapped.legs[s], swapped.legs[s + 1]);
    const Labelled other = label(swapped, true);
    if (other.form != base.form) return false;
    if (!GiNaC::normal(c - renumbered(t.coefficient, other.renumber)).is_zero()) return false;
  }
  return true;
}

using Merged = std::map<std::vector<std::uint64_t>, ClosedTerm>;

void merge(Merged& into, const ClosedTerm& t) {
  if (t.coefficient.is_zero()) return;
  const Labelled l = label(t, false);
  ClosedTerm c = renumbered(t, l.renumber);
  std::sort(c.legs.begin(), c.legs.end());
  const auto [it, fresh] = into.emplace(l.form, c);
  if (!fresh) it->second.coefficient += c.coefficient;
}

std::vector<ClosedTerm> finished(Merged& merged) {
  std::vector<ClosedTerm> out;
  for (auto& [form, t] : merged) {
    t.coefficient = GiNaC::normal(t.coefficient.expand());
    if (!t.coefficient.is_zero()) out.push_back(std::move(t));
  }
  return out;
}

int add_index(ClosedTerm& t, int range) {
  t.ranges.push_back(range);
  return static_cast<int>(t.ranges.size()) - 1;
}

// The pullback on index expressions, layer by layer (DESIGN §4).
class Derivation {
 public:
  Derivation(const Architecture& arch, int order, bool symbolic_point)
      : arch_(arch), K_(order), L_(static_cast<int>(arch.layers.size())) {
    unit_.assign(static_cast<std::size_t>(L_) + 1, false);
    hidden_.assign(static_cast<std::size_t>(L_), false);
    unit_[0] = symbolic_point;
    for (int l = 1; l <= L_; ++l) {
      const ArchLayer& layer = arch.layers[static_cast<std::size_t>(l - 1)];
      const bool in = unit_[static_cast<std::size_t>(l - 1)];
      bool out = in || layer.bias;
      if (layer.type == ArchLayer::kind::coupling) {
        hidden_[static_cast<std::size_t>(l - 1)] = in || layer.bias;
        out = in || layer.bias;  // φ(0) = 0: the shift is zero where the hidden values are
      }
      unit_[static_cast<std::size_t>(l)] = out;
    }
  }

  ClosedForm run() {
    ClosedForm f;
    f.arch = arch_;
    f.order = K_;
    f.symbolic_point = unit_[0];
    f.unit_values = unit_;
    f.hidden_values = hidden_;
    gamma_ = latent();
    for (int l = L_; l >= 1; --l) gamma_ = pull_back(l);
    for (auto& terms : gamma_)
      for (ClosedTerm& t : terms) t.symmetric = leg_symmetric(t);
    f.vertices = std::move(gamma_);
    return f;
  }

 private:
  const ArchLayer& layer(int l) const { return arch_.layers[static_cast<std::size_t>(l - 1)]; }

  // The value of unit i entering layer l (l = L + 1: the latent z₀), or 0.
  ex unit_value(int l, int i) const {
    return unit_[static_cast<std::size_t>(l - 1)]
               ? closed_symbol({Quantity::kind::unit_value, l, 0}, i)
               : ex(0);
  }

  // φ⁽ᵐ⁾ of layer l at index i: a unit of an activation, a hidden unit of a coupling.
  ex phi_derivative(int l, int m, int i) const {
    const GiNaC::realsymbol u("u");
    const ex at = layer(l).type == ArchLayer::kind::coupling
                      ? (hidden_[static_cast<std::size_t>(l - 1)]
                             ? closed_symbol({Quantity::kind::hidden_value, l, 0}, i)
                             : ex(0))
                      : unit_value(l, i);
    return closed_phi(layer(l), l, u, i).diff(u, static_cast<unsigned>(m)).subs(u == at);
  }

  std::vector<std::vector<ClosedTerm>> latent() {
    std::vector<Merged> g(static_cast<std::size_t>(K_) + 1);
    ClosedTerm norm;
    norm.coefficient = dimension_symbol() / 2 * GiNaC::log(2 * GiNaC::Pi);
    merge(g[0], norm);
    if (unit_[static_cast<std::size_t>(L_)]) {
      ClosedTerm half;
      const int x = add_index(half, 0);
      half.coefficient = GiNaC::pow(unit_value(L_ + 1, x), 2) / 2;
      merge(g[0], half);
      if (K_ >= 1) {
        ClosedTerm one;
        const int y = add_index(one, 0);
        one.legs = {y};
        one.coefficient = unit_value(L_ + 1, y);
        merge(g[1], one);
      }
    }
    if (K_ >= 2) {
      ClosedTerm two;  // δ_ij = [T]/2 with both legs on one index
      const int x = add_index(two, 0);
      two.legs = {x, x};
      two.coefficient = GiNaC::numeric(1, 2);
      merge(g[2], two);
    }
    std::vector<std::vector<ClosedTerm>> out;
    for (Merged& m : g) out.push_back(finished(m));
    return out;
  }

  diagrams::ClassFilter filter(int l) const {
    const ArchLayer& a = layer(l);
    switch (a.type) {
      case ArchLayer::kind::affine:
      case ArchLayer::kind::actnorm:
        return {1, false};
      case ArchLayer::kind::activation:
        return {a.degree, true};
      case ArchLayer::kind::coupling:
        return {a.degree, false};
    }
    return {};
  }

  // The old leg on index x ends on a layer vertex G⁽ᵐ⁾ of layer l: the terms that result (two
  // for a coupling's G⁽¹⁾: the leg passes, or goes through a hidden unit).
  void fan(int l, const ClosedTerm& t, int x, int m, std::vector<ClosedTerm>& out) const {
    switch (layer(l).type) {
      case ArchLayer::kind::affine: {
        ClosedTerm n = t;
        const int y = add_index(n, 0);
        n.weights.push_back({IndexedWeight::kind::W, l, x, y});
        n.legs.push_back(y);
        out.push_back(std::move(n));
        return;
      }
      case ArchLayer::kind::actnorm: {
        ClosedTerm n = t;
        n.coefficient *= closed_symbol({Quantity::kind::scale, l, 0}, x);
        n.legs.push_back(x);
        out.push_back(std::move(n));
        return;
      }
      case ArchLayer::kind::activation: {
        ClosedTerm n = t;
        n.coefficient *= phi_derivative(l, m, x);
        for (int k = 0; k < m; ++k) n.legs.push_back(x);
        if (!n.coefficient.is_zero()) out.push_back(std::move(n));
        return;
      }
      case ArchLayer::kind::coupling: {
        if (m == 1) {
          ClosedTerm pass = t;
          pass.legs.push_back(x);
          out.push_back(std::move(pass));
        }
        ClosedTerm n = t;
        const int h = add_index(n, l);
        n.weights.push_back({IndexedWeight::kind::W2, l, x, h});
        n.coefficient *= phi_derivative(l, m, h);
        for (int k = 0; k < m; ++k) {
          const int y = add_index(n, 0);
          n.weights.push_back({IndexedWeight::kind::W1, l, h, y});
          n.legs.push_back(y);
        }
        if (!n.coefficient.is_zero()) out.push_back(std::move(n));
        return;
      }
    }
  }

  // A tree class on the old term t: every assignment of its fan sizes to t's legs (the
  // compositions of n with that multiset of parts), each with weight 1/Π m!.
  void tree(int l, const DiagramClass& c, const ClosedTerm& t, Merged& into) const {
    std::vector<int> sizes = c.sizes;
    std::sort(sizes.begin(), sizes.end());
    do {
      GiNaC::numeric weight = 1;
      for (int m : sizes) weight = weight / GiNaC::ex_to<GiNaC::numeric>(GiNaC::factorial(m));
      ClosedTerm start = t;
      start.legs.clear();
      start.coefficient = t.coefficient * weight;
      std::vector<ClosedTerm> partial{start};
      for (std::size_t s = 0; s < sizes.size(); ++s) {
        std::vector<ClosedTerm> next;
        for (const ClosedTerm& p : partial) fan(l, p, t.legs[s], sizes[s], next);
        partial = std::move(next);
      }
      for (const ClosedTerm& p : partial) merge(into, p);
    } while (std::next_permutation(sizes.begin(), sizes.end()));
  }

  // A ring class of an activation: on one unit, sign · (n!/|Aut|) Π φ⁽ᵐ⁺¹⁾/φ′, and [T] = n! T.
  void ring(int l, const DiagramClass& c, Merged& into) const {
    ClosedTerm t;
    const int x = add_index(t, 0);
    const int n = c.order();
    t.legs.assign(static_cast<std::size_t>(n), x);
    ex w = GiNaC::numeric(static_cast<long>(c.multiplicity) * c.sign) / GiNaC::factorial(n);
    for (int m : c.sizes) w *= phi_derivative(l, m + 1, x) / phi_derivative(l, 1, x);
    t.coefficient = w;
    merge(into, t);
  }

  // Γ′⁽⁰⁾ = Γ⁽⁰⁾ − ln|det G⁽¹⁾|.
  void log_det(int l, Merged& into) const {
    ClosedTerm t;
    switch (layer(l).type) {
      case ArchLayer::kind::affine:
        t.coefficient = -log_det_symbol(l);
        break;
      case ArchLayer::kind::actnorm: {
        const int x = add_index(t, 0);
        t.coefficient = -GiNaC::log(GiNaC::abs(closed_symbol({Quantity::kind::scale, l, 0}, x)));
        break;
      }
      case ArchLayer::kind::activation: {
        const int x = add_index(t, 0);
        const ex slope = phi_derivative(l, 1, x);
        t.coefficient = slope == 1 ? ex(0) : ex(-GiNaC::log(GiNaC::abs(slope)));
        break;
      }
      case ArchLayer::kind::coupling:
        return;  // unit triangular
    }
    merge(into, t);
  }

  std::vector<std::vector<ClosedTerm>> pull_back(int l) const {
    std::vector<Merged> g(static_cast<std::size_t>(K_) + 1);
    for (const ClosedTerm& t : gamma_[0]) merge(g[0], t);
    log_det(l, g[0]);
    const diagrams::ClassFilter f = filter(l);
    for (int n = 1; n <= K_; ++n)
      diagrams::for_each_class(n, f, [&](const DiagramClass& c) {
        if (c.kind == diagrams::diagram_kind::ring) {
          ring(l, c, g[static_cast<std::size_t>(n)]);
          return;
        }
        for (const ClosedTerm& t : gamma_[static_cast<std::size_t>(c.vertex_count())])
          tree(l, c, t, g[static_cast<std::size_t>(n)]);
      });
    std::vector<std::vector<ClosedTerm>> out;
    for (Merged& m : g) out.push_back(finished(m));
    return out;
  }

  const Architecture& arch_;
  int K_, L_;
  std::vector<bool> unit_, hidden_;
  std::vector<std::vector<ClosedTerm>> gamma_;
};

}  // namespace

ClosedForm closed_form(const Architecture& arch, int order, bool symbolic_point) {
  if (order < 0 || order > 6)
    throw Error(fmt::format(
        "closed-form: order {} is not supported (0 to 6: the number of terms grows quickly)",
        order));
  if (arch.layers.empty() || arch.layers.size() > 8) throw Error("closed-form: give 1 to 8 layers");
  return Derivation(arch, order, symbolic_point).run();
}

}  // namespace flowaction
