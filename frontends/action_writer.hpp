// Printers of an Action: JSON (format "flowaction-action/1", read by other tools) and a text
// table for people. Both walk the same components in the same order.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "engine/action.hpp"

namespace flowaction {

enum class action_format { json, text };

template <class T>
void write_action(std::ostream& out, const Action<T>& action, const ActionInfo& info,
                  action_format format);

// The "value" string of one component: p/q in the exact field, a GiNaC expression in the
// symbolic field, the shortest round-trip decimal in the float field.
std::string value_string(double x);
std::string value_string(const GiNaC::ex& x);

}  // namespace flowaction
