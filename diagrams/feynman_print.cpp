#include "diagrams/feynman_print.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>
#include <string>

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

}  // namespace

void print(const FeynmanDiagram& d, const print_context& ctx) {
  std::visit(overload{
                 [&](const text_context& t) { *t.s << text_line(d) << '\n'; },
                 [&](const json_context& j) { *j.s << json_of(d).dump() << '\n'; },
                 [&](const latex_context& l) {
                   *l.s << "\\begin{verbatim}\n" << text_line(d) << "\n\\end{verbatim}\n";
                 },
             },
             ctx);
}

void print(const FeynmanListing& listing, const print_context& ctx) {
  std::visit(overload{
                 [&](const text_context& t) { print_text(listing, *t.s); },
                 [&](const json_context& j) { print_json(listing, *j.s); },
                 [&](const latex_context& l) {
                   *l.s << "\\begin{verbatim}\n";
                   print_text(listing, *l.s);
                   *l.s << "\\end{verbatim}\n";
                 },
             },
             ctx);
}

}  // namespace flowaction::diagrams
