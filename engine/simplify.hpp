// Readable forms of symbolic vertices (--simplify): the engine keeps each one as an expanded
// numerator over a denominator, which is canonical but long. collect: a polynomial in the
// symbols, nested by symbol name (α²(…) + α(…) + …); factor: factored wherever that is not
// longer than the collected form (Γ⁽³⁾ = 2α(3 − 8α²) rather than 6α − 16α³).
#pragma once

#include <ginac/ginac.h>

#include <optional>
#include <string_view>

#include "engine/action.hpp"

namespace flowaction {

enum class simplify_mode { expand, collect, factor };

std::optional<simplify_mode> parse_simplify(std::string_view name);

GiNaC::ex simplified(const GiNaC::ex& e, simplify_mode mode);

// Every vertex of the action in that form; numbers (and the float field) are left as they are.
template <class T>
void simplify_vertices(Action<T>& action, simplify_mode mode);

}  // namespace flowaction
