// `cumulants --format latex`: the Feynman diagrams in a listing are the engine's own (read back
// from the TikZ pictures and from the terms in index notation, section by section, with their
// factors), the values are the engine's cumulants as formulas, the layouts are sane (no two
// vertices together, curves and labels clear of other vertices, parallel lines and loops apart),
// and the documents compile with pdflatex and lualatex (skipped, not passed, where TeX is missing).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <boost/property_map/function_property_map.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "diagrams/automorphisms.hpp"
#include "diagrams/diagram_layout.hpp"
#include "diagrams/feynman.hpp"
#include "engine/component_print.hpp"
#include "engine/cumulants.hpp"
#include "engine/latex_document.hpp"
#include "frontends/action_reader.hpp"
#include "frontends/latex_compile.hpp"
#include "tests/latex_check.hpp"
#include "tests/temp_dir.hpp"

using namespace flowaction;
using namespace flowaction::diagrams;
namespace fs = std::filesystem;

namespace {

const std::string phi4 =
    std::string(FLOWACTION_SOURCE_DIR) + "/examples/actions/phi4_0d.action.json";
const std::string ring4 =
    std::string(FLOWACTION_SOURCE_DIR) + "/examples/actions/ring4.action.json";

// Sources, cubic and quartic vertices: every kind of vertex a diagram can have.
const std::string mixed_action = R"({"format": "flowaction-action/1", "dim": 1, "order": 4,
 "vertices": [{"order": 1, "index": [0], "value": "h"}, {"order": 2, "index": [0, 0], "value": "1"},
  {"order": 3, "index": [0, 0, 0], "value": "a"}, {"order": 4, "index": [0, 0, 0, 0], "value": "g"}]})";

using testing_support::count;

std::string run(const std::vector<std::string>& args) {
  return testing_support::run_ok(args);
}

// The engine's enumeration for an action file: the diagrams of ln(Z/Z0), W(1), …, W(order).
std::vector<std::vector<FeynmanDiagram>> engine_diagrams(const fs::path& file, int loops,
                                                         int order) {
  const ActionFile a = read_action(file);
  const FeynmanRules rules =
      std::visit([](const auto& action) { return feynman_rules(action); }, a.action);
  std::vector<std::vector<FeynmanDiagram>> out;
  for (int n = 0; n <= order; ++n) out.push_back(feynman_diagrams(n, loops, rules));
  return out;
}

std::vector<std::string> split(const std::string& s, const std::string& at) {
  std::vector<std::string> parts;
  std::size_t from = 0;
  for (std::size_t to = s.find(at); to != std::string::npos; to = s.find(at, from)) {
    parts.push_back(s.substr(from, to - from));
    from = to + at.size();
  }
  parts.push_back(s.substr(from));
  return parts;
}

std::vector<std::smatch> matches(const std::string& s, const std::regex& re) {
  std::vector<std::smatch> out;
  for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back(*it);
  return out;
}

std::vector<std::uint64_t> form_with_legs_fixed(const feynman_graph& g) {
  return canonical_form(g, boost::make_function_property_map<std::size_t>([&](std::size_t v) {
                          return g[v].kind == feynman_node_kind::leg
                                     ? leg_colour(static_cast<int>(v))
                                     : colour_of(g[v]);
                        }));
}

// An index of the term: a letter, perhaps with a subscript number (i_{7}, a_{18}).
std::string read_index(const std::string& s, std::size_t& at) {
  std::string i(1, s[at++]);
  if (s.compare(at, 2, "_{") == 0) {
    const std::size_t close = s.find('}', at);
    i += s.substr(at, close + 1 - at);
    at = close + 1;
  }
  return i;
}

