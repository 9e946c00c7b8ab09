// Coordinates for drawing a diagram class, computed from its graph (to_graph): exact layouts,
// no graph-drawing engine. A tree hangs from the old action vertex at the top: its layer
// vertices one row below, each centred over its own legs, the legs fanning out at the bottom. A
// ring puts its layer vertices on a circle in the order of the trace (counter-clockwise) and
// points each vertex's legs outward, spread around the radius through it.
//
// A Feynman diagram puts its interaction vertices on a line when they form a chain, else on a
// circle in the order that keeps joined vertices close; legs and sources point into the widest
// free angles at their vertex, then self-loops into what is left; parallel lines bend by
// different amounts. Every curve is a cubic Bézier with its control points computed here.
#pragma once

#include <vector>

#include "diagrams/diagram.hpp"
#include "diagrams/feynman.hpp"

namespace flowaction::diagrams {

struct point {
  double x = 0, y = 0;
};

struct diagram_layout {
  std::vector<point> at;       // per vertex of the graph, in cm
  std::vector<point> outward;  // per vertex: unit vector pointing away from the drawing (legs)
  double ring_radius = 0;      // rings: the circle the layer vertices sit on (centre 0, 0)
  point low, high;             // bounding box of the vertices
};

diagram_layout layout(const DiagramClass& c, const graph& g);

// How one edge of a Feynman diagram is drawn: from its source to its target (the same vertex for
// a self-loop) through two control points; a straight line has them on the line.
struct feynman_curve {
  point control1, control2;
  bool straight = true;
};

struct feynman_layout {
  std::vector<point> at;             // per vertex, in cm
  std::vector<point> outward;        // per vertex: a leg's or source's direction from its vertex
  std::vector<point> label;          // per external leg: about the centre of its label x_i
  std::vector<feynman_curve> edges;  // in the order of boost::edges(graph)
  point low, high;                   // bounding box of the curves and the legs' labels
};

feynman_layout layout(const FeynmanDiagram& d);

}  // namespace flowaction::diagrams
