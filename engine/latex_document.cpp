#include "engine/latex_document.hpp"

#include <fmt/format.h>

namespace flowaction {

std::string latex_preamble() {
  return R"(\documentclass[11pt]{article}
\usepackage[a4paper,margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{longtable}
\usepackage{tikz}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5ex}
)";
}

std::string latex_standalone(std::string_view fragment, std::string_view title) {
  return fmt::format(
      "{}\\title{{{}}}\n\\author{{flowaction}}\n\\date{{}}\n\\begin{{document}}\n"
      "\\maketitle\n{}\n\\end{{document}}\n",
      latex_preamble(), tex_escape(title), fragment);
}

std::string tex_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '\\':
        out += "\\textbackslash{}";
        break;
      case '{':
      case '}':
      case '$':
      case '&':
      case '#':
      case '_':
      case '%':
        out += '\\';
        out += c;
        break;
      case '^':
        out += "\\textasciicircum{}";
        break;
      case '~':
        out += "\\textasciitilde{}";
        break;
      default:
        out +=
            (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) > 126) ? '?' : c;
    }
  }
  return out;
}

}  // namespace flowaction
