// The TikZ every diagram picture is written with: diagram classes (diagram_print.hpp) and Feynman
// diagrams (feynman_print.hpp) share one picture style, one way of labelling legs and one way of
// setting a picture beside its text. Plain TikZ only (no Lua graph drawing), so that pdflatex
// and lualatex both compile it.
#pragma once

#include <cstddef>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "diagrams/diagram_layout.hpp"

namespace flowaction::diagrams {

// A coordinate in cm with three decimals ("0.000" for anything within 5e-4 of zero).
std::string tikz_number(double x);
std::string tikz_point(point p);

// \begin{tikzpicture}[…] for a picture `width` cm wide, scaled down to fit beside its text, with
// the styles: old (an action vertex Γ⁽ᵏ⁾), layer (a layer vertex), line (a line of a ring or a
// propagator), vertex (an interaction vertex, a dot), source (a −Γ⁽¹⁾ vertex, a crossed circle).
void begin_tikz(std::ostream& out, double width);
void end_tikz(std::ostream& out);

// The label of an external leg that ends at coordinate (v<vertex>), beyond the end of the leg,
// on the side away from the drawing (outward: the leg's direction).
void leg_label(std::ostream& out, std::size_t vertex, point outward, std::string_view tex);

// One entry of a listing: with pictures, the picture in a narrow minipage beside the text in a
// wide one; without, the text alone. Ends the paragraph.
void picture_beside(std::ostream& out, bool pictures, const std::function<void()>& picture,
                    const std::function<void()>& text);

}  // namespace flowaction::diagrams
