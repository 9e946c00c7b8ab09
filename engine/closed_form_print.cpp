#include "engine/closed_form_print.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "engine/action.hpp"
#include "engine/expression_print.hpp"
#include "engine/overload.hpp"

namespace flowaction {

namespace {

using GiNaC::ex;

bool latex(expression_style s) {
  return s == expression_style::latex;
}

// Names of a term's indices: external ones i, j, k, … after their first leg, summed units a, b,
// c, …, summed hidden units h, h', h''.
struct Names {
  std::vector<std::string> plain, tex;
  std::vector<int> summed;                      // indices with no leg
  std::vector<std::pair<int, int>> deltas;      // legs sharing an index: (first, other)
  std::vector<std::string> leg_plain, leg_tex;  // per leg
  std::vector<IndexedWeight> weights;           // in reading order
};

// Weights in reading order: outward from the external legs, leg by leg, so that the summed
// indices are named in the order a reader meets them.
std::vector<IndexedWeight> reading_order(const ClosedTerm& t) {
  std::vector<IndexedWeight> out;
  std::vector<bool> used(t.weights.size(), false);
  std::vector<int> queue;
  for (int i : t.legs)
    if (std::find(queue.begin(), queue.end(), i) == queue.end()) queue.push_back(i);
  for (std::size_t q = 0; q <= queue.size(); ++q) {
    if (q == queue.size()) {  // a part not reached from the legs
      const auto left = std::find(used.begin(), used.end(), false);
      if (left == used.end()) break;
      queue.push_back(t.weights[static_cast<std::size_t>(left - used.begin())].out);
    }
    const int x = queue[q];
    for (std::size_t w = 0; w < t.weights.size(); ++w) {
      const IndexedWeight& iw = t.weights[w];
      if (used[w] || (iw.in != x && iw.out != x)) continue;
      used[w] = true;
      out.push_back(iw);
      const int other = iw.in == x ? iw.out : iw.in;
      if (std::find(queue.begin(), queue.end(), other) == queue.end()) queue.push_back(other);
    }
  }
  return out;
}

std::string numbered(std::string_view letter, int k, bool tex) {
  return tex ? fmt::format("{}_{{{}}}", letter, k) : fmt::format("{}{}", letter, k);
}

Names names_of(const ClosedTerm& t) {
  Names n;
  const auto I = t.ranges.size();
  n.plain.assign(I, "");
  n.tex.assign(I, "");
  constexpr std::string_view legs = "ijklmnop", units = "abcdefg";
  for (std::size_t s = 0; s < t.legs.size(); ++s) {
    const std::string p =
        s < legs.size() ? std::string(1, legs[s]) : numbered("i", static_cast<int>(s + 1), false);
    const std::string x =
        s < legs.size() ? std::string(1, legs[s]) : numbered("i", static_cast<int>(s + 1), true);
    n.leg_plain.push_back(p);
    n.leg_tex.push_back(x);
    const auto i = static_cast<std::size_t>(t.legs[s]);
    if (n.plain[i].empty()) {
      n.plain[i] = p;
      n.tex[i] = x;
    }
  }
  for (std::size_t s = 0; s < t.legs.size(); ++s)
    for (std::size_t r = 0; r < s; ++r)
      if (t.legs[r] == t.legs[s]) {
        n.deltas.emplace_back(static_cast<int>(r), static_cast<int>(s));
        break;
      }
  n.weights = reading_order(t);
  std::vector<std::size_t> met;  // summed indices in the order the weights meet them
  for (const IndexedWeight& w : n.weights)
    for (int i : {w.out, w.in})
      if (std::find(met.begin(), met.end(), static_cast<std::size_t>(i)) == met.end())
        met.push_back(static_cast<std::size_t>(i));
  for (std::size_t i = 0; i < I; ++i)
    if (std::find(met.begin(), met.end(), i) == met.end()) met.push_back(i);
  int unit = 0, hidden = 0;
  for (std::size_t i : met) {
    if (!n.plain[i].empty()) continue;
    n.summed.push_back(static_cast<int>(i));
    if (t.ranges[i] == 0) {
      const int k = unit++;
      n.plain[i] =
          k < 7 ? std::string(1, units[static_cast<std::size_t>(k)]) : numbered("a", k + 1, false);
      n.tex[i] =
          k < 7 ? std::string(1, units[static_cast<std::size_t>(k)]) : numbered("a", k + 1, true);
    } else {
      const int k = hidden++;
      n.plain[i] = k == 0 ? "h" : numbered("h", k + 1, false);
      n.tex[i] =
          k < 3 ? "h" + std::string(static_cast<std::size_t>(k), '\'') : numbered("h", k + 1, true);
    }
  }
  return n;
}

// α⁽²⁾_a as TeX (\\alpha^{(2)}_{a}) or plain (alpha2_a).
std::string quantity_string(const Quantity& q, const std::string& index, bool tex) {
  struct stem {
    const char* tex;
    const char* plain;
  };
  constexpr stem stems[] = {{"\\alpha", "alpha"}, {"c", "c"}, {"s", "s"}, {"u", "u"}, {"v", "v"}};
  const stem& s = stems[static_cast<int>(q.what)];
  const bool power = q.what == Quantity::kind::coefficient;
  if (tex)
    return power ? fmt::format("{}^{{({})}}_{{{},{}}}", s.tex, q.layer, q.power, index)
                 : fmt::format("{}^{{({})}}_{{{}}}", s.tex, q.layer, index);
  return power ? fmt::format("{}{}_{}_{}", s.plain, q.layer, q.power, index)
               : fmt::format("{}{}_{}", s.plain, q.layer, index);
}

// A display symbol for a quantity on a named index.
ex display_symbol(const Quantity& q, const std::string& plain, const std::string& tex) {
  return GiNaC::realsymbol(quantity_string(q, plain, false),
                           "{" + quantity_string(q, tex, true) + "}");
}

// The coefficient as it is shown: [T] = n! T folded in, per-index symbols renamed after the
// term's indices, simplified.
ex shown_coefficient(const ClosedTerm& t, const Names& n, simplify_mode mode) {
  GiNaC::exmap map;
  for (auto it = t.coefficient.preorder_begin(); it != t.coefficient.preorder_end(); ++it)
    if (const auto q = closed_symbol_of(*it)) {
      const auto i = static_cast<std::size_t>(q->second);
      map[*it] = display_symbol(q->first, n.plain[i], n.tex[i]);
    }
  const ex c = t.coefficient.subs(map) * GiNaC::factorial(static_cast<int>(t.legs.size()));
  return simplified(GiNaC::normal(c), mode);
}

std::string weight_string(const IndexedWeight& w, const Names& n, expression_style style) {
  const auto o = static_cast<std::size_t>(w.out), i = static_cast<std::size_t>(w.in);
  if (latex(style)) {
    const std::string idx = n.tex[o].size() == 1 && n.tex[i].size() == 1
                                ? n.tex[o] + n.tex[i]
                                : n.tex[o] + "," + n.tex[i];
    const char* stem = w.what == IndexedWeight::kind::W    ? "W"
                       : w.what == IndexedWeight::kind::W1 ? "(W_1)"
                                                           : "(W_2)";
    return fmt::format("{}^{{({})}}_{{{}}}", stem, w.layer, idx);
  }
  const char* stem = w.what == IndexedWeight::kind::W    ? "W"
                     : w.what == IndexedWeight::kind::W1 ? "W1"
                                                         : "W2";
  return fmt::format("{}^({})_{{{} {}}}", stem, w.layer, n.plain[o], n.plain[i]);
}

// One term: its sign apart, so that terms join with + and -.
std::pair<bool, std::string> term_string(const ClosedTerm& t, simplify_mode mode,
                                         expression_style style) {
  const Names n = names_of(t);
  const ex c = shown_coefficient(t, n, mode);
  // The sign a product prints with goes between the terms; a sum keeps its signs inside.
  std::string coefficient = format_expression(c, style);
  const bool alone = t.weights.empty() && n.deltas.empty();
  bool negative = false;
  if (GiNaC::is_a<GiNaC::add>(c)) {
    if (!alone)
      coefficient = latex(style) ? "\\left(" + coefficient + "\\right)" : "(" + coefficient + ")";
  } else if (coefficient.starts_with("-")) {
    negative = true;
    coefficient.erase(0, 1);
  }
  std::vector<std::string> factors;
  if (coefficient != "1" || alone) factors.push_back(coefficient);
  for (const IndexedWeight& w : n.weights) factors.push_back(weight_string(w, n, style));
  for (const auto& [r, s] : n.deltas)
    factors.push_back(latex(style)
                          ? fmt::format("\\delta_{{{}{}}}", n.leg_tex[static_cast<std::size_t>(r)],
                                        n.leg_tex[static_cast<std::size_t>(s)])
                          : fmt::format("delta_{{{} {}}}", n.leg_plain[static_cast<std::size_t>(r)],
                                        n.leg_plain[static_cast<std::size_t>(s)]));
  std::string body = fmt::format("{}", fmt::join(factors, latex(style) ? "\\," : " * "));
  if (!t.symmetric)
    body = latex(style) ? "\\operatorname{Sym}\\bigl[" + body + "\\bigr]" : "Sym[" + body + "]";
  if (!n.summed.empty()) {
    std::vector<std::string> over;
    for (int i : n.summed)
      over.push_back(latex(style) ? n.tex[static_cast<std::size_t>(i)]
                                  : n.plain[static_cast<std::size_t>(i)]);
    body = latex(style) ? fmt::format("\\sum_{{{}}} {}", fmt::join(over, ","), body)
                        : fmt::format("sum_{{{}}} {}", fmt::join(over, ","), body);
  }
  return {negative, body};
}

std::string vertex_name(int n, expression_style style) {
  constexpr std::string_view legs = "ijklmnop";
  std::string idx;
  for (int s = 0; s < n; ++s)
    idx +=
        s < 8 ? std::string(1, legs[static_cast<std::size_t>(s)]) : fmt::format("i_{{{}}}", s + 1);
  if (latex(style)) return n ? fmt::format("\\Gamma^{{({})}}_{{{}}}", n, idx) : "\\Gamma^{(0)}";
  return n ? fmt::format("Gamma^({})_{{{}}}", n, fmt::join(std::string_view(idx), " "))
           : "Gamma^(0)";
}

std::string phi_text(const ArchLayer& a, int l, expression_style style) {
  const GiNaC::realsymbol u("u");
  GiNaC::exmap map;
  const ex phi = closed_phi(a, l, u, 0);
  for (auto it = phi.preorder_begin(); it != phi.preorder_end(); ++it)
    if (const auto q = closed_symbol_of(*it)) {
      const std::string idx = a.type == ArchLayer::kind::coupling ? "h" : "a";
      map[*it] = display_symbol(q->first, idx, idx);
    }
  return format_expression(phi.subs(map), style);
}

std::string layer_line(const ArchLayer& a, int l, expression_style style) {
  const bool tex = latex(style);
  switch (a.type) {
    case ArchLayer::kind::affine:
    case ArchLayer::kind::actnorm: {
      // z_a = (W y)_a or s_a y_a, plus the bias b_a or shift t_a.
      const bool affine = a.type == ArchLayer::kind::affine;
      const std::string map = tex ? (affine ? fmt::format("\\sum_b W^{{({})}}_{{ab}} y_b", l)
                                            : fmt::format("s^{{({})}}_a y_a", l))
                                  : (affine ? fmt::format("sum_b W^({})_{{a b}} y_b", l)
                                            : fmt::format("s^({})_a y_a", l));
      const std::string bias = !a.bias ? ""
                               : tex   ? fmt::format(" + {}^{{({})}}_a", affine ? "b" : "t", l)
                                       : fmt::format(" + {}^({})_a", affine ? "b" : "t", l);
      return tex ? fmt::format("$z_a = {}{}$", map, bias) : fmt::format("z_a = {}{}", map, bias);
    }
    case ArchLayer::kind::activation:
      return tex ? fmt::format("$z_a = \\varphi(y_a)$, $\\varphi(u) = {}$", phi_text(a, l, style))
                 : fmt::format("z_a = phi(y_a), phi(u) = {}", phi_text(a, l, style));
    case ArchLayer::kind::coupling:
      return tex ? fmt::format(
                       "$z_i = y_i + \\sum_h (W_2)^{{({0})}}_{{ih}}\\,\\varphi\\bigl(\\sum_j "
                       "(W_1)^{{({0})}}_{{hj}} y_j{1}\\bigr){2}$, $\\varphi(u) = {3}$, with "
                       "$(W_1)^{{({0})}}_{{hj}} = 0$ for $j \\in B$ and $(W_2)^{{({0})}}_{{ih}} = "
                       "0$ for $i \\in A$",
                       l, a.bias ? fmt::format(" + (b_1)^{{({})}}_h", l) : "",
                       a.bias ? fmt::format(" + (b_2)^{{({})}}_i", l) : "", phi_text(a, l, style))
                 : fmt::format(
                       "z_i = y_i + sum_h W2^({0})_{{i h}} phi(sum_j W1^({0})_{{h j}} y_j{1}){2}, "
                       "phi(u) = {3}; "
                       "W1 is zero on columns j in B, W2 on rows i in A",
                       l, a.bias ? fmt::format(" + b1^({})_h", l) : "",
                       a.bias ? fmt::format(" + b2^({})_i", l) : "", phi_text(a, l, style));
  }
  return "";
}

// The forward values the coefficients name, defined once.
std::vector<std::string> definitions(const ClosedForm& f, expression_style style) {
  std::vector<std::string> out;
  const bool tex = latex(style);
  const auto L = static_cast<int>(f.arch.layers.size());
  if (f.symbolic_point) out.push_back(tex ? "u^{(1)}_a = x_{0,a}" : "u1_a = x0_a");
  for (int l = 1; l <= L; ++l) {
    if (!f.unit_values[static_cast<std::size_t>(l)]) continue;
    const ArchLayer& a = f.arch.layers[static_cast<std::size_t>(l - 1)];
    const bool in = f.unit_values[static_cast<std::size_t>(l - 1)];
    const int n = l + 1;
    switch (a.type) {
      case ArchLayer::kind::affine:
        out.push_back(
            tex ? fmt::format("u^{{({})}}_a = {}{}", n,
                              in ? fmt::format("\\sum_b W^{{({})}}_{{ab}} u^{{({})}}_b", l, l) : "",
                              a.bias ? fmt::format("{}b^{{({})}}_a", in ? " + " : "", l) : "")
                : fmt::format("u{}_a = {}{}", n,
                              in ? fmt::format("sum_b W^({})_{{a b}} u{}_b", l, l) : "",
                              a.bias ? fmt::format("{}b^({})_a", in ? " + " : "", l) : ""));
        break;
      case ArchLayer::kind::activation:
        out.push_back(tex ? fmt::format("u^{{({})}}_a = \\varphi_{}(u^{{({})}}_a)", n, l, l)
                          : fmt::format("u{}_a = phi{}(u{}_a)", n, l, l));
        break;
      case ArchLayer::kind::actnorm:
        out.push_back(
            tex ? fmt::format("u^{{({})}}_a = {}{}", n,
                              in ? fmt::format("s^{{({})}}_a u^{{({})}}_a", l, l) : "",
                              a.bias ? fmt::format("{}t^{{({})}}_a", in ? " + " : "", l) : "")
                : fmt::format("u{}_a = {}{}", n, in ? fmt::format("s{}_a u{}_a", l, l) : "",
                              a.bias ? fmt::format("{}t^({})_a", in ? " + " : "", l) : ""));
        break;
      case ArchLayer::kind::coupling:
        out.push_back(
            tex ? fmt::format(
                      "v^{{({0})}}_h = {1}{2}", l,
                      in ? fmt::format("\\sum_j (W_1)^{{({0})}}_{{hj}} u^{{({0})}}_j", l) : "",
                      a.bias ? fmt::format("{}(b_1)^{{({})}}_h", in ? " + " : "", l) : "")
                : fmt::format("v{0}_h = {1}{2}", l,
                              in ? fmt::format("sum_j W1^({0})_{{h j}} u{0}_j", l) : "",
                              a.bias ? fmt::format("{}b1^({})_h", in ? " + " : "", l) : ""));
        out.push_back(tex ? fmt::format("u^{{({0})}}_i = {1}\\sum_h "
                                        "(W_2)^{{({2})}}_{{ih}}\\,\\varphi_{2}(v^{{({2})}}_h){3}",
                                        n, in ? fmt::format("u^{{({})}}_i + ", l) : "", l,
                                        a.bias ? fmt::format(" + (b_2)^{{({})}}_i", l) : "")
                          : fmt::format("u{0}_i = {1}sum_h W2^({2})_{{i h}} phi{2}(v{2}_h){3}", n,
                                        in ? fmt::format("u{}_i + ", l) : "", l,
                                        a.bias ? fmt::format(" + b2^({})_i", l) : ""));
        break;
    }
  }
  return out;
}

std::string spec_of(const ClosedForm& f) {
  std::vector<std::string> tokens;
  for (const ArchLayer& a : f.arch.layers) tokens.push_back(a.token);
  return fmt::format("{}", fmt::join(tokens, ","));
}

constexpr const char* convention =
    "S(x) = -ln p(x) = sum_n (1/n!) Gamma^(n)_{i1..in} d_i1...d_in, d = x - x0, the flow "
    "mapping data to a standard normal latent. Every index runs over the d units (h over the "
    "hidden units of a coupling); sums over internal indices are written out, the external "
    "indices are i, j, k, ...; Sym[...] averages over the orders of the external indices.";

void print_text(const ClosedForm& f, simplify_mode mode, std::ostream& out) {
  const auto style = expression_style::plain;
  out << "# flowaction closed form\n# convention: " << convention << '\n';
  out << fmt::format("# architecture (data -> latent): {}; expansion point x0 = {}\n", spec_of(f),
                     f.symbolic_point ? "symbolic" : "0");
  for (std::size_t l = 0; l < f.arch.layers.size(); ++l)
    out << fmt::format("#   layer {} ({}): {}\n", l + 1, f.arch.layers[l].token,
                       layer_line(f.arch.layers[l], static_cast<int>(l + 1), style));
  for (const std::string& d : definitions(f, style)) out << "# where " << d << '\n';
  for (int n = 0; n <= f.order; ++n) {
    out << '\n' << vertex_name(n, style) << " =";
    const auto& terms = f.vertices[static_cast<std::size_t>(n)];
    if (terms.empty()) out << " 0";
    for (std::size_t k = 0; k < terms.size(); ++k) {
      const auto [negative, body] = term_string(terms[k], mode, style);
      out << "\n    " << (negative ? "- " : k ? "+ " : "  ") << body;
    }
    out << '\n';
  }
}

void print_latex(const ClosedForm& f, simplify_mode mode, std::ostream& out) {
  const auto style = expression_style::latex;
  out << "% flowaction: closed form of the vertices of an architecture\n";
  out << "\\noindent\\textbf{Architecture} (data $\\to$ latent):\n\\begin{enumerate}\n";
  for (std::size_t l = 0; l < f.arch.layers.size(); ++l)
    out << fmt::format("\\item \\texttt{{{}}}: {}\n", f.arch.layers[l].token,
                       layer_line(f.arch.layers[l], static_cast<int>(l + 1), style));
  out << "\\end{enumerate}\n";
  out << "\\noindent\\textbf{Convention.} $S(x) = -\\ln p(x) = \\sum_n \\frac{1}{n!}\\,"
         "\\Gamma^{(n)}_{i_1\\dots i_n}\\,\\delta_{i_1}\\cdots\\delta_{i_n}$, $\\delta = x - x_0$, "
         "the "
         "flow mapping the data to a standard normal latent; expanded around "
      << (f.symbolic_point ? "a symbolic point $x_0$" : "$x_0 = 0$")
      << ". Every index runs over the $d$ units ($h$ over the hidden units of a coupling); sums "
         "over internal indices are written out, the external indices are $i, j, k, \\dots$, and "
         "$\\operatorname{Sym}$ averages over their orders.\n";
  const auto defs = definitions(f, style);
  if (!defs.empty()) {
    out << "The values of the units at the expansion point are named:\n\\begin{align*}\n";
    for (std::size_t k = 0; k < defs.size(); ++k)
      out << defs[k] << (k + 1 < defs.size() ? " \\\\\n" : "\n");
    out << "\\end{align*}\n";
  }
  for (int n = 0; n <= f.order; ++n) {
    const auto& terms = f.vertices[static_cast<std::size_t>(n)];
    out << fmt::format("\n\\paragraph{{Order {}}} {} term{}.\n", n, terms.size(),
                       terms.size() == 1 ? "" : "s");
    out << "\\begin{align*}\n" << vertex_name(n, style) << " &=";
    if (terms.empty()) out << " 0";
    for (std::size_t k = 0; k < terms.size(); ++k) {
      const auto [negative, body] = term_string(terms[k], mode, style);
      if (k) out << " \\\\\n&\\quad";
      out << (negative ? " - " : k ? " + " : " ") << body;
    }
    out << "\n\\end{align*}\n";
  }
}

void print_json(const ClosedForm& f, simplify_mode mode, std::ostream& out) {
  nlohmann::ordered_json doc;
  doc["format"] = "flowaction-closed-form/1";
  doc["convention"] = convention;
  doc["arch"] = spec_of(f);
  doc["order"] = f.order;
  doc["at"] = f.symbolic_point ? "symbolic" : "0";
  doc["definitions"] = definitions(f, expression_style::plain);
  auto& vertices = doc["vertices"] = nlohmann::ordered_json::array();
  for (int n = 0; n <= f.order; ++n) {
    nlohmann::ordered_json v;
    v["order"] = n;
    auto& terms = v["terms"] = nlohmann::ordered_json::array();
    for (const ClosedTerm& t : f.vertices[static_cast<std::size_t>(n)]) {
      const Names names = names_of(t);
      nlohmann::ordered_json j;
      j["coefficient"] =
          format_expression(shown_coefficient(t, names, mode), expression_style::plain);
      std::vector<std::string> summed;
      for (int i : names.summed) summed.push_back(names.plain[static_cast<std::size_t>(i)]);
      j["sum"] = summed;
      auto& weights = j["weights"] = nlohmann::ordered_json::array();
      for (const IndexedWeight& w : names.weights)
        weights.push_back({{"tensor", w.what == IndexedWeight::kind::W    ? "W"
                                      : w.what == IndexedWeight::kind::W1 ? "W1"
                                                                          : "W2"},
                           {"layer", w.layer},
                           {"indices",
                            {names.plain[static_cast<std::size_t>(w.out)],
                             names.plain[static_cast<std::size_t>(w.in)]}}});
      auto& deltas = j["deltas"] = nlohmann::ordered_json::array();
      for (const auto& [r, s] : names.deltas)
        deltas.push_back({names.leg_plain[static_cast<std::size_t>(r)],
                          names.leg_plain[static_cast<std::size_t>(s)]});
      j["symmetrised"] = !t.symmetric;
      j["term"] = term_string(t, mode, expression_style::plain).second;
      j["negative"] = term_string(t, mode, expression_style::plain).first;
      terms.push_back(std::move(j));
    }
    vertices.push_back(std::move(v));
  }
  out << doc.dump(1) << '\n';
}

}  // namespace

void print(const ClosedForm& form, const print_context& ctx, simplify_mode mode) {
  std::visit(overload{
                 [&](const text_context& t) { print_text(form, mode, *t.s); },
                 [&](const json_context& j) { print_json(form, mode, *j.s); },
                 [&](const latex_context& l) { print_latex(form, mode, *l.s); },
             },
             ctx);
}

}  // namespace flowaction
