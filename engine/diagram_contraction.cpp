#include "engine/diagram_contraction.hpp"

#include <cln/integer.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include "engine/error.hpp"
#include "engine/field.hpp"

namespace flowaction {

using diagrams::FeynmanDiagram;

std::size_t dense_size(int dim, int rank, std::string_view what) {
  constexpr double max_entries = 1 << 26;
  const double entries = std::pow(static_cast<double>(dim), rank);
  if (entries > max_entries)
    throw Error(
        fmt::format("{} over {} units would need {}^{} = {:.3g} dense entries, more than "
                    "the {:.3g} a contraction may hold; ask for fewer loops or a lower "
                    "order",
                    what, dim, dim, rank, entries, max_entries));
  return static_cast<std::size_t>(entries);
}

namespace {

// A dense tensor over some of a diagram's indices, row-major in vars: an input tensor
// (borrowed) or an intermediate one (owned).
template <class R>
struct Factor {
  std::vector<int> vars;
  const R* data = nullptr;
  std::vector<R> owned;

  static Factor borrow(std::vector<int> vars, const std::vector<R>& input) {
    return Factor{std::move(vars), input.data(), {}};
  }
  static Factor own(std::vector<int> vars, std::vector<R> values) {
    const R* data = values.data();  // moving the vector keeps its buffer
    return Factor{std::move(vars), data, std::move(values)};
  }
  bool has(int x) const { return std::find(vars.begin(), vars.end(), x) != vars.end(); }
};

// The product of the factors summed over the indices `summed`, as a factor over `result`, which
// holds every other index of the factors.
template <class R>
Factor<R> combine(const std::vector<const Factor<R>*>& fs, const std::vector<int>& summed,
                  std::vector<int> result, int d) {
  std::vector<int> loop = result;
  loop.insert(loop.end(), summed.begin(), summed.end());
  const std::size_t r = loop.size(), m = fs.size(), nres = result.size();
  const auto ud = static_cast<std::size_t>(d);
  std::vector<std::size_t> stride(m * r, 0);  // [f * r + j]
  for (std::size_t f = 0; f < m; ++f) {
    std::size_t s = 1;
    for (std::size_t p = fs[f]->vars.size(); p-- > 0;) {
      const auto j = static_cast<std::size_t>(std::find(loop.begin(), loop.end(), fs[f]->vars[p]) -
                                              loop.begin());
      stride[f * r + j] = s;
      s *= ud;
    }
  }
  // Offsets of every assignment of the summed indices, per factor.
  const std::size_t inner = dense_size(d, static_cast<int>(summed.size()), "a summed block");
  std::vector<std::size_t> inner_offset(m * inner, 0);
  {
    std::vector<int> digit(summed.size(), 0);
    for (std::size_t s = 0; s < inner; ++s) {
      for (std::size_t f = 0; f < m; ++f)
        for (std::size_t q = 0; q < summed.size(); ++q)
          inner_offset[f * inner + s] +=
              static_cast<std::size_t>(digit[q]) * stride[f * r + nres + q];
      for (std::size_t q = summed.size(); q-- > 0;) {
        if (++digit[q] < d) break;
        digit[q] = 0;
      }
    }
  }
  std::vector<R> values(
      dense_size(d, static_cast<int>(nres), "an intermediate tensor of a diagram"), R(0));
  std::vector<int> digit(nres, 0);
  std::vector<std::size_t> offset(m, 0);
  for (R& entry : values) {
    R acc(0);
    for (std::size_t s = 0; s < inner; ++s) {
      R term = fs[0]->data[offset[0] + inner_offset[s]];
      for (std::size_t f = 1; f < m && !vanishes(term); ++f)
        term = term * fs[f]->data[offset[f] + inner_offset[f * inner + s]];
      if (!vanishes(term)) acc += term;
    }
    entry = std::move(acc);
    for (std::size_t j = nres; j-- > 0;) {
      for (std::size_t f = 0; f < m; ++f) offset[f] += stride[f * r + j];
      if (++digit[j] < d) break;
      for (std::size_t f = 0; f < m; ++f) offset[f] -= ud * stride[f * r + j];
      digit[j] = 0;
    }
  }
  return Factor<R>::own(std::move(result), std::move(values));
}

// The next indices to sum: the internal indices held by the same one or two factors a, b,
// chosen to leave the smallest tensor, then the most indices at once. False when none is left.
template <class R>
bool next_group(const std::vector<Factor<R>>& factors, int legs, std::vector<int>& summed,
                std::size_t& a_out, std::size_t& b_out) {
  std::map<std::pair<std::size_t, std::size_t>, std::vector<int>> groups;
  for (std::size_t a = 0; a < factors.size(); ++a)
    for (int x : factors[a].vars) {
      if (x < legs) continue;
      bool earlier = false;
      for (std::size_t h = 0; h < a && !earlier; ++h) earlier = factors[h].has(x);
      if (earlier) continue;  // recorded from its first factor
      std::size_t b = a;
      for (std::size_t h = a + 1; h < factors.size(); ++h)
        if (factors[h].has(x)) b = h;
      groups[{a, b}].push_back(x);
    }
  bool found = false;
  std::size_t best_rank = 0;
  for (const auto& [pair, group] : groups) {
    const auto [a, b] = pair;
    std::size_t size = factors[a].vars.size();
    if (b != a)
      for (int y : factors[b].vars)
        if (!factors[a].has(y)) ++size;
    const std::size_t rank = size - group.size();
    if (!found || rank < best_rank || (rank == best_rank && group.size() > summed.size())) {
      found = true;
      best_rank = rank;
      summed = group;
      a_out = a;
      b_out = b;
    }
  }
  return found;
}

}  // namespace

template <class R>
std::vector<R> contract_diagram(const FeynmanDiagram& dg, int d, const std::vector<R>& propagator,
                                const std::vector<std::vector<R>>& vertex) {
  const auto& g = dg.graph;
  const int n = dg.legs;
  auto tensor = [&](int legs) -> const std::vector<R>& {
    const auto k = static_cast<std::size_t>(legs);
    if (k >= vertex.size() || vertex[k].empty())
      throw std::logic_error("contract_diagram: a vertex without its tensor");
    return vertex[k];
  };
  if (d == 1) {  // every factor is a number
    R value(1);
    for (std::size_t e = 0; e < boost::num_edges(g); ++e) value = value * propagator[0];
    for (std::size_t v = static_cast<std::size_t>(n); v < boost::num_vertices(g); ++v)
      value = value * tensor(g[v].legs)[0];
    return {value};
  }
  // Indices: leg i carries index i; edge e has n + 2e and n + 2e + 1 at its two ends.
  std::vector<Factor<R>> factors;
  std::vector<std::vector<int>> ends(boost::num_vertices(g));
  int e = 0;
  for (auto [it, end] = boost::edges(g); it != end; ++it, ++e) {
    const auto s = static_cast<int>(boost::source(*it, g));
    const auto t = static_cast<int>(boost::target(*it, g));
    const int a = s < n ? s : n + 2 * e, b = t < n ? t : n + 2 * e + 1;
    factors.push_back(Factor<R>::borrow({a, b}, propagator));
    if (s >= n) ends[static_cast<std::size_t>(s)].push_back(a);
    if (t >= n) ends[static_cast<std::size_t>(t)].push_back(b);
  }
  for (std::size_t v = static_cast<std::size_t>(n); v < ends.size(); ++v)
    factors.push_back(Factor<R>::borrow(ends[v], tensor(g[v].legs)));
  std::vector<int> summed;
  std::size_t a = 0, b = 0;
  while (next_group(factors, n, summed, a, b)) {
    std::vector<int> result;
    for (std::size_t f : {a, b})
      for (int y : factors[f].vars)
        if (std::find(summed.begin(), summed.end(), y) == summed.end() &&
            std::find(result.begin(), result.end(), y) == result.end())
          result.push_back(y);
    std::vector<const Factor<R>*> used{&factors[a]};
    if (b != a) used.push_back(&factors[b]);
    Factor<R> merged = combine(used, summed, std::move(result), d);
    factors.erase(factors.begin() + static_cast<std::ptrdiff_t>(std::max(a, b)));
    if (b != a) factors.erase(factors.begin() + static_cast<std::ptrdiff_t>(std::min(a, b)));
    factors.push_back(std::move(merged));
    summed.clear();
  }
  std::vector<const Factor<R>*> all;
  for (const Factor<R>& f : factors) all.push_back(&f);
  std::vector<int> legs(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) legs[static_cast<std::size_t>(i)] = i;
  return std::move(combine(all, {}, legs, d).owned);
}

#define FLOWACTION_INSTANTIATE(R)                                                             \
  template std::vector<R> contract_diagram(const FeynmanDiagram&, int, const std::vector<R>&, \
                                           const std::vector<std::vector<R>>&);
FLOWACTION_FIELDS(FLOWACTION_INSTANTIATE)
FLOWACTION_INSTANTIATE(cln::cl_I)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
