// Coordinates for drawing a diagram class, computed from its graph (to_graph): exact layouts,
// no graph-drawing engine. A tree hangs from the old action vertex at the top: its layer
// vertices one row below, each centred over its own legs, the legs fanning out at the bottom. A
// ring puts its layer vertices on a circle in the order of the trace (counter-clockwise) and
// points each vertex's legs outward, spread around the radius through it.
#pragma once

#include <vector>

#include "diagrams/diagram.hpp"

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

}  // namespace flowaction::diagrams
