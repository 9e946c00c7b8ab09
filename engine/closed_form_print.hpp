// A closed form prints itself into a print context: text, JSON ("flowaction-closed-form/1") or
// LaTeX — the architecture and conventions, the named forward values, then Γ⁽ⁿ⁾ with its indices
// as a sum of terms, each a coefficient in per-unit quantities (α⁽ˡ⁾_a, u⁽ˡ⁾_a, …) times weight
// tensors, summed over its internal indices.
#pragma once

#include "engine/closed_form.hpp"
#include "engine/print_context.hpp"
#include "engine/simplify.hpp"

namespace flowaction {

void print(const ClosedForm& form, const print_context& ctx,
           simplify_mode mode = simplify_mode::factor);

}  // namespace flowaction
