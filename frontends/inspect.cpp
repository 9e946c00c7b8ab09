#include "frontends/inspect.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <map>

#include "engine/error.hpp"
#include "engine/layer.hpp"
#include "engine/overload.hpp"

namespace flowaction {

namespace {

std::string describe(const Tensor& t) {
  if (t.empty()) return fmt::format("{} (absent: zero)", t.name);
  const std::string shape = t.shape.empty() ? "scalar" : fmt::format("{}", fmt::join(t.shape, "x"));
  const std::string from = t.stored_as.empty() ? "inline" : fmt::format("'{}'", t.stored_as);
  return fmt::format("{} {} {} {}", t.name, shape, t.dtype, from);
}

std::string phi_text(const Tensor& phi) {
  if (phi.name == "alpha") return "phi(u) = u + alpha u^2";
  return fmt::format("phi(u) = sum_k c_k u^k, degree {}", act_degree(phi));
}

// Where a sample first leaves the domain of an activation layer (φ′ <= 0), if anywhere.
struct Exit {
  int layer = -1, unit = -1;
  double slope = 0;
};

// Forward pass of x; stops at the first activation unit with φ′(y) <= 0. Optionally records the
// smallest φ′ per layer (activation units, and hidden units of couplings).
Exit walk(const std::vector<LayerMap<double>>& maps, std::vector<double> y,
          std::vector<std::pair<double, int>>* min_slope) {
  for (std::size_t l = 0; l < maps.size(); ++l) {
    auto record = [&](double s, std::size_t unit) {
      if (min_slope && s < (*min_slope)[l].first) (*min_slope)[l] = {s, static_cast<int>(unit)};
    };
    const Exit exit = std::visit(overload{
                                     [&](const ActivationMap<double>& a) -> Exit {
                                       for (std::size_t i = 0; i < y.size(); ++i) {
                                         const double s = derivative(a.phi[i], 1, y[i]);
                                         record(s, i);
                                         if (!(s > 0))
                                           return {static_cast<int>(l), static_cast<int>(i), s};
                                       }
                                       return {};
                                     },
                                     [&](const CouplingMap<double>& c) -> Exit {
                                       if (min_slope) {
                                         const std::vector<double> h = coupling_preactivation(c, y);
                                         for (std::size_t k = 0; k < h.size(); ++k)
                                           record(derivative(c.phi[k], 1, h[k]), k);
                                       }
                                       return {};
                                     },
                                     [&](const ActNormMap<double>& a) -> Exit {
                                       for (std::size_t i = 0; i < a.s.size(); ++i)
                                         record(std::fabs(a.s[i]), i);
                                       return {};
                                     },
                                     [](const AffineMap<double>&) -> Exit { return {}; },
                                 },
                                 maps[l]);
    if (exit.layer >= 0) return exit;
    y = forward(maps[l], y);
  }
  return {};
}

}  // namespace

std::size_t parameter_count(const Model& model) {
  std::size_t n = 0;
  for (const Layer& layer : model.layers) {
    const LayerSpec& spec = spec_of(layer);
    const auto tensors = tensors_of(layer);
    for (std::size_t f = 0; f < tensors.size(); ++f)
      if (spec.fields[f].symbolic) n += tensors[f]->size();
  }
  return n;
}

void inspect(const Model& model, const InspectRequest& request, std::ostream& out) {
  const int d = model.dim;
  const auto ud = static_cast<std::size_t>(d);
  std::vector<double> x0 = request.at.empty() ? std::vector<double>(ud, 0.0) : request.at;
  if (x0.size() != ud)
    throw Error(fmt::format("--at has {} coordinates, the model has dim {}", x0.size(), d));
  for (std::size_t i = 0; i < x0.size(); ++i)
    if (!std::isfinite(x0[i]))
      throw Error(fmt::format("--at: coordinate {} is not finite in double precision", i + 1));
  const std::vector<LayerMap<double>> maps = instantiate<double>(model);

  out << fmt::format("model {}: flowaction/1, dim {}, {} layers (data -> latent)\n", model.source,
                     d, model.layers.size());
  std::vector<std::pair<double, int>> slope(maps.size(),
                                            {std::numeric_limits<double>::infinity(), -1});
  const Exit at_x0 = walk(maps, x0, &slope);
  std::string singular;  // the first layer with no inverse, for the verdict on x0
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const Layer& layer = model.layers[l];
    const LayerSpec& spec = spec_of(layer);
    out << fmt::format("layer {} {}\n", l + 1, spec.type);
    const auto tensors = tensors_of(layer);
    for (std::size_t f = 0; f < tensors.size(); ++f) {
      if (tensors[f]->empty() && spec.fields[f].given == presence::one_of) continue;
      out << "  " << describe(*tensors[f]) << '\n';
    }
    std::visit(
        overload{
            [&](const AffineLayer&) {
              const auto& W = std::get<AffineMap<double>>(maps[l]).W;
              const Eigen::Map<
                  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>
                  m(W.data(), d, d);
              const double det = m.fullPivLu().determinant();
              out << fmt::format("  det W = {:.6g}{}\n", det,
                                 det == 0 ? "  SINGULAR: not invertible" : "");
              if (det == 0 && singular.empty()) singular = fmt::format("layer {} (affine)", l + 1);
            },
            [&](const ActivationLayer& a) {
              out << fmt::format("  {}; smallest phi' at x0 = {:.6g} (unit {}){}\n",
                                 phi_text(a.phi()), slope[l].first, slope[l].second,
                                 slope[l].first > 0 ? "" : "  NOT INVERTIBLE there");
            },
            [&](const CouplingLayer& c) {
              std::vector<std::string> mask;
              for (const auto& m : c.mask.values) mask.push_back(m.is_zero() ? "0" : "1");
              out << fmt::format(
                  "  mask [{}], hidden {}; globally invertible (volume preserving)\n",
                  fmt::join(mask, ", "), c.hidden());
              out << fmt::format(
                  "  {}; smallest phi' over hidden units at x0 = {:.6g} (hidden unit {})\n",
                  phi_text(c.phi()), slope[l].first, slope[l].second);
            },
            [&](const ActNormLayer&) {
              out << fmt::format("  smallest |scale| = {:.6g} (unit {}){}\n", slope[l].first,
                                 slope[l].second,
                                 slope[l].first > 0 ? "" : "  SINGULAR: not invertible");
              if (!(slope[l].first > 0) && singular.empty())
                singular = fmt::format("layer {} (actnorm)", l + 1);
            },
        },
        layer);
    if (at_x0.layer == static_cast<int>(l)) {
      out << fmt::format(
          "  the expansion point leaves the invertible domain here; later layers not evaluated\n");
      break;
    }
  }
  // Counted by parameter_count, as train reports them: every number in the weight tensors.
  out << fmt::format("parameters: {}\n", parameter_count(model));
  out << fmt::format(
      "expansion point x0 = ({}): {}\n", fmt::join(x0, ", "),
      at_x0.layer >= 0 ? fmt::format("OUTSIDE the domain: layer {}, unit {}, phi' = {:.6g}",
                                     at_x0.layer + 1, at_x0.unit, at_x0.slope)
      : !singular.empty()
          ? fmt::format("the model is NOT INVERTIBLE anywhere: {} is singular", singular)
          : "inside the invertible domain of every layer");
  if (!request.data) return;
  const NpyArray& x = *request.data;
  if (x.cols != ud)
    throw Error(
        fmt::format("{}: {} units per sample, the model has dim {}", request.data_name, x.cols, d));
  std::map<std::pair<int, int>, std::size_t> exits;  // (layer, unit) -> samples
  std::size_t outside = 0;
  Exit first;
  std::size_t first_sample = 0;
  for (std::size_t r = 0; r < x.rows; ++r) {
    std::vector<double> y(x.data.begin() + static_cast<long>(r * ud),
                          x.data.begin() + static_cast<long>((r + 1) * ud));
    for (std::size_t i = 0; i < ud; ++i)
      if (!std::isfinite(y[i]))
        throw Error(fmt::format("{}: sample {}, unit {}: not finite", request.data_name, r, i));
    const Exit e = walk(maps, std::move(y), nullptr);
    if (e.layer < 0) continue;
    if (outside++ == 0) first = e, first_sample = r;
    ++exits[{e.layer, e.unit}];
  }
  out << fmt::format("data {}: {} samples, {} outside the invertible domain\n", request.data_name,
                     x.rows, outside);
  if (!outside) return;
  out << fmt::format("  first: sample {} at layer {}, unit {} (phi' = {:.6g})\n", first_sample,
                     first.layer + 1, first.unit, first.slope);
  for (const auto& [where, n] : exits)
    out << fmt::format("  layer {}, unit {}: {} samples\n", where.first + 1, where.second, n);
}

}  // namespace flowaction
