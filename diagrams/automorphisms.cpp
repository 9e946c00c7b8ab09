#include "diagrams/automorphisms.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <numeric>
#include <string>
#include <tuple>

// nauty.h defines macros (TRUE, FALSE, MAX, …) that must not leak into other files. The include
// path from pkg-config points into nauty's own directory. nauty.h also redefines, then undefines,
// _FILE_OFFSET_BITS (meson sets it to 64): keep meson's value.
#pragma push_macro("_FILE_OFFSET_BITS")
#undef _FILE_OFFSET_BITS
#include <nauty.h>
#pragma pop_macro("_FILE_OFFSET_BITS")

namespace flowaction::diagrams::detail {

namespace {

static_assert(sizeof(setword) <= sizeof(std::uint64_t), "canonical forms store setwords");

#if HAVE_TLS
// nauty keeps its search state in thread-local globals (Debian builds it so): calls from different
// threads are independent.
struct nauty_guard {};
#else
// nauty keeps its search state in shared globals: one call at a time.
std::mutex nauty_mutex;
struct nauty_guard {
  std::lock_guard<std::mutex> lock{nauty_mutex};
};
#endif

// nauty grows work arrays on demand in per-thread statics and never frees them: a thread that
// exits would leak them. Free them at the exit of every thread that called nauty.
struct nauty_workspace {
  ~nauty_workspace() {
    [[maybe_unused]] const nauty_guard guard;
    nauty_freedyn();
    naugraph_freedyn();
    nautil_freedyn();
  }
};

void free_workspace_at_thread_exit() {
  static thread_local nauty_workspace workspace;
}

// Cell of the colour partition: vertices of g by colour, then half-edges (tails before heads in a
// directed graph). Sorting by this key orders the cells by colour value alone, so isomorphic
// graphs get the same ordered partition and hence the same canonical form.
using cell_key = std::pair<std::uint64_t, int>;
constexpr std::uint64_t vertex_cell = 0, tail_cell = 1, head_cell = 2;

struct half_edge_graph {
  int n = 0;
  int m = 0;                                             // setwords per row
  std::vector<graph> rows;                               // dense adjacency, nauty's layout
  std::vector<int> lab, ptn;                             // the colour partition
  std::vector<std::tuple<cell_key, std::size_t>> cells;  // key and size, in partition order
};

half_edge_graph build_half_edge_graph(const coloured_multigraph& d) {
  const std::size_t nv = d.colours.size();
  for (const auto& [s, t] : d.edges)
    if (s >= nv || t >= nv)
      throw std::invalid_argument("count_automorphisms: an edge ends outside the graph");
  // An undirected edge that is neither a loop nor parallel to another has nothing to permute
  // once its endpoints are mapped: it joins them directly, which keeps nauty's graph small.
  using pair = std::pair<std::size_t, std::size_t>;
  auto unordered = [](std::size_t s, std::size_t t) {
    return pair{std::min(s, t), std::max(s, t)};
  };
  std::vector<pair> ends;
  if (!d.directed)
    for (const auto& [s, t] : d.edges) ends.push_back(unordered(s, t));
  std::sort(ends.begin(), ends.end());
  auto direct = [&](std::size_t s, std::size_t t) {
    if (d.directed || s == t) return false;
    const auto [first, last] = std::equal_range(ends.begin(), ends.end(), unordered(s, t));
    return last - first == 1;
  };
  std::size_t split = 0;
  for (const auto& [s, t] : d.edges)
    if (!direct(s, t)) ++split;
  const std::size_t total = nv + 2 * split;
  if (total > static_cast<std::size_t>(NAUTY_INFINITY - 2))
    throw std::length_error("count_automorphisms: graph too large for nauty");
  half_edge_graph h;
  h.n = static_cast<int>(total);
  h.m = SETWORDSNEEDED(h.n);
  h.rows.assign(static_cast<std::size_t>(h.m) * total, 0);
  graph* g = h.rows.data();
  const int m = h.m;

  std::vector<cell_key> key(total);
  for (std::size_t v = 0; v < nv; ++v) key[v] = {vertex_cell, d.colours[v]};
  std::size_t next = nv;
  for (const auto& [s, t] : d.edges) {
    if (direct(s, t)) {
      ADDONEEDGE(g, static_cast<int>(s), static_cast<int>(t), m);
      continue;
    }
    const auto tail = static_cast<int>(next), head = tail + 1;
    next += 2;
    ADDONEEDGE(g, static_cast<int>(s), tail, m);
    ADDONEEDGE(g, tail, head, m);
    ADDONEEDGE(g, head, static_cast<int>(t), m);
    // Undirected: both half-edges share a cell, so a loop can be flipped.
    key[static_cast<std::size_t>(tail)] = {tail_cell, 0};
    key[static_cast<std::size_t>(head)] = {d.directed ? head_cell : tail_cell, 0};
  }

  h.lab.resize(total);
  std::iota(h.lab.begin(), h.lab.end(), 0);
  std::stable_sort(h.lab.begin(), h.lab.end(), [&](int a, int b) {
    return key[static_cast<std::size_t>(a)] < key[static_cast<std::size_t>(b)];
  });
  h.ptn.assign(total, 1);
  for (std::size_t i = 0; i < total; ++i) {
    const cell_key& k = key[static_cast<std::size_t>(h.lab[i])];
    if (h.cells.empty() || std::get<0>(h.cells.back()) != k) h.cells.emplace_back(k, 0);
    ++std::get<1>(h.cells.back());
    // ptn[i] = 0 ends a cell.
    if (i + 1 == total || key[static_cast<std::size_t>(h.lab[i + 1])] != k) h.ptn[i] = 0;
  }
  return h;
}

// nauty's group size is the product of the indices it reports level by level (it multiplies a
// double by them, which loses digits above 1e10); the product is kept here exactly. nauty gives
// the callback no user pointer, hence thread-local state.
thread_local std::uint64_t level_product = 1;
thread_local bool level_overflow = false;

void multiply_level_index(int*, int*, int, int*, statsblk*, int, int index, int, int, int, int) {
  const auto i = static_cast<std::uint64_t>(index);
  if (i != 0 && level_product > std::numeric_limits<std::uint64_t>::max() / i)
    level_overflow = true;
  else
    level_product *= i;
}

struct nauty_result {
  std::uint64_t order = 1;
  bool overflow = false;
  std::vector<graph> canonical;  // empty unless asked for
};

nauty_result run_nauty(half_edge_graph& h, bool want_canonical) {
  nauty_result r;
  if (h.n == 0) return r;
  // Exits the process if the header and the library disagree (word size, version): check once.
  static const bool checked = (nauty_check(WORDSIZE, 1, 1, NAUTYVERSIONID), true);
  (void)checked;

  DEFAULTOPTIONS_GRAPH(options);
  options.defaultptn = FALSE;  // use lab/ptn: the colour partition
  options.getcanon = want_canonical ? TRUE : FALSE;
  options.userlevelproc = multiply_level_index;
  statsblk stats;
  std::vector<int> orbits(static_cast<std::size_t>(h.n));
  if (want_canonical) r.canonical.assign(h.rows.size(), 0);
  free_workspace_at_thread_exit();
  {
    [[maybe_unused]] const nauty_guard guard;
    level_product = 1;
    level_overflow = false;
    densenauty(h.rows.data(), h.lab.data(), h.ptn.data(), orbits.data(), &options, &stats, h.m, h.n,
               want_canonical ? r.canonical.data() : nullptr);
    r.order = level_product;
    r.overflow = level_overflow;
  }
  if (stats.errstatus != 0)
    throw std::runtime_error("count_automorphisms: nauty failed with status " +
                             std::to_string(stats.errstatus));
  // The exact product must agree with nauty's own approximate size.
  const long double approx =
      static_cast<long double>(stats.grpsize1) * std::pow(10.0L, stats.grpsize2);
  if (!r.overflow && std::fabs(approx - static_cast<long double>(r.order)) >
                         1e-9L * static_cast<long double>(r.order))
    throw std::logic_error("count_automorphisms: level indices disagree with nauty's group size");
  return r;
}

}  // namespace

std::uint64_t count_automorphisms(const coloured_multigraph& g) {
  half_edge_graph h = build_half_edge_graph(g);
  const nauty_result r = run_nauty(h, false);
  if (r.overflow)
    throw std::overflow_error("count_automorphisms: the group order does not fit in 64 bits");
  return r.order;
}

std::vector<std::uint64_t> canonical_form(const coloured_multigraph& g) {
  return canonical_labelling_of(g).form;
}

canonical_labelling canonical_labelling_of(const coloured_multigraph& g) {
  half_edge_graph h = build_half_edge_graph(g);
  const nauty_result r = run_nauty(h, true);
  // The canonical rows alone do not say which canonical vertex has which colour: prefix the
  // cells in partition order (canonical vertex i lies in the cell covering position i).
  std::vector<std::uint64_t> form{g.colours.size(), g.edges.size(), g.directed ? 1u : 0u,
                                  h.cells.size()};
  for (const auto& [key, size] : h.cells) {
    form.push_back(key.first);
    form.push_back(static_cast<std::uint64_t>(static_cast<std::int64_t>(key.second)));
    form.push_back(size);
  }
  form.insert(form.end(), r.canonical.begin(), r.canonical.end());
  // After the canonical run lab[i] is the vertex at canonical position i.
  std::vector<std::size_t> position(g.colours.size());
  for (std::size_t i = 0; i < h.lab.size(); ++i) {
    const auto v = static_cast<std::size_t>(h.lab[i]);
    if (v < position.size()) position[v] = i;
  }
  return {std::move(form), std::move(position)};
}

}  // namespace flowaction::diagrams::detail
