// An Action prints itself into a print context: JSON (format "flowaction-action/1", read by
// other tools), a text table for people, or LaTeX (the vertices by order as exact formulas).
// Every context walks the same components in the same order: by order, then the sorted index in
// reading order, nonzero components only.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "engine/action.hpp"
#include "engine/component_print.hpp"
#include "engine/print_context.hpp"

namespace flowaction {

template <Field T>
void print(const Action<T>& action, const ActionInfo& info, const print_context& c);

// The stages of a pullback (extract --per-layer), the convention stated once: JSON format
// "flowaction-stages/1", text tables or LaTeX sections, one per stage.
void print(const std::vector<ActionStage>& stages, const ActionInfo& info, const print_context& c);

// What every output about an action states first (DESIGN §2), for the printers of the action and
// of what is computed from it: JSON members format, convention, source, dim, order, at, field
// (symbols); or the lines of a text table's head, `summary` being the line after the source; or
// the LaTeX head: a comment line, the convention paragraph (LaTeX), then the source and
// `summary` (LaTeX, e.g. "$d = 2$, orders $\le 4$") with the field and the expansion point.
nlohmann::ordered_json json_head(std::string_view format, std::string_view convention,
                                 const ActionInfo& info, int dim, int order);
void print_text_head(std::ostream& out, std::string_view title, std::string_view convention,
                     const ActionInfo& info, std::string_view summary);
void print_latex_head(std::ostream& out, std::string_view title, std::string_view convention,
                      const ActionInfo& info, std::string_view summary);

}  // namespace flowaction
