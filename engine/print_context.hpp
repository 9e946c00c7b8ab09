// Print contexts, in the manner of GiNaC's print_context family: an action, a tensor or a
// diagram class prints itself into a context, and each object prints its own parts. A context
// is an alternative of print_context; adding one (the LaTeX issue adds LaTeX and TikZ) is a
// compile error in every printer that does not handle it yet.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace flowaction {

// A table for people: one component per line, exact values with a decimal approximation.
struct text_context {
  std::ostream* s;
};

// JSON that other tools read: values as strings (exact), with a "float" number beside them.
struct json_context {
  std::ostream* s;
};

// LaTeX for people: a fragment to \input into a document whose preamble is latex_preamble()
// (engine/latex_document.hpp). Exact rationals as \frac, symbols by their TeX names.
struct latex_context {
  std::ostream* s;
  // Diagrams as TikZ pictures with coordinates computed here (no Lua graph drawing, so pdflatex
  // and lualatex both compile them); false: their terms in index notation only.
  bool pictures = true;
};

using print_context = std::variant<text_context, json_context, latex_context>;

// The context named by a --format value ("text", "json", "latex"), or nothing.
std::optional<print_context> make_print_context(std::string_view format, std::ostream& s);
// The names make_print_context accepts, for usage messages.
std::string print_context_names();

}  // namespace flowaction
