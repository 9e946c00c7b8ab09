// GiNaC expressions as people read them, in plain text (still GiNaC's input syntax) or LaTeX:
// the terms of a sum by rising degree (6α − 16α³, not −16α³ + 6α), a product as number, symbols,
// functions, then parenthesised sums (2α(3 − 8α²)), negative powers as one fraction. Atoms —
// numbers, symbols with their TeX names, functions — print through GiNaC's own print contexts.
#pragma once

#include <ginac/ginac.h>

#include <string>

namespace flowaction {

enum class expression_style { plain, latex };

std::string format_expression(const GiNaC::ex& e, expression_style style);

// A decimal for LaTeX: 1.25, -0.0625, 3.1\times 10^{-7}; the shortest that reads back exactly,
// or with that many significant digits.
std::string latex_decimal(double x, int digits = 0);

}  // namespace flowaction
