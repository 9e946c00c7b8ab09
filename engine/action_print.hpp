// An Action prints itself into a print context: JSON (format "flowaction-action/1", read by
// other tools) or a text table for people. Every context walks the same components in the same
// order: by order, then the sorted index in reading order, nonzero components only.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>

#include "engine/action.hpp"
#include "engine/component_print.hpp"
#include "engine/print_context.hpp"

namespace flowaction {

template <Field T>
void print(const Action<T>& action, const ActionInfo& info, const print_context& c);

// What every output about an action states first (DESIGN §2), for the printers of the action and
// of what is computed from it: JSON members format, convention, source, dim, order, at, field
// (symbols); or the lines of a text table's head, `summary` being the line after the source.
nlohmann::ordered_json json_head(std::string_view format, std::string_view convention,
                                 const ActionInfo& info, int dim, int order);
void print_text_head(std::ostream& out, std::string_view title, std::string_view convention,
                     const ActionInfo& info, std::string_view summary);

}  // namespace flowaction
