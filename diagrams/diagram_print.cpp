#include "diagrams/diagram_print.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <numbers>

#include "diagrams/diagram_layout.hpp"
#include "diagrams/tikz.hpp"
#include "engine/overload.hpp"

namespace flowaction::diagrams {

std::vector<term_factor> term_of(const DiagramClass& c) {
  std::vector<term_factor> out;
  int leg = 0;
  const auto legs = [&](int m, std::vector<std::string>& into) {
    for (int k = 0; k < m; ++k) into.push_back(fmt::format("j{}", ++leg));
  };
  const int r = c.vertex_count();
  if (c.kind == diagram_kind::tree) {
    term_factor old{term_factor::action_vertex, r, {}};
    for (int b = 1; b <= r; ++b) old.indices.push_back(fmt::format("a{}", b));
    out.push_back(old);
    for (int b = 0; b < r; ++b) {
      term_factor fan{term_factor::layer_vertex, c.sizes[b], {fmt::format("a{}", b + 1)}};
      legs(c.sizes[b], fan.indices);
      out.push_back(fan);
    }
    return out;
  }
  // Tr[(G⁽¹⁾⁻¹ M)^r]: vertex s has output a_s and passes b_s on to the line into vertex s + 1.
  for (int s = 0; s < r; ++s) {
    term_factor v{term_factor::layer_vertex,
                  c.sizes[s] + 1,
                  {fmt::format("a{}", s + 1), fmt::format("b{}", s + 1)}};
    legs(c.sizes[s], v.indices);
    out.push_back(v);
    out.push_back({term_factor::inverse_line,
                   1,
                   {fmt::format("b{}", s + 1), fmt::format("a{}", (s + 1) % r + 1)}});
  }
  return out;
}

namespace {

// "j12" -> "j_{12}".
std::string tex_index(const std::string& i) {
  return fmt::format("{}_{{{}}}", i.substr(0, 1), i.substr(1));
}

std::string tex_indices(const std::vector<std::string>& idx, std::size_t from = 0) {
  std::string s;
  for (std::size_t i = from; i < idx.size(); ++i) s += (i > from ? " " : "") + tex_index(idx[i]);
  return s;
}

std::string factor_latex(const term_factor& f) {
  switch (f.kind) {
    case term_factor::action_vertex:
      return fmt::format("\\Gamma^{{({})}}{}", f.order,
                         f.indices.empty() ? "" : "_{" + tex_indices(f.indices) + "}");
    case term_factor::layer_vertex:
      return fmt::format("G^{{({})}}_{{{};\\,{}}}", f.order, tex_index(f.indices[0]),
                         tex_indices(f.indices, 1));
    case term_factor::inverse_line:
      return fmt::format("(G^{{(1)}})^{{-1}}_{{{}}}", tex_indices(f.indices));
  }
  return "";
}

std::string factor_text(const term_factor& f) {
  switch (f.kind) {
    case term_factor::action_vertex:
      return fmt::format(
          "Gamma^({}){}", f.order,
          f.indices.empty() ? "" : fmt::format("_{{{}}}", fmt::join(f.indices, " ")));
    case term_factor::layer_vertex: {
      const std::vector<std::string> in(f.indices.begin() + 1, f.indices.end());
      return fmt::format("G^({})_{{{};{}}}", f.order, f.indices[0], fmt::join(in, " "));
    }
    case term_factor::inverse_line:
      return fmt::format("Ginv_{{{}}}", fmt::join(f.indices, " "));
  }
  return "";
}

std::string external_latex(int n) {
  std::string s;
  for (int j = 1; j <= n; ++j) s += (j > 1 ? " " : "") + fmt::format("j_{{{}}}", j);
  return s;
}

// The signed multiplicity in front of the term: "3\cdot", "-2\cdot", "" for 1.
long signed_multiplicity(const DiagramClass& c) {
  return static_cast<long>(c.multiplicity) * c.sign;
}

std::string text_line(const DiagramClass& c) {
  if (c.kind == diagram_kind::tree)
    return fmt::format(
        "tree: Gamma^({}) with fans G^(m), m = ({}); {} labelled copies, |Aut| = {}; {}",
        c.vertex_count(), fmt::join(c.sizes, ","), c.multiplicity, c.automorphisms, term_text(c));
  return fmt::format(
      "ring: {} vertices G^(m+1), m = ({}) around the cycle; {} labelled copies, |Aut| = {}, sign "
      "{:+d}; {}",
      c.vertex_count(), fmt::join(c.sizes, ","), c.multiplicity, c.automorphisms, c.sign,
      term_text(c));
}

constexpr const char* node_kind_name[] = {"external", "action_vertex", "fan", "ring"};
constexpr const char* factor_kind_name[] = {"Gamma", "G", "G1inv"};

nlohmann::ordered_json json_of(const DiagramClass& c) {
  nlohmann::ordered_json j;
  j["kind"] = c.kind == diagram_kind::tree ? "tree" : "ring";
  j["order"] = c.order();
  j["sizes"] = c.sizes;
  j["multiplicity"] = c.multiplicity;
  j["automorphisms"] = c.automorphisms;
  j["sign"] = c.sign;
  const graph g = to_graph(c);
  auto& nodes = j["nodes"] = nlohmann::ordered_json::array();
  for (auto [v, end] = boost::vertices(g); v != end; ++v)
    nodes.push_back({{"kind", node_kind_name[static_cast<int>(g[*v].kind)]}, {"legs", g[*v].legs}});
  auto& edges = j["edges"] = nlohmann::ordered_json::array();
  for (auto [e, end] = boost::edges(g); e != end; ++e)
    edges.push_back({boost::source(*e, g), boost::target(*e, g)});
  auto& factors = j["factors"] = nlohmann::ordered_json::array();
  for (const term_factor& f : term_of(c))
    factors.push_back(
        {{"tensor", factor_kind_name[f.kind]}, {"order", f.order}, {"indices", f.indices}});
  j["term"] = term_text(c);
  return j;
}

// ---- TikZ -----------------------------------------------------------------------------------

void tikz(const DiagramClass& c, std::ostream& out) {
  const graph g = to_graph(c);
  const diagram_layout L = layout(c, g);
  begin_tikz(out, L.high.x - L.low.x);
  const auto pos = [&](std::size_t v) { return tikz_point(L.at[v]); };
  const auto num = tikz_number;
  const double pi = std::numbers::pi;
  // Ring lines first, so that the vertices drawn over them hide their ends.
  if (c.kind == diagram_kind::ring) {
    const int r = c.vertex_count();
    const double R = L.ring_radius;
    const auto arrow = [&](double cx, double cy, double theta) {  // counter-clockwise tip
      const double x = cx + R * std::cos(theta), y = cy + R * std::sin(theta);
      const double tx = -std::sin(theta) * 0.05, ty = std::cos(theta) * 0.05;
      out << fmt::format("  \\draw[line,-stealth] ({},{}) -- ({},{});\n", num(x - tx), num(y - ty),
                         num(x + tx), num(y + ty));
    };
    if (r == 1) {
      out << fmt::format("  \\draw[line] (0,{}) circle[radius={}];\n", num(R), num(R));
      arrow(0, R, pi / 2);
    } else {
      for (int s = 0; s < r; ++s) {
        const double a = -90.0 + 360.0 * s / r;
        out << fmt::format("  \\draw[line] ({}:{}) arc[start angle={}, end angle={}, radius={}];\n",
                           num(a), num(R), num(a), num(a + 360.0 / r), num(R));
        arrow(0, 0, (a + 180.0 / r) * pi / 180.0);
      }
    }
  }
  int leg = 0;
  for (auto [v, end] = boost::vertices(g); v != end; ++v) {
    const node& n = g[*v];
    switch (n.kind) {
      case node_kind::action_vertex:
        out << fmt::format("  \\node[old] (v{}) at {} {{$\\Gamma^{{({})}}$}};\n", *v, pos(*v),
                           n.legs);
        break;
      case node_kind::fan:
        out << fmt::format("  \\node[layer] (v{}) at {} {{${}$}};\n", *v, pos(*v), n.legs);
        break;
      case node_kind::ring:
        out << fmt::format("  \\node[layer] (v{}) at {} {{${}$}};\n", *v, pos(*v), n.legs + 1);
        break;
      case node_kind::external:
        out << fmt::format("  \\coordinate (v{}) at {};\n", *v, pos(*v));
        leg_label(out, *v, L.outward[*v], fmt::format("j_{{{}}}", ++leg));
        break;
    }
  }
  for (auto [e, end] = boost::edges(g); e != end; ++e) {
    const auto s = boost::source(*e, g), t = boost::target(*e, g);
    if (g[s].kind == node_kind::ring && g[t].kind == node_kind::ring) continue;  // drawn above
    out << fmt::format("  \\draw (v{}) -- (v{});\n", s, t);
  }
  end_tikz(out);
}

void latex_entry(const DiagramClass& c, const latex_context& ctx) {
  std::ostream& out = *ctx.s;
  out << fmt::format("% class: {} ({}) multiplicity {} automorphisms {} sign {:+d}\n",
                     c.kind == diagram_kind::tree ? "tree" : "ring", fmt::join(c.sizes, ","),
                     c.multiplicity, c.automorphisms, c.sign);
  picture_beside(
      out, ctx.pictures, [&] { tikz(c, out); },
      [&] {
        if (c.kind == diagram_kind::tree)
          out << fmt::format("Tree: $\\Gamma^{{({})}}$, layer vertices $G^{{(m)}}$ with $m = {}$",
                             c.vertex_count(), fmt::join(c.sizes, ", "));
        else
          out << fmt::format("Ring of {} layer vertices $G^{{(m+1)}}$, $m = {}$ around the trace",
                             c.vertex_count(), fmt::join(c.sizes, ", "));
        out << fmt::format("; ${}$ labelled diagrams, $|\\mathrm{{Aut}}| = {}$, sign ${}$.\\\\\n",
                           c.multiplicity, c.automorphisms, c.sign > 0 ? "+" : "-");
        out << "$" << term_latex(c) << "$";
      });
}

}  // namespace

std::string term_latex(const DiagramClass& c) {
  const int n = c.order();
  std::string factors;
  for (const term_factor& f : term_of(c))
    factors += (factors.empty() ? "" : "\\,\\allowbreak ") + factor_latex(f);
  const long m = signed_multiplicity(c);
  const std::string front = m == 1 ? "" : m == -1 ? "-" : fmt::format("{}\\cdot ", m);
  const std::string body = n <= 1 ? factors : "\\operatorname{Sym}\\bigl[" + factors + "\\bigr]";
  return fmt::format("\\Gamma'^{{({})}}{} \\supset {}{}", n,
                     n ? "_{" + external_latex(n) + "}" : "", front, body);
}

std::string term_text(const DiagramClass& c) {
  const int n = c.order();
  std::vector<std::string> factors;
  for (const term_factor& f : term_of(c)) factors.push_back(factor_text(f));
  std::vector<std::string> legs;
  for (int j = 1; j <= n; ++j) legs.push_back(fmt::format("j{}", j));
  const std::string body = fmt::format("{}", fmt::join(factors, " "));
  return fmt::format("Gamma'^({}){} += {} * {}", n,
                     n ? fmt::format("_{{{}}}", fmt::join(legs, " ")) : "", signed_multiplicity(c),
                     n <= 1 ? body : "Sym[" + body + "]");
}

void print(const DiagramClass& c, const print_context& ctx) {
  std::visit(overload{
                 [&](const text_context& t) { *t.s << text_line(c) << '\n'; },
                 [&](const json_context& j) { *j.s << json_of(c).dump() << '\n'; },
                 [&](const latex_context& l) { latex_entry(c, l); },
             },
             ctx);
}

}  // namespace flowaction::diagrams
