// The diagram classes of some layers, order by order, as one printable value: the classes of
// each layer type (a listing without a model), or of each layer of a model, pruned by the jet
// that layer has at the expansion point. The classes come from for_each_class with the same
// filters the pullback uses, so a listing shows exactly the classes the engine evaluates.
#pragma once

#include <string>
#include <vector>

#include "diagrams/diagram.hpp"
#include "engine/model.hpp"
#include "engine/print_context.hpp"

namespace flowaction {

struct LayerDiagrams {
  std::string title;  // "layer 2 (activation)" or "activation layer"
  const LayerSpec* spec = nullptr;
  int layer = 0;  // 1-based number in the model, 0 for a layer type alone
  diagrams::ClassFilter filter;
};

struct DiagramListing {
  int order = 4;       // classes of orders 0 … order
  std::string source;  // the model file, or empty
  std::vector<LayerDiagrams> layers;
};

// Every class each layer type can produce, whatever its weights.
DiagramListing diagram_listing(const std::vector<const LayerSpec*>& types, int order);

// The classes each layer of the model admits at the expansion point x0 (empty: the origin).
DiagramListing diagram_listing(const Model& model, int order,
                               const std::vector<GiNaC::numeric>& x0 = {});

// Text (one line per class), JSON ("flowaction-diagrams/1": layers, orders, classes with nodes,
// edges, factors, multiplicity, |Aut|, sign) or LaTeX (a section per layer, a TikZ picture and
// the term in index notation per class).
void print(const DiagramListing& listing, const print_context& ctx);

}  // namespace flowaction
