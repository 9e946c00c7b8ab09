#include "engine/extract.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <Eigen/Dense>
#include <cfenv>
#include <cmath>
#include <limits>

#include "diagrams/diagram.hpp"
#include "engine/action_print.hpp"
#include "engine/contraction.hpp"
#include "engine/error.hpp"
#include "engine/overload.hpp"
#include "engine/parallel.hpp"
#include "engine/pullback.hpp"

namespace flowaction {

namespace {

std::string human_bytes(double b) {
  const char* unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (b >= 1024 && u < 6) b /= 1024, ++u;
  if (b >= 1024) return fmt::format("{:.3g} EiB", b);
  return fmt::format("{:.1f} {}", b, unit[u]);
}

double physical_memory() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && size > 0 ? static_cast<double>(pages) * static_cast<double>(size)
                               : 8.0 * (1ull << 30);
}

std::string layer_label(const Model& m, std::size_t l) {
  return fmt::format("layer {} ({})", l + 1, layer_type_name(m.layers[l]));
}

void check_symbols(const Model& model, const std::set<std::string>& symbols) {
  for (const std::string& s : symbols) {
    int number = 0;
    char field[64] = {0};
    int used = 0;
    if (std::sscanf(s.c_str(), "layer%d.%63s%n", &number, field, &used) != 2 ||
        used != static_cast<int>(s.size()))
      throw Error(
          fmt::format("{}: symbol request '{}' is not of the form layerN.FIELD", model.source, s));
    if (number < 1 || number > static_cast<int>(model.layers.size()))
      throw Error(fmt::format("{}: symbol request '{}': the model has layers 1 to {}", model.source,
                              s, model.layers.size()));
    const auto l = static_cast<std::size_t>(number - 1);
    const Layer& layer = model.layers[l];
    const LayerSpec& spec = spec_of(layer);
    const auto tensors = tensors_of(layer);
    bool found = false;
    std::string names;
    for (std::size_t f = 0; f < tensors.size(); ++f) {
      if (tensors[f]->empty() || !spec.fields[f].symbolic) continue;
      names += (names.empty() ? "" : ", ") + tensors[f]->name;
      found = found || tensors[f]->name == field;
    }
    if (!found)
      throw Error(
          fmt::format("{}: symbol request '{}': {} has no field '{}' that can be a symbol "
                      "(it has {})",
                      model.source, s, layer_label(model, l), field, names));
  }
}

// Double-precision checks: true when every margin is wide enough that rounding cannot change the
// verdict (then the exact pass is not needed in the float field).
struct ClearlyInvertible {
  const std::vector<double>& y;
  bool operator()(const AffineMap<double>& a) const {
    using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const Eigen::PartialPivLU<RowMat> lu(Eigen::Map<const RowMat>(a.W.data(), a.dim, a.dim));
    return lu.rcond() > 1e-8;
  }
  bool operator()(const ActivationMap<double>& s) const {
    for (std::size_t u = 0; u < s.phi.size(); ++u) {
      double scale = 0;  // size of the terms of φ′, against which rounding is measured
      for (std::size_t k = 1; k < s.phi[u].size(); ++k)
        scale += std::fabs(s.phi[u][k]) * static_cast<double>(k) *
                 std::pow(std::fabs(y[u]), static_cast<double>(k - 1));
      if (!(derivative(s.phi[u], 1, y[u]) > 1e-6 * scale)) return false;
    }
    return true;
  }
  bool operator()(const CouplingMap<double>&) const { return true; }
  bool operator()(const ActNormMap<double>& a) const {
    for (double s : a.s)
      if (!(std::fabs(s) > 0)) return false;
    return true;
  }
};

bool clearly_invertible(const Model& model, const std::vector<GiNaC::numeric>& x0) {
  const auto layers = instantiate<double>(model);
  std::vector<double> y;
  for (const auto& x : x0) y.push_back(x.to_double());
  for (const auto& layer : layers) {
    if (!std::visit(ClearlyInvertible{y}, layer)) return false;
    y = forward(layer, y);
    for (double v : y)
      if (!std::isfinite(v)) return false;
  }
  return true;
}

// Exact checks with the weights' own values: a singular layer or an activation that is not
// invertible where it is expanded makes the action undefined there.
struct CheckInvertible {
  const Model& model;
  std::size_t l;
  const std::vector<GiNaC::ex>& y;
  void operator()(const AffineMap<GiNaC::ex>& a) const {
    if (field_traits<GiNaC::ex>::determinant(a.W, a.dim).is_zero())
      throw Error(fmt::format("{}: {}: field 'W': the matrix is singular (det W = 0)", model.source,
                              layer_label(model, l)));
  }
  void operator()(const ActivationMap<GiNaC::ex>& s) const {
    for (std::size_t u = 0; u < s.phi.size(); ++u) {
      const GiNaC::ex slope = derivative(s.phi[u], 1, y[u]);
      if (!(GiNaC::ex_to<GiNaC::numeric>(slope) > 0))
        throw Error(
            fmt::format("{}: {}, unit {}: phi'(y0) = {} <= 0 at y0 = {}: the activation is not "
                        "invertible at the point it is expanded around",
                        model.source, layer_label(model, l), u, to_string(slope), to_string(y[u])));
    }
  }
  void operator()(const CouplingMap<GiNaC::ex>&) const {}  // invertible everywhere
  void operator()(const ActNormMap<GiNaC::ex>& a) const {
    for (std::size_t u = 0; u < a.s.size(); ++u)
      if (a.s[u].is_zero())
        throw Error(fmt::format("{}: {}: field 'scale': entry {} is 0: the layer is singular",
                                model.source, layer_label(model, l), u));
  }
};

void check_invertible(const Model& model, const std::vector<GiNaC::numeric>& x0) {
  const auto layers = instantiate<GiNaC::ex>(model);
  std::vector<GiNaC::ex> y(x0.begin(), x0.end());
  for (std::size_t l = 0; l < layers.size(); ++l) {
    std::visit(CheckInvertible{model, l, y}, layers[l]);
    y = forward(layers[l], y);
  }
}

// Weights whose exact values are fine but which round to a singular layer in double precision
// (an entry below 2^-1074 becomes 0): the float field cannot pull back through them.
void check_double_precision(const Model& model, const std::vector<LayerMap<double>>& layers) {
  for (std::size_t l = 0; l < layers.size(); ++l)
    std::visit(overload{[&](const AffineMap<double>& a) {
                          if (field_traits<double>::log_abs_det(a.W, a.dim) == -INFINITY)
                            throw Error(fmt::format(
                                "{}: {}: field 'W' is singular in double precision (its entries "
                                "or pivots round to 0; the exact field has no such limit)",
                                model.source, layer_label(model, l)));
                        },
                        [&](const ActNormMap<double>& a) {
                          for (std::size_t u = 0; u < a.s.size(); ++u)
                            if (a.s[u] == 0)
                              throw Error(fmt::format(
                                  "{}: {}: field 'scale': entry {} rounds to 0 in double "
                                  "precision (the exact field has no such limit)",
                                  model.source, layer_label(model, l), u));
                        },
                        [](const ActivationMap<double>&) {}, [](const CouplingMap<double>&) {}},
               layers[l]);
}

// After layer l is pulled back in double precision: the lowest order that is no longer finite,
// or a result that underflowed (a term below the smallest normal double, which would be lost or
// print as 0), is an error naming the layer.
void check_double_layer(const Model& model, std::size_t l, const Action<double>& a) {
  for (const auto& g : a.vertices)
    for (double v : g.data())
      if (!std::isfinite(v))
        throw Error(fmt::format(
            "{}: {}: the vertex of order {} overflows double precision at this point (the exact "
            "field does not)",
            model.source, layer_label(model, l), g.order()));
  if (std::fetestexcept(FE_UNDERFLOW))
    throw Error(fmt::format(
        "{}: {}: a vertex underflows double precision at this point (a term below {:.3g} would be "
        "lost or print as 0); the exact field does not",
        model.source, layer_label(model, l), std::numeric_limits<double>::min()));
}

template <Field T>
std::vector<T> point(const std::vector<GiNaC::numeric>& at, int dim) {
  std::vector<T> x(static_cast<std::size_t>(dim), T(0));
  for (std::size_t i = 0; i < at.size(); ++i) x[i] = from_rational<T>(at[i]);
  return x;
}

}  // namespace

