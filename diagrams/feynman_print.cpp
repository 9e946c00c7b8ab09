#include "diagrams/feynman_print.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "diagrams/diagram_layout.hpp"
#include "diagrams/tikz.hpp"
#include "engine/json_listing.hpp"
#include "engine/overload.hpp"

namespace flowaction::diagrams {

namespace {

constexpr const char* kind_name[] = {"leg", "source", "interaction"};  // by feynman_node_kind

// Vertex names in a text line: legs x0, x1, …, sources s0, …, interaction vertices v0, ….
std::vector<std::string> vertex_names(const feynman_graph& g) {
  std::vector<std::string> names;
  int legs = 0, sources = 0, vertices = 0;
  for (auto [v, end] = boost::vertices(g); v != end; ++v) switch (g[*v].kind) {
      case feynman_node_kind::leg:
        names.push_back(fmt::format("x{}", legs++));
        break;
      case feynman_node_kind::source:
        names.push_back(fmt::format("s{}", sources++));
        break;
      case feynman_node_kind::interaction:
        names.push_back(fmt::format("v{}", vertices++));
        break;
    }
  return names;
}

std::string text_line(const FeynmanDiagram& d) {
  const std::vector<std::string> names = vertex_names(d.graph);
  std::vector<std::string> content;
  if (d.sources > 0) content.push_back(fmt::format("{} x -Gamma(1)", d.sources));
  const std::vector<int> valences = d.valences();
  for (std::size_t k = 0; k < valences.size(); ++k)
    if (valences[k] > 0) content.push_back(fmt::format("{} x -Gamma({})", valences[k], k));
  std::vector<std::string> edges;
  for (auto [e, end] = boost::edges(d.graph); e != end; ++e)
    edges.push_back(names[boost::source(*e, d.graph)] + "-" + names[boost::target(*e, d.graph)]);
  return fmt::format("loops {} ({} cycles), factor 1/{}, |Aut| {}, {} labelled; {}; edges {}",
                     d.loops(), d.cycles, d.symmetry_factor, d.automorphisms, d.labelled_copies(),
                     content.empty() ? "no vertices" : fmt::format("{}", fmt::join(content, ", ")),
                     fmt::join(edges, " "));
}

nlohmann::ordered_json json_of(const FeynmanDiagram& d) {
  nlohmann::ordered_json j;
  j["legs"] = d.legs;
  j["loops"] = d.loops();
  j["cycles"] = d.cycles;
  j["sources"] = d.sources;
  j["symmetry_factor"] = d.symmetry_factor;
  j["automorphisms"] = d.automorphisms;
  j["labelled_copies"] = d.labelled_copies();
  auto& vertices = j["vertices"] = nlohmann::ordered_json::array();
  for (auto [v, end] = boost::vertices(d.graph); v != end; ++v)
    vertices.push_back(
        {{"kind", kind_name[static_cast<int>(d.graph[*v].kind)]}, {"legs", d.graph[*v].legs}});
  auto& edges = j["edges"] = nlohmann::ordered_json::array();
  for (auto [e, end] = boost::edges(d.graph); e != end; ++e)
    edges.push_back({boost::source(*e, d.graph), boost::target(*e, d.graph)});
  return j;
}

std::string section_name(std::size_t legs) {
  return legs == 0 ? "ln(Z/Z0)" : fmt::format("W({})", legs);
}

void print_text(const FeynmanListing& l, std::ostream& out) {
  std::vector<std::string> vertices;
  if (l.rules.sources) vertices.push_back("-Gamma(1)");
  for (int k : l.rules.valences) vertices.push_back(fmt::format("-Gamma({})", k));
  out << "# flowaction Feynman diagrams: connected, one per isomorphism class; a labelled diagram "
         "(legs told apart) has weight 1/factor\n";
  out << fmt::format("# loops <= {} (cycles, plus one per -Gamma(1)); vertices: {}\n", l.loops,
                     vertices.empty() ? "none" : fmt::format("{}", fmt::join(vertices, ", ")));
  for (std::size_t n = 0; n < l.by_legs.size(); ++n) {
    out << fmt::format("\n{}: {} diagrams\n", section_name(n), l.by_legs[n].size());
    for (const FeynmanDiagram& d : l.by_legs[n]) {
      out << "  ";
      print(d, text_context{&out});
    }
  }
}

void print_json(const FeynmanListing& l, std::ostream& out) {
  nlohmann::ordered_json head;
  head["format"] = "flowaction-feynman/1";
  head["loops"] = l.loops;
  head["order"] = static_cast<int>(l.by_legs.size()) - 1;
  head["valences"] = l.rules.valences;
  head["sources"] = l.rules.sources;
  JsonListing listing(out, head, "diagrams");
  for (const auto& section : l.by_legs)
    for (const FeynmanDiagram& d : section) listing.add(json_of(d));
  listing.close();
}

// ---- LaTeX ----------------------------------------------------------------------------------

using fvertex = feynman_graph::vertex_descriptor;

// The index of external leg k of n: i, j, k, l, m for up to five legs, else i_1 … i_n.
std::string leg_index(int k, int n) {
  return n <= 5 ? std::string(1, "ijklm"[k]) : fmt::format("i_{{{}}}", k + 1);
}

// Summed indices: a, b, … (the letters that are not leg indices, x, or a likely coupling g),
// then a_{18}, a_{19}, ….
std::string inner_index(int k) {
  constexpr std::string_view letters = "abcdefhpqrstuvwyz";
  return k < static_cast<int>(letters.size()) ? std::string(1, letters[k])
                                              : fmt::format("a_{{{}}}", k + 1);
}

std::string section_latex(std::size_t legs) {
  return legs == 0 ? "$\\ln(Z/Z_0)$: vacuum diagrams"
                   : fmt::format("$W^{{({})}}$: the {}-point function", legs, legs);
}

// The factors of one labelled diagram, walked from leg 0 (else the first source or vertex) depth
// first: G_{ia}(-\Gamma^{(4)}_{abcd})G_{bc}G_{dj}. Each edge end gets its index when first
// written, a vertex lists the end it was reached by first.
std::vector<std::string> term_factors(const FeynmanDiagram& d) {
  const feynman_graph& g = d.graph;
  const std::size_t n = boost::num_vertices(g);
  using end_ref = std::pair<std::size_t, int>;  // edge, side (0: its source, 1: its target)
  std::vector<std::pair<fvertex, fvertex>> ends;
  std::vector<std::vector<end_ref>> incident(n);
  for (auto [e, end] = boost::edges(g); e != end; ++e) {
    const fvertex s = boost::source(*e, g), t = boost::target(*e, g);
    incident[s].emplace_back(ends.size(), 0);
    incident[t].emplace_back(ends.size(), 1);
    ends.emplace_back(s, t);
  }
  std::vector<std::array<std::string, 2>> index(ends.size());
  int fresh = 0;
  const auto name = [&](end_ref r) -> const std::string& {
    std::string& i = index[r.first][static_cast<std::size_t>(r.second)];
    if (i.empty()) i = inner_index(fresh++);
    return i;
  };
  for (fvertex v = 0; v < n; ++v)
    if (g[v].kind == feynman_node_kind::leg)
      for (const end_ref r : incident[v])
        index[r.first][static_cast<std::size_t>(r.second)] = leg_index(static_cast<int>(v), d.legs);
  std::vector<bool> visited(n, false), written(ends.size(), false);
  std::vector<std::string> factors;
  const std::function<void(fvertex, std::optional<end_ref>)> visit =
      [&](fvertex v, std::optional<end_ref> in) {
        visited[v] = true;
        std::vector<end_ref> order;
        if (in) order.push_back(*in);
        for (const end_ref r : incident[v])
          if (!in || r != *in) order.push_back(r);
        if (g[v].kind != feynman_node_kind::leg) {
          std::string idx;
          for (const end_ref r : order) idx += name(r);
          factors.push_back(fmt::format("(-\\Gamma^{{({})}}_{{{}}})", g[v].legs, idx));
        }
        for (const end_ref r : order) {
          if (written[r.first]) continue;
          written[r.first] = true;
          const end_ref other{r.first, 1 - r.second};
          factors.push_back(fmt::format("G_{{{}{}}}", name(r), name(other)));
          const fvertex w = other.second == 0 ? ends[r.first].first : ends[r.first].second;
          if (!visited[w]) visit(w, other);
        }
      };
  if (n > 0) visit(0, std::nullopt);  // vertex 0: leg 0, else a source, else a vertex
  return factors;
}

void tikz(const FeynmanDiagram& d, std::ostream& out) {
  const feynman_graph& g = d.graph;
  const feynman_layout L = layout(d);
  begin_tikz(out, L.high.x - L.low.x);
  const std::size_t n = boost::num_vertices(g);
  for (std::size_t v = 0; v < n; ++v)
    out << fmt::format("  \\coordinate (v{}) at {};\n", v, tikz_point(L.at[v]));
  // Lines first, so that the vertices drawn over them hide their ends.
  std::size_t k = 0;
  for (auto [e, end] = boost::edges(g); e != end; ++e, ++k) {
    const feynman_curve& c = L.edges[k];
    const auto s = boost::source(*e, g), t = boost::target(*e, g);
    if (c.straight)
      out << fmt::format("  \\draw[line] (v{}) -- (v{});\n", s, t);
    else
      out << fmt::format("  \\draw[line] (v{}) .. controls {} and {} .. (v{});\n", s,
                         tikz_point(c.control1), tikz_point(c.control2), t);
  }
  for (std::size_t v = 0; v < n; ++v) switch (g[v].kind) {
      case feynman_node_kind::interaction:
        out << fmt::format("  \\node[vertex] at (v{}) {{}};\n", v);
        break;
      case feynman_node_kind::source:
        out << fmt::format("  \\node[source] at (v{}) {{}};\n", v);
        break;
      case feynman_node_kind::leg:
        leg_label(out, v, L.outward[v],
                  fmt::format("x_{{{}}}", leg_index(static_cast<int>(v), d.legs)));
        break;
    }
  end_tikz(out);
}

std::string factor_latex(std::uint64_t s) {
  return s == 1 ? "1" : fmt::format("\\tfrac{{1}}{{{}}}", s);
}

void latex_entry(const FeynmanDiagram& d, const latex_context& ctx) {
  std::ostream& out = *ctx.s;
  out << "% diagram: " << text_line(d) << '\n';
  picture_beside(
      out, ctx.pictures, [&] { tikz(d, out); },
      [&] {
        const std::uint64_t copies = d.labelled_copies();
        out << fmt::format(
            "\\raggedright Factor ${}$, $|\\mathrm{{Aut}}| = {}$, {} loop{} ({} cycle{}{}), {} "
            "labelled "
            "diagram{}.\\\\\n",
            factor_latex(d.symmetry_factor), d.automorphisms, d.loops(), d.loops() == 1 ? "" : "s",
            d.cycles, d.cycles == 1 ? "" : "s",
            d.sources > 0 ? fmt::format(", {} source{}", d.sources, d.sources == 1 ? "" : "s") : "",
            copies, copies == 1 ? "" : "s");
        out << "$" << term_latex(d) << "$";
      });
}

void print_latex(const FeynmanListing& l, const latex_context& ctx) {
  std::ostream& out = *ctx.s;
  std::vector<std::string> vertices;
  if (l.rules.sources) vertices.push_back("$-\\Gamma^{(1)}$");
  for (int k : l.rules.valences) vertices.push_back(fmt::format("$-\\Gamma^{{({})}}$", k));
  out << "% flowaction: Feynman diagrams of the cumulants\n";
  out << "\\noindent\\textbf{Convention.} Connected Feynman diagrams, one per isomorphism class: "
         "lines are propagators $G = (\\Gamma^{(2)})^{-1}$, dots interaction vertices "
         "$-\\Gamma^{(k)}$ ($k \\ge 3$), crossed circles sources $-\\Gamma^{(1)}$, and the "
         "external legs $x_i, x_j, \\dots$ carry the indices of the connected $n$-point function "
         "$W^{(n)}_{ij\\dots} = \\langle x_i x_j \\cdots\\rangle_c$. A labelled diagram (its "
         "legs told apart) contributes its factor $1/S$ times its term, repeated indices summed; "
         "a class stands for its $n!\\,S/|\\mathrm{Aut}|$ labelled diagrams (the legs permuted), "
         "so that summed over every order of the legs it weighs $1/|\\mathrm{Aut}|$. Loops: "
         "independent cycles, plus one per source.\n\n";
  out << fmt::format("\\noindent Loops $\\le {}$; vertices: {}.\n", l.loops,
                     vertices.empty() ? "none" : fmt::format("{}", fmt::join(vertices, ", ")));
  for (std::size_t n = 0; n < l.by_legs.size(); ++n) {
    out << "\n\\section*{" << section_latex(n) << "}\n";
    out << fmt::format("% section {}: {} diagrams\n", section_name(n), l.by_legs[n].size());
    if (l.by_legs[n].empty()) out << "No diagram contributes.\n";
    for (const FeynmanDiagram& d : l.by_legs[n]) latex_entry(d, ctx);
  }
}

}  // namespace

std::string term_latex(const FeynmanDiagram& d) {
  std::vector<std::string> legs;
  for (int k = 0; k < d.legs; ++k) legs.push_back(leg_index(k, d.legs));
  const std::string head =
      d.legs == 0 ? "\\ln(Z/Z_0)" : fmt::format("W^{{({})}}_{{{}}}", d.legs, fmt::join(legs, ""));
  std::string body = fmt::format("{}", fmt::join(term_factors(d), "\\allowbreak "));
  const std::uint64_t copies = d.labelled_copies();
  if (copies > 1)
    body = fmt::format("{}{} + ({}\\ \\text{{leg permutation{}}}){}",
                       d.symmetry_factor > 1 ? "\\bigl[" : "", body, copies - 1,
                       copies == 2 ? "" : "s", d.symmetry_factor > 1 ? "\\bigr]" : "");
  return fmt::format("{} \\supset {}{}", head,
                     d.symmetry_factor > 1 ? factor_latex(d.symmetry_factor) + "\\," : "", body);
}

void print(const FeynmanDiagram& d, const print_context& ctx) {
  std::visit(overload{
                 [&](const text_context& t) { *t.s << text_line(d) << '\n'; },
                 [&](const json_context& j) { *j.s << json_of(d).dump() << '\n'; },
                 [&](const latex_context& l) { latex_entry(d, l); },
             },
             ctx);
}

void print(const FeynmanListing& listing, const print_context& ctx) {
  std::visit(overload{
                 [&](const text_context& t) { print_text(listing, *t.s); },
                 [&](const json_context& j) { print_json(listing, *j.s); },
                 [&](const latex_context& l) { print_latex(listing, l); },
             },
             ctx);
}

}  // namespace flowaction::diagrams