// The graph a term in index notation stands for: a vertex per leg (legs[index] = leg number) and
// per factor (-\Gamma^{(k)}_{…}), an edge per factor G_{xy}. Every summed index must be owned by
// one vertex and used by one propagator, every leg index by one propagator.
feynman_graph graph_of_term(const std::string& term, const std::map<std::string, int>& legs) {
  feynman_graph g(legs.size());
  for (std::size_t v = 0; v < legs.size(); ++v) g[v] = {feynman_node_kind::leg, 1};
  std::map<std::string, std::size_t> owner;
  for (const auto& [index, leg] : legs) owner[index] = static_cast<std::size_t>(leg);
  std::vector<std::pair<std::string, std::string>> lines;
  std::map<std::string, int> used;
  for (std::size_t at = 0; at < term.size();) {
    if (term.compare(at, 11, "(-\\Gamma^{(") == 0) {
      at += 11;
      const int k = std::stoi(term.substr(at));
      at = term.find("_{", at) + 2;
      const auto v = boost::add_vertex(
          {k == 1 ? feynman_node_kind::source : feynman_node_kind::interaction, k}, g);
      int indices = 0;
      while (term[at] != '}') {
        const std::string i = read_index(term, at);
        CHECK_MESSAGE(owner.emplace(i, v).second, "index owned twice: " << i << " in " << term);
        ++indices;
      }
      CHECK(indices == k);
      ++at;
    } else if (term.compare(at, 3, "G_{") == 0) {
      at += 3;
      const std::string x = read_index(term, at), y = read_index(term, at);
      CHECK(term[at] == '}');
      lines.emplace_back(x, y);
      ++used[x];
      ++used[y];
    } else {
      ++at;
    }
  }
  for (const auto& line : lines) {
    // Not a structured binding: clang before 16 cannot capture one in a lambda.
    const auto& x = line.first;
    const auto& y = line.second;
    REQUIRE_MESSAGE(owner.count(x), x << " in " << term);
    REQUIRE_MESSAGE(owner.count(y), y << " in " << term);
    boost::add_edge(owner[x], owner[y], g);
  }
  for (const auto& entry : owner) {
    // Not a structured binding: clang before 16 cannot capture one in a lambda.
    const auto& index = entry.first;
    CHECK_MESSAGE(used[index] == 1, index << " in " << term);
  }
  return g;
}

// The listing in LaTeX read back and compared, section by section, with the engine's diagrams:
// the picture's vertices (kinds and legs), its lines (in the engine's edge order, between the
// right vertices), the factor 1/S, |Aut|, loops and labelled copies, and the term's graph.
void check_listing(const std::string& tex, const std::vector<std::vector<FeynmanDiagram>>& want) {
  const std::regex coordinate(R"(\\coordinate \(v(\d+)\) at \((-?[\d.]+),(-?[\d.]+)\);)");
  const std::regex line(
      R"(\\draw\[line\] \(v(\d+)\) (?:--|\.\. controls \([^)]*\) and \([^)]*\) \.\.) \(v(\d+)\);)");
  const std::regex dot(R"(\\node\[vertex\] at \(v(\d+)\))");
  const std::regex cross(R"(\\node\[source\] at \(v(\d+)\))");
  const std::regex label(
      R"(\\node\[anchor=-?[\d.]+,inner sep=1.5pt\] at \(v(\d+)\) \{\$x_\{(.*)\}\$\};)");
  const std::regex factor(
      R"(Factor \$(?:1|\\tfrac\{1\}\{(\d+)\})\$, \$\|\\mathrm\{Aut\}\| = (\d+)\$, (\d+) loops? .*, (\d+) labelled)");
  std::size_t pictures = 0;
  const std::vector<std::string> sections = split(tex, "\\section*{");
  REQUIRE(sections.size() == want.size() + 1);
  for (std::size_t n = 0; n < want.size(); ++n) {
    CAPTURE(n);
    const std::string& section = sections[n + 1];
    const std::vector<std::string> entries = split(section, "% diagram: ");
    REQUIRE(entries.size() == want[n].size() + 1);
    CHECK(count(section, "\\begin{tikzpicture}") == want[n].size());
    CHECK(section.find(fmt::format(": {} diagrams\n", want[n].size())) != std::string::npos);
    for (std::size_t k = 0; k < want[n].size(); ++k) {
      CAPTURE(k);
      const FeynmanDiagram& d = want[n][k];
      const std::string& entry = entries[k + 1];
      const std::size_t v = boost::num_vertices(d.graph);
      // Vertices: one coordinate each; dots, crossed circles and labels by kind.
      const auto coords = matches(entry, coordinate);
      REQUIRE(coords.size() == v);
      std::vector<int> kind(v, -1);
      std::map<std::string, int> legs;
      for (const auto& m : matches(entry, dot)) kind[std::stoul(m[1])] = 2;
      for (const auto& m : matches(entry, cross)) kind[std::stoul(m[1])] = 1;
      for (const auto& m : matches(entry, label)) {
        kind[std::stoul(m[1])] = 0;
        legs[m[2]] = std::stoi(m[1]);
      }
      for (std::size_t i = 0; i < v; ++i) {
        CHECK(coords[i][1] == std::to_string(i));
        CHECK(kind[i] == static_cast<int>(d.graph[i].kind));
      }
      CHECK(legs.size() == static_cast<std::size_t>(d.legs));
      // Lines: the engine's edges, in its order.
      std::vector<std::pair<std::size_t, std::size_t>> drawn, edges;
      for (const auto& m : matches(entry, line))
        drawn.emplace_back(std::stoul(m[1]), std::stoul(m[2]));
      for (auto [e, end] = boost::edges(d.graph); e != end; ++e)
        edges.emplace_back(boost::source(*e, d.graph), boost::target(*e, d.graph));
      CHECK(drawn == edges);
      // Factor, |Aut|, loops, labelled copies.
      std::smatch f;
      REQUIRE(std::regex_search(entry, f, factor));
      CHECK((f[1].matched ? std::stoull(f[1]) : 1) == d.symmetry_factor);
      CHECK(std::stoull(f[2]) == d.automorphisms);
      CHECK(std::stoi(f[3]) == d.loops());
      CHECK(std::stoull(f[4]) == d.labelled_copies());
      // The term: its graph is the diagram, legs told apart.
      const std::size_t open = entry.find(d.legs == 0 ? "$\\ln(Z/Z_0) \\supset" : "$W^{(");
      REQUIRE(open != std::string::npos);
      const std::string term = entry.substr(open, entry.find('$', open + 1) - open);
      CHECK(form_with_legs_fixed(graph_of_term(term, legs)) == form_with_legs_fixed(d.graph));
      if (d.symmetry_factor > 1)
        CHECK(term.find(fmt::format("\\supset \\tfrac{{1}}{{{}}}", d.symmetry_factor)) !=
              std::string::npos);
      ++pictures;
    }
  }
  CHECK(count(tex, "\\begin{tikzpicture}") == pictures);
  CHECK(tex.find("verbatim") == std::string::npos);
  CHECK(tex.find("graphdrawing") == std::string::npos);
}

