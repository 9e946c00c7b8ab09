// What every LaTeX fragment of flowaction needs around it: the preamble (packages that TeX
// Live's latex-base, latex-recommended and pictures collections ship; no Lua graph drawing, so
// pdflatex and lualatex both compile it) and a whole document around a fragment.
#pragma once

#include <string>
#include <string_view>

namespace flowaction {

// \documentclass … \usepackage{…}, without \begin{document}.
std::string latex_preamble();

// A complete document: the preamble, a title, the fragment.
std::string latex_standalone(std::string_view fragment, std::string_view title);

// Plain text (a file name, a title) safe in LaTeX's text mode: specials escaped, anything
// outside printable ASCII replaced by '?' (pdflatex has no glyphs for it).
std::string tex_escape(std::string_view text);

}  // namespace flowaction
