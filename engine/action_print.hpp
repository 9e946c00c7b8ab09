// An Action prints itself into a print context: JSON (format "flowaction-action/1", read by
// other tools), a text table for people, or LaTeX (the vertices by order as exact formulas).
// Every context walks the same components in the same order: by order, then the sorted index in
// reading order, nonzero components only.
#pragma once

#include <string>
#include <vector>

#include "engine/action.hpp"
#include "engine/print_context.hpp"

namespace flowaction {

template <Field T>
void print(const Action<T>& action, const ActionInfo& info, const print_context& c);

// The stages of a pullback (extract --per-layer), the convention stated once: JSON format
// "flowaction-stages/1", text tables or LaTeX sections, one per stage.
void print(const std::vector<ActionStage>& stages, const ActionInfo& info, const print_context& c);

// One component's value as the contexts write it: p/q in the exact field, the expression in
// the symbolic field (GiNaC's syntax, terms by rising degree), the shortest round-trip decimal
// in the float field.
std::string value_string(double x);
std::string value_string(const GiNaC::ex& x);
// The same in LaTeX: \frac{p}{q}, symbols by their TeX names.
std::string value_latex(double x);
std::string value_latex(const GiNaC::ex& x);

// The LaTeX name of a component, \Gamma^{(3)}_{001} (indices separated once one exceeds 9).
std::string component_latex(int order, const std::vector<int>& index);

}  // namespace flowaction
