// An Action prints itself into a print context: JSON (format "flowaction-action/1", read by
// other tools) or a text table for people. Every context walks the same components in the same
// order: by order, then the sorted index in reading order, nonzero components only.
#pragma once

#include <string>

#include "engine/action.hpp"
#include "engine/print_context.hpp"

namespace flowaction {

template <Field T>
void print(const Action<T>& action, const ActionInfo& info, const print_context& c);

// One component's value as the contexts write it: p/q in the exact field, the expression in
// the symbolic field, the shortest round-trip decimal in the float field.
std::string value_string(double x);
std::string value_string(const GiNaC::ex& x);

}  // namespace flowaction
