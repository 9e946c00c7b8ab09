// Cumulants print themselves into a print context: JSON (format "flowaction-cumulants/1", read by
// other tools), a text table for people, or LaTeX (the convention, then ln(Z/Z₀) and W⁽ⁿ⁾ by order
// as formulas, through engine/component_print.hpp). All walk ln(Z/Z₀), then the nonzero
// components of W⁽¹⁾, W⁽²⁾, … in reading order of their sorted index.
#pragma once

#include "engine/action.hpp"
#include "engine/cumulants.hpp"
#include "engine/print_context.hpp"

namespace flowaction {

// info: the field, the expansion point and symbols of the action, and its file as the source.
template <Field T>
void print(const Cumulants<T>& cumulants, const ActionInfo& info, const print_context& c);

}  // namespace flowaction