double extraction_bytes(int dim, int order, field_kind field,
                        const std::vector<jet_structure>& layers, double output_bytes,
                        int kept_actions) {
  // A double is 8 bytes; an exact entry is a handle plus a shared number (~48 bytes, more for
  // long rationals or expressions). While a layer is pulled back: the old and new vertices and
  // the kernel's buffers — linear: in the exact field two mixed tensors of the mode products
  // (s output and k − s input legs), in the float field the first level of the depth-first
  // contraction (a block of columns) and one row per further level per busy thread; coupling: five
  // polynomials of the size of the action; element-wise: nothing of that size. While the
  // output is written: one action and the output. Throughout: the 32-bit gather tables of the
  // linear kernels (cached) and the program itself (about 16 MiB resident).
  const bool float64 = field == field_kind::float64;
  const double entry = float64 ? 8.0 : 48.0;
  double vertices = 0, buffer = 0, tables = 0;
  for (int k = 0; k <= order; ++k) {
    vertices += static_cast<double>(sym_size(dim, k));
    if (k < order) tables += 4.0 * dim * static_cast<double>(sym_size(dim, k));
    if (float64) {
      if (k == 0 || dim == 0) continue;
      const int block = first_leg_block(dim, k);
      // Per busy thread: a gathered chunk and a child row per further level, and the last
      // leg's square.
      double child = static_cast<double>(dim) * dim;
      for (int s = 1; s + 1 < k; ++s)
        child += (256.0 + static_cast<double>(sym_size(dim, k - s - 1))) * dim;
      const double busy = std::min<double>(threads(), block);
      buffer = std::max(buffer, block * static_cast<double>(sym_size(dim, k - 1)) + child * busy);
      continue;
    }
    for (int s = 0; s <= k; ++s)
      buffer = std::max(buffer, 2.0 * static_cast<double>(sym_size(dim, s)) *
                                    static_cast<double>(sym_size(dim, k - s)));
  }
  double kernel = 0, cached = 0;
  for (jet_structure j : layers) {
    if (j == jet_structure::linear || j == jet_structure::dense)
      kernel = std::max(kernel, entry * buffer), cached = tables;
    else if (j == jet_structure::rank_one)
      kernel = std::max(kernel, entry * 5.0 * vertices);
  }
  const double pullback = entry * 2.0 * vertices + kernel;
  const double writing = entry * vertices + output_bytes;
  const double kept = entry * kept_actions * vertices;
  return 16.0 * (1 << 20) + cached + kept + std::max(pullback, writing);
}

