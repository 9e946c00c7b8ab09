#include "diagrams/diagram_print.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "engine/overload.hpp"

namespace flowaction::diagrams {

namespace {

std::string text_line(const DiagramClass& c) {
  if (c.kind == diagram_kind::tree)
    return fmt::format("tree: Gamma^({}) with fans G^(m), m = ({}); {} labelled copies, |Aut| = {}",
                       c.vertex_count(), fmt::join(c.sizes, ","), c.multiplicity, c.automorphisms);
  return fmt::format(
      "ring: {} vertices G^(m+1), m = ({}) around the cycle; {} labelled copies, |Aut| = {}, sign "
      "{:+d}",
      c.vertex_count(), fmt::join(c.sizes, ","), c.multiplicity, c.automorphisms, c.sign);
}

constexpr const char* node_kind_name[] = {"external", "action_vertex", "fan", "ring"};

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
  return j;
}

}  // namespace

void print(const DiagramClass& c, const print_context& ctx) {
  std::visit(overload{
                 [&](const text_context& t) { *t.s << text_line(c) << '\n'; },
                 [&](const json_context& j) { *j.s << json_of(c).dump() << '\n'; },
             },
             ctx);
}

}  // namespace flowaction::diagrams