point bezier(point a, point b, point c, point d, double t) {
  const double s = 1 - t;
  return {s * s * s * a.x + 3 * s * s * t * b.x + 3 * s * t * t * c.x + t * t * t * d.x,
          s * s * s * a.y + 3 * s * s * t * b.y + 3 * s * t * t * c.y + t * t * t * d.y};
}

double distance(point a, point b) {
  return std::hypot(a.x - b.x, a.y - b.y);
}

// Sanity of one layout, from the layout itself.
void check_layout(const FeynmanDiagram& d) {
  const feynman_graph& g = d.graph;
  const feynman_layout L = layout(d);
  const std::size_t n = boost::num_vertices(g);
  REQUIRE(L.at.size() == n);
  std::vector<std::pair<std::size_t, std::size_t>> ends;
  for (auto [e, end] = boost::edges(g); e != end; ++e)
    ends.emplace_back(boost::source(*e, g), boost::target(*e, g));
  REQUIRE(L.edges.size() == ends.size());
  const auto inside = [&](point p) {
    return p.x >= L.low.x - 1e-9 && p.x <= L.high.x + 1e-9 && p.y >= L.low.y - 1e-9 &&
           p.y <= L.high.y + 1e-9;
  };
  // No two vertices together.
  for (std::size_t a = 0; a < n; ++a) {
    CHECK(inside(L.at[a]));
    for (std::size_t b = a + 1; b < n; ++b) CHECK(distance(L.at[a], L.at[b]) > 0.5);
  }
  // Each curve runs from its source to its target, away from every other vertex; a self-loop
  // leaves its vertex; parallel lines and loops at one vertex apart.
  std::vector<std::vector<point>> samples(ends.size());
  std::map<std::pair<std::size_t, std::size_t>, std::vector<point>> middles;
  for (std::size_t e = 0; e < ends.size(); ++e) {
    const auto [s, t] = ends[e];
    const feynman_curve& c = L.edges[e];
    for (int i = 0; i <= 20; ++i)
      samples[e].push_back(bezier(L.at[s], c.control1, c.control2, L.at[t], i / 20.0));
    CHECK(distance(samples[e].front(), L.at[s]) < 1e-9);
    CHECK(distance(samples[e].back(), L.at[t]) < 1e-9);
    if (s == t) {
      CHECK_FALSE(c.straight);
      CHECK(distance(samples[e][10], L.at[s]) > 0.4);
    }
    for (int i = 3; i <= 17; ++i)
      for (std::size_t v = 0; v < n; ++v)
        if (v != s && v != t)
          CHECK(distance(samples[e][static_cast<std::size_t>(i)], L.at[v]) > 0.2);
    CHECK(inside(c.control1));
    CHECK(inside(c.control2));
    middles[{std::min(s, t), std::max(s, t)}].push_back(samples[e][10]);
  }
  for (const auto& [pair, mids] : middles)
    for (std::size_t a = 0; a < mids.size(); ++a)
      for (std::size_t b = a + 1; b < mids.size(); ++b) CHECK(distance(mids[a], mids[b]) > 0.25);
  // Labels beyond their legs: clear of every vertex and of every other line.
  for (std::size_t v = 0; v < n; ++v) {
    if (g[v].kind != feynman_node_kind::leg) continue;
    CHECK(inside(L.label[v]));
    CHECK(std::fabs(std::hypot(L.outward[v].x, L.outward[v].y) - 1) < 1e-9);
    for (std::size_t w = 0; w < n; ++w)
      if (w != v) CHECK(distance(L.label[v], L.at[w]) > 0.4);
    for (std::size_t e = 0; e < ends.size(); ++e) {
      if (ends[e].first == v || ends[e].second == v) continue;
      for (const point& p : samples[e]) CHECK(distance(L.label[v], p) > 0.25);
    }
  }
}