double extraction_estimate(const Model& model, const ExtractRequest& request) {
  std::vector<jet_structure> structures;
  for (const Layer& l : model.layers) structures.push_back(spec_of(l).jet);
  return extraction_bytes(model.dim, request.order, request.field, structures, request.output_bytes,
                          request.per_layer ? static_cast<int>(model.layers.size()) + 1 : 0);
}

template <Field T>
Action<T> latent_action(const std::vector<T>& z0, int order) {
  const int dim = static_cast<int>(z0.size());
  Action<T> gamma(dim, order);
  T half_norm(0);
  for (const T& z : z0) half_norm += z * z;
  gamma.vertices[0][0] =
      half_norm / from_int<T>(2) + from_int<T>(dim) / from_int<T>(2) * field_traits<T>::log_2pi();
  if (order >= 1)
    for (int i = 0; i < dim; ++i) gamma.vertices[1][static_cast<std::size_t>(i)] = z0[i];
  if (order >= 2)
    for (int i = 0; i < dim; ++i) gamma.vertices[2].at(std::vector<int>{i, i}) = T(1);
  return gamma;
}

template <Field T>
Action<T> extract_action(const std::vector<LayerMap<T>>& layers, int dim, const std::vector<T>& x0,
                         int order, bool symbolic, const progress_fn& progress,
                         const stage_fn<T>& stage) {
  std::vector<std::vector<T>> ys{x0};
  for (const auto& layer : layers) {
    ys.push_back(forward(layer, ys.back()));
    if (symbolic)
      for (T& v : ys.back()) simplify(v);
  }
  Action<T> gamma = latent_action(ys.back(), order);
  (void)dim;
  const int L = static_cast<int>(layers.size());
  if (stage) stage(L, gamma, ys.back());
  for (int l = L - 1; l >= 0; --l) {
    gamma = pullback(gamma, jet(layers[l], ys[l], order));
    if (symbolic)
      for (auto& g : gamma.vertices)
        for (T& v : g.data()) simplify(v);
    if (stage) stage(l, gamma, ys[l]);
    if (progress) progress(L - l, L);
  }
  return gamma;
}

