#include "engine/simplify.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "engine/field.hpp"

namespace flowaction {

namespace {

using GiNaC::ex;

// The symbols of e, by name.
// Kept as ex: a copy as GiNaC::symbol would slice a realsymbol into a different symbol.
std::vector<ex> symbols_of(const ex& e) {
  std::vector<ex> found;
  for (auto it = e.preorder_begin(); it != e.preorder_end(); ++it)
    if (GiNaC::is_a<GiNaC::symbol>(*it)) found.push_back(*it);
  const auto name = [](const ex& s) { return GiNaC::ex_to<GiNaC::symbol>(s).get_name(); };
  std::sort(found.begin(), found.end(),
            [&](const ex& a, const ex& b) { return name(a) < name(b); });
  found.erase(std::unique(found.begin(), found.end(),
                          [](const ex& a, const ex& b) { return a.is_equal(b); }),
              found.end());
  return found;
}

// p as a polynomial in symbols[i], its coefficients nested in the following symbols:
// W₀₀(3 + 2α) + W₁₀(…) rather than 3W₀₀ + 2αW₀₀ + ….
ex nested(const ex& p, const std::vector<ex>& symbols, std::size_t i) {
  if (i == symbols.size() || GiNaC::is_a<GiNaC::numeric>(p)) return p;
  const ex& s = symbols[i];
  const int lo = p.ldegree(s), hi = p.degree(s);
  ex out = 0;
  for (int k = lo; k <= hi; ++k) {
    const ex c = p.coeff(s, k);
    if (!c.is_zero()) out += GiNaC::pow(s, k) * nested(c, symbols, i + 1);
  }
  return out;
}

// Collected: the symbols that occur to the lowest degree outermost (a vertex linear in the W of
// one layer reads as W times polynomials in the α), the denominator's number moved into the
// numerator's coefficients.
ex collected(const ex& num, const ex& den, std::vector<ex> symbols) {
  const ex n = num.expand();
  std::stable_sort(symbols.begin(), symbols.end(),
                   [&](const ex& a, const ex& b) { return n.degree(a) < n.degree(b); });
  GiNaC::numeric c = 1;
  ex rest = den;
  if (GiNaC::is_a<GiNaC::numeric>(den)) {
    c = GiNaC::ex_to<GiNaC::numeric>(den);
    rest = 1;
  } else if (GiNaC::is_a<GiNaC::mul>(den)) {
    rest = 1;
    for (std::size_t i = 0; i < den.nops(); ++i)
      if (GiNaC::is_a<GiNaC::numeric>(den.op(i)))
        c *= GiNaC::ex_to<GiNaC::numeric>(den.op(i));
      else
        rest *= den.op(i);
  }
  return nested((n / c).expand(), symbols, 0) / rest;
}

// Length as a reader sees it: symbols weigh more than the digits of numbers; signs are free
// (the printer moves a negative number in front into a sum factor: 2α(3 − 8α²)).
std::size_t cost(const ex& e) {
  std::size_t c = 0;
  for (auto it = e.preorder_begin(); it != e.preorder_end(); ++it) {
    if (GiNaC::is_a<GiNaC::symbol>(*it)) c += 4;
    if (GiNaC::is_a<GiNaC::numeric>(*it)) {
      const auto& n = GiNaC::ex_to<GiNaC::numeric>(*it);
      if (n == 1 || n == -1) continue;
      c += to_string(GiNaC::abs(n.numer())).size();
      if (n.denom() != 1) c += to_string(n.denom()).size();
    }
  }
  return c;
}

// factor() is exponential in bad cases: only moderate polynomials are tried.
constexpr std::size_t max_factor_terms = 200;

ex factored(const ex& p) {
  const ex x = p.expand();
  if (GiNaC::is_a<GiNaC::add>(x) && x.nops() > max_factor_terms) return x;
  return GiNaC::factor(x);
}

}  // namespace

std::optional<simplify_mode> parse_simplify(std::string_view name) {
  if (name == "expand") return simplify_mode::expand;
  if (name == "collect") return simplify_mode::collect;
  if (name == "factor") return simplify_mode::factor;
  return std::nullopt;
}

ex simplified(const ex& e, simplify_mode mode) {
  if (mode == simplify_mode::expand || GiNaC::is_a<GiNaC::numeric>(e)) return e;
  const std::vector<ex> symbols = symbols_of(e);
  if (symbols.empty()) return e;
  const ex nd = GiNaC::normal(e).numer_denom();
  const ex c = collected(nd.op(0), factored(nd.op(1)), symbols);
  if (mode == simplify_mode::collect) return c;
  const ex f = factored(nd.op(0)) / factored(nd.op(1));
  return cost(f) <= cost(c) ? f : c;
}

template <class T>
void simplify_vertices(Action<T>& action, simplify_mode mode) {
  if constexpr (std::is_same_v<T, GiNaC::ex>) {
    if (mode == simplify_mode::expand) return;
    for (auto& g : action.vertices)
      for (ex& v : g.data()) v = simplified(v, mode);
  }
}

template void simplify_vertices(Action<double>&, simplify_mode);
template void simplify_vertices(Action<GiNaC::ex>&, simplify_mode);

}  // namespace flowaction