std::string listing(const std::string& file, int loops, int order) {
  return run({"cumulants", file, "--loops", std::to_string(loops), "--order", std::to_string(order),
              "--list", "--format", "latex"});
}

}  // namespace

TEST_CASE("LaTeX listing: the pictures and terms are the engine's diagrams, section by section") {
  TempDir dir("feynman_latex_listing");
  const fs::path mixed = dir.write("mixed.action.json", mixed_action);
  // phi^4 to three loops: the sunset, the figure-eight, the double tadpole and the 3-loop
  // 4-point diagrams among them.
  check_listing(listing(phi4, 3, 4), engine_diagrams(phi4, 3, 4));
  // Sources and cubic vertices as well.
  check_listing(listing(mixed, 2, 3), engine_diagrams(mixed, 2, 3));
}

TEST_CASE("Feynman layouts: vertices apart, curves and labels clear, parallel lines apart") {
  TempDir dir("feynman_latex_layout");
  const fs::path mixed = dir.write("mixed.action.json", mixed_action);
  std::size_t checked = 0;
  for (const auto& c : {std::tuple{fs::path(phi4), 3, 4}, std::tuple{mixed, 2, 4}}) {
    // Not a structured binding: clang before 16 cannot capture one in a lambda.
    const auto& file = std::get<0>(c);
    const auto& loops = std::get<1>(c);
    const auto& order = std::get<2>(c);
    for (const auto& section : engine_diagrams(file, loops, order))
      for (const FeynmanDiagram& d : section) {
        CAPTURE(file);
        CAPTURE(checked);
        check_layout(d);
        ++checked;
      }
  }
  CHECK(checked > 100);
}

TEST_CASE("cumulants --format latex: ln(Z/Z0) and every nonzero W^(n) as the engine's formulas") {
  const ActionFile a = read_action(phi4);
  const auto& action = std::get<Action<GiNaC::ex>>(a.action);
  const Cumulants<GiNaC::ex> c = cumulants(action, {0}, CumulantRequest{3, 4});
  const std::string tex =
      run({"cumulants", phi4, "--loops", "3", "--order", "4", "--format", "latex"});
  CHECK(tex.find("\\ln(Z/Z_0) &= " + value_latex(c.log_z)) != std::string::npos);
  CHECK(tex.find("-\\frac{1}{8} g + \\frac{1}{12} {g}^{2}") != std::string::npos);
  std::size_t components = 0;
  for_each_nonzero(c.connected, 1, c.dim, [&](int k, const multi_index& index, const GiNaC::ex& v) {
    const std::string want = component_latex("W", k, index) + " &= " + value_latex(v);
    CHECK_MESSAGE(tex.find(want) != std::string::npos, want);
    ++components;
  });
  CHECK(components == 2);
  CHECK(tex.find("\\textbf{Convention.}") != std::string::npos);
  CHECK(tex.find("Symbols: $g$") != std::string::npos);
  CHECK(tex.find("verbatim") == std::string::npos);
}

TEST_CASE("the cumulant documents compile with pdflatex and lualatex") {
  TempDir dir("feynman_latex_compile");
  const fs::path mixed = dir.write("mixed.action.json", mixed_action);
  std::string body;
  const auto section = [&](const std::string& title, const std::string& fragment) {
    body += "\\section*{" + title + "}\n" + fragment + "\n\\clearpage\n";
  };
  section("phi4 diagrams", listing(phi4, 3, 4));
  section("Mixed diagrams", listing(mixed.string(), 2, 3));
  section("phi4 cumulants", run({"cumulants", phi4, "--loops", "4", "--format", "latex"}));
  section("Mixed cumulants",
          run({"cumulants", mixed.string(), "--loops", "2", "--order", "3", "--format", "latex"}));
  section("Ring cumulants", run({"cumulants", ring4, "--loops", "2", "--format", "latex"}));
  const std::string document = latex_standalone(body, "flowaction cumulants test document");
  CHECK(count(document, "\\begin{tikzpicture}") > 100);
  testing_support::compile_with_every_engine(document, dir);
  // The command line's own --standalone and --pdf.
  if (tex_available("pdflatex")) {
    run({"cumulants", phi4, "--loops", "2", "--list", "-o", dir / "list.tex", "--pdf"});
    CHECK(fs::exists(dir.path / "list.pdf"));
    CHECK(read_file(dir.path / "list.tex").find("\\begin{document}") != std::string::npos);
  }
}
