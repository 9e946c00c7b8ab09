#include "diagrams/tikz.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace flowaction::diagrams {

namespace {

constexpr double picture_width = 5.4;  // cm the widest picture is scaled down to

}  // namespace

std::string tikz_number(double x) {
  if (std::fabs(x) < 5e-4) x = 0;
  return fmt::format("{:.3f}", x);
}

std::string tikz_point(point p) {
  return fmt::format("({},{})", tikz_number(p.x), tikz_number(p.y));
}

void begin_tikz(std::ostream& out, double width) {
  const double scale = std::min(1.0, picture_width / (width + 1.0));
  out << fmt::format(
      "\\begin{{tikzpicture}}[scale={},baseline=(current bounding box.center),"
      "every node/.style={{font=\\scriptsize}},"
      "old/.style={{circle,draw,fill=gray!20,inner sep=1.2pt}},"
      "layer/.style={{circle,draw,fill=white,inner sep=0.8pt,minimum size=3.6mm}},"
      "line/.style={{thick,draw=blue!60!black}},"
      "vertex/.style={{circle,fill,inner sep=0pt,minimum size=1.8mm}},"
      "source/.style={{circle,draw,thick,fill=white,inner sep=0pt,minimum size=2.6mm,"
      "path picture={{\\draw (path picture bounding box.south west) -- "
      "(path picture bounding box.north east) (path picture bounding box.north west) -- "
      "(path picture bounding box.south east);}}}}]\n",
      tikz_number(scale));
}

void end_tikz(std::ostream& out) {
  out << "\\end{tikzpicture}";
}

void leg_label(std::ostream& out, std::size_t vertex, point outward, std::string_view tex) {
  const double angle = std::atan2(-outward.y, -outward.x) * 180.0 / std::numbers::pi;
  out << fmt::format("  \\node[anchor={},inner sep=1.5pt] at (v{}) {{${}$}};\n", tikz_number(angle),
                     vertex, tex);
}

void picture_beside(std::ostream& out, bool pictures, const std::function<void()>& picture,
                    const std::function<void()>& text) {
  if (pictures) {
    out << "\\noindent\\begin{minipage}{0.34\\linewidth}\\centering\n";
    picture();
    out << "\n\\end{minipage}\\hfill\n\\begin{minipage}{0.64\\linewidth}\n";
  }
  text();
  if (pictures) out << "\n\\end{minipage}";
  out << "\\par\\medskip\n";
}

}  // namespace flowaction::diagrams
