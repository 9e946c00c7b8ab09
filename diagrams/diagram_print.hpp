// A diagram class prints itself into a print context (engine/print_context.hpp): one line of
// text, or a JSON object with its graph (nodes, edges), multiplicity, automorphisms and sign.
#pragma once

#include "diagrams/diagram.hpp"
#include "engine/print_context.hpp"

namespace flowaction::diagrams {

void print(const DiagramClass& c, const print_context& ctx);

}  // namespace flowaction::diagrams
