#include "engine/diagram_listing.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "diagrams/diagram_print.hpp"
#include "engine/jet.hpp"
#include "engine/latex_document.hpp"
#include "engine/layer.hpp"
#include "engine/overload.hpp"

namespace flowaction {

DiagramListing diagram_listing(const std::vector<const LayerSpec*>& types, int order) {
  DiagramListing out;
  out.order = order;
  for (const LayerSpec* spec : types)
    out.layers.push_back({fmt::format("{} layer", spec->type), spec, 0, class_filter(*spec)});
  return out;
}

DiagramListing diagram_listing(const Model& model, int order,
                               const std::vector<GiNaC::numeric>& x0) {
  DiagramListing out;
  out.order = order;
  out.source = model.source;
  // The jets' structure and degree do not depend on the weights' precision: doubles suffice.
  const auto maps = instantiate<double>(model);
  std::vector<double> y(static_cast<std::size_t>(model.dim), 0.0);
  for (std::size_t i = 0; i < x0.size() && i < y.size(); ++i) y[i] = x0[i].to_double();
  for (std::size_t l = 0; l < maps.size(); ++l) {
    const LayerSpec& spec = spec_of(model.layers[l]);
    out.layers.push_back({fmt::format("layer {} ({})", l + 1, spec.type), &spec,
                          static_cast<int>(l + 1), class_filter(jet(maps[l], y, order))});
    y = forward(maps[l], y);
  }
  return out;
}

namespace {

using diagrams::DiagramClass;

template <class Fn>
void for_each_order(const DiagramListing& listing, const LayerDiagrams& layer, Fn&& fn) {
  for (int n = 0; n <= listing.order; ++n) {
    std::vector<DiagramClass> found;
    diagrams::for_each_class(n, layer.filter, [&](const DiagramClass& c) { found.push_back(c); });
    fn(n, found);
  }
}

void print_text(const DiagramListing& listing, std::ostream& out) {
  if (!listing.source.empty()) out << fmt::format("# source: {}\n", listing.source);
  const text_context context{&out};
  for (const LayerDiagrams& layer : listing.layers) {
    out << fmt::format("{}:\n", layer.title);
    for_each_order(listing, layer, [&](int n, const std::vector<DiagramClass>& found) {
      out << fmt::format("  order {}:\n", n);
      for (const DiagramClass& c : found) {
        out << "    ";
        diagrams::print(c, context);
      }
    });
  }
}

void print_json(const DiagramListing& listing, std::ostream& out) {
  nlohmann::ordered_json doc;
  doc["format"] = "flowaction-diagrams/1";
  doc["convention"] =
      "Gamma'^(n) = sum over classes of sign * multiplicity * Sym[term], the term in index "
      "notation (repeated indices summed): Gamma^(k) the old vertex, G^(m)_{a;j..} the layer's "
      "m-th derivative at y0 (output index first), G1inv the inverse of G^(1) (ring lines). "
      "multiplicity = n!/|Aut| labelled diagrams; Gamma'^(0) also gets -ln|det G^(1)|.";
  if (!listing.source.empty()) doc["source"] = listing.source;
  doc["order"] = listing.order;
  auto& layers = doc["layers"] = nlohmann::ordered_json::array();
  for (const LayerDiagrams& layer : listing.layers) {
    nlohmann::ordered_json l;
    if (layer.layer) l["layer"] = layer.layer;
    l["type"] = std::string(layer.spec->type);
    l["degree"] = layer.filter.degree;
    l["rings"] = layer.filter.rings;
    auto& orders = l["orders"] = nlohmann::ordered_json::array();
    for_each_order(listing, layer, [&](int n, const std::vector<DiagramClass>& found) {
      nlohmann::ordered_json o;
      o["order"] = n;
      auto& classes = o["classes"] = nlohmann::ordered_json::array();
      for (const DiagramClass& c : found) {
        std::ostringstream s;
        diagrams::print(c, json_context{&s});
        classes.push_back(nlohmann::ordered_json::parse(s.str()));
      }
      orders.push_back(std::move(o));
    });
    layers.push_back(std::move(l));
  }
  out << doc.dump(1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
}

void print_latex(const DiagramListing& listing, const latex_context& ctx) {
  std::ostream& out = *ctx.s;
  out << "% flowaction: the diagram classes of the pullback, layer by layer\n";
  out << "\\noindent\\textbf{Convention.} A layer $z = f(y)$ pulls the vertices $\\Gamma$ of "
         "the action in $z$ back to the vertices $\\Gamma'$ in $y$ around $y_0$: "
         "$\\Gamma'^{(0)} = \\Gamma^{(0)} - \\ln|\\det G^{(1)}|$ and, for $n \\ge 1$, "
         "$\\Gamma'^{(n)} = \\sum_{\\text{classes}} \\text{sign}\\cdot\\frac{n!}{|\\mathrm{Aut}|}"
         "\\cdot\\operatorname{Sym}[\\text{term}]$, with $G^{(m)}_{a;\\,j_1\\dots j_m} = "
         "\\partial^m f_a/\\partial y_{j_1}\\cdots\\partial y_{j_m}$ at $y_0$. Repeated indices "
         "are summed; $\\operatorname{Sym}$ averages over the orders of $j_1\\dots j_n$. "
         "\\emph{Trees} (substitution): the old vertex $\\Gamma^{(k)}$ (grey) with each leg ending "
         "on a layer vertex $G^{(m)}$ (white, labelled $m$) that fans out into $m$ new legs. "
         "\\emph{Rings} (the Jacobian, sign $(-1)^r$): $r$ layer vertices $G^{(m+1)}$ joined "
         "by lines $(G^{(1)})^{-1}$ (blue, in the direction of the trace), each carrying $m$ "
         "legs.\n";
  if (!listing.source.empty())
    out << "\n\\noindent Model: \\texttt{" << tex_escape(listing.source)
        << "}; only the classes its layers' jets admit are shown.\n";
  for (const LayerDiagrams& layer : listing.layers) {
    out << "\n\\section*{" << tex_escape(layer.title) << "}\n";
    if (!layer.spec->jet_tex.empty()) out << layer.spec->jet_tex << "\n";
    for_each_order(listing, layer, [&](int n, const std::vector<DiagramClass>& found) {
      out << fmt::format("\n\\subsection*{{Order {}}}\n", n);
      out << fmt::format("% order {}: {} classes\n", n, found.size());
      if (found.empty()) out << "No class contributes.\n";
      for (const DiagramClass& c : found) diagrams::print(c, ctx);
    });
  }
}

}  // namespace

void print(const DiagramListing& listing, const print_context& ctx) {
  std::visit(overload{
                 [&](const text_context& t) { print_text(listing, *t.s); },
                 [&](const json_context& j) { print_json(listing, *j.s); },
                 [&](const latex_context& l) { print_latex(listing, l); },
             },
             ctx);
}

}  // namespace flowaction