Extraction extract(const Model& model, const ExtractRequest& request, const progress_fn& progress) {
  const int d = model.dim;
  if (request.order < 0) throw Error(fmt::format("order {} is negative", request.order));
  if (request.order > diagrams::max_order)
    throw Error(fmt::format("order {} is beyond the largest supported order, {}", request.order,
                            diagrams::max_order));
  for (const auto& x : request.at)
    if (!std::isfinite(x.to_double()))
      throw Error(fmt::format("{}: the expansion point entry {} is not finite in double precision",
                              model.source, excerpt(to_string(x))));
  if (!request.at.empty() && static_cast<int>(request.at.size()) != d)
    throw Error(fmt::format("{}: the expansion point has {} entries, the model has dim {}",
                            model.source, request.at.size(), d));
  if (request.field != field_kind::symbolic && !request.symbols.empty())
    throw Error("weights can be kept as symbols only in the symbolic field");
  check_symbols(model, request.symbols);
  const double need = extraction_estimate(model, request);
  const double have = physical_memory();
  if (!(need <= 0.8 * have))
    throw Error(fmt::format(
        "{}: order {} at dim {} would need about {} of memory for its vertex tensors and "
        "contraction buffers{} (this machine has {}); ask for a lower order",
        model.source, request.order, d, human_bytes(need),
        request.output_bytes > 0 ? fmt::format(", or for {} ({})", request.output_what,
                                               human_bytes(request.output_bytes))
                                 : "",
        human_bytes(have)));
  // Gather tables index components with 32 bits.
  if (sym_size(d, request.order) > std::numeric_limits<std::uint32_t>::max())
    throw Error(fmt::format(
        "{}: order {} at dim {} has {} components per vertex, more than this version indexes "
        "(2^32); ask for a lower order",
        model.source, request.order, d, sym_size(d, request.order)));
  std::vector<GiNaC::numeric> x0 = request.at;
  if (x0.empty()) x0.assign(static_cast<std::size_t>(d), GiNaC::numeric(0));
  if (request.field != field_kind::float64 || !clearly_invertible(model, x0))
    check_invertible(model, x0);

  Extraction out;
  // The title of the stage in the variables entering layer l (0-based; L: the latent).
  const auto stage_title = [&](int l) {
    const int L = static_cast<int>(model.layers.size());
    if (l == L)
      return fmt::format("latent: the standard normal action of z, the output of layer {}", L);
    const std::string of =
        l == 0 ? "the data x" : fmt::format("y{}, the input of layer {}", l + 1, l + 1);
    return fmt::format("after layer {} ({}): the action of {}", l + 1,
                       layer_type_name(model.layers[static_cast<std::size_t>(l)]), of);
  };
  const auto keep = [&]<class T>(int l, const Action<T>& a, const std::vector<T>& y) {
    ActionStage s{stage_title(l), {}, {}, a};
    for (const T& v : y) s.at.push_back(value_string(v)), s.at_latex.push_back(value_latex(v));
    out.stages.push_back(std::move(s));
  };
  out.info.field = request.field;
  out.info.source = model.source;
  for (const auto& x : x0) out.info.at.push_back(to_string(x));
  if (request.field == field_kind::float64) {
    const std::vector<LayerMap<double>> layers = instantiate<double>(model);
    check_double_precision(model, layers);
    // Every layer's pullback is checked as it is done, so that the message names the layer and
    // order where double precision is first left, not a later one that merely inherits it.
    std::feclearexcept(FE_ALL_EXCEPT);
    const auto L = static_cast<int>(layers.size());
    out.action = extract_action(
        layers, d, point<double>(x0, d), request.order, false, progress,
        stage_fn<double>([&](int l, const Action<double>& a, const std::vector<double>& y) {
          if (l < L) check_double_layer(model, static_cast<std::size_t>(l), a);
          if (request.per_layer) keep(l, a, y);
        }));
  } else {
    SymbolTable symbols(request.symbols);
    const bool symbolic = request.field == field_kind::symbolic;
    stage_fn<GiNaC::ex> stage;
    if (request.per_layer)
      stage = [&](int l, const Action<GiNaC::ex>& a, const std::vector<GiNaC::ex>& y) {
        keep(l, a, y);
      };
    out.action = extract_action(instantiate<GiNaC::ex>(model, symbolic ? &symbols : nullptr), d,
                                point<GiNaC::ex>(x0, d), request.order, symbolic, progress, stage);
    for (const auto& [name, sym] : symbols.symbols()) out.info.symbols.push_back(name);
  }
  return out;
}

#define FLOWACTION_INSTANTIATE(T)                                                                \
  template Action<T> latent_action(const std::vector<T>&, int);                                  \
  template Action<T> extract_action(const std::vector<LayerMap<T>>&, int, const std::vector<T>&, \
                                    int, bool, const progress_fn&, const stage_fn<T>&);
FLOWACTION_FIELDS(FLOWACTION_INSTANTIATE)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
