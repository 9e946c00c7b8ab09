#include "trainer/manifest_writer.hpp"

#include <fmt/format.h>

#include <cmath>

#include "engine/error.hpp"

namespace flowaction::train {

namespace {

std::string number(double x) {
  if (!std::isfinite(x)) throw Error("cannot write a model with a non-finite weight");
  return fmt::format("{}", x);  // shortest round-trip decimal
}

std::string vector_json(const Vector& v) {
  std::string s = "[";
  for (Eigen::Index i = 0; i < v.size(); ++i) s += (i ? ", " : "") + number(v[i]);
  return s + "]";
}

// One row per line, rows = output units.
std::string matrix_json(const Matrix& m, std::string_view indent) {
  std::string s = "[";
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    s += r ? fmt::format(",\n{} ", indent) : "";
    s += vector_json(m.row(r).transpose());
  }
  return s + "]";
}

std::string int_vector_json(const std::vector<int>& v) {
  return fmt::format("[{}]", fmt::join(v, ", "));
}

// The nonlinearity of a layer: "coeffs" rows [1, 0, α] for cubic, "alpha" for quadratic.
std::string phi_json(activation_kind kind, const Vector& alpha, std::string_view indent) {
  if (kind == activation_kind::quadratic) return fmt::format("\"alpha\": {}", vector_json(alpha));
  std::string s = "\"coeffs\": [";
  for (Eigen::Index i = 0; i < alpha.size(); ++i)
    s += (i ? fmt::format(",\n{}            ", indent) : std::string()) +
         fmt::format("[1, 0, {}]", number(alpha[i]));
  return s + "]";
}

}  // namespace

std::string manifest_json(const Flow& flow) {
  std::string s =
      fmt::format("{{\"format\": \"flowaction/1\", \"dim\": {},\n \"layers\": [\n", flow.dim);
  const std::string ind = "   ";
  for (std::size_t l = 0; l < flow.layers.size(); ++l) {
    s += l ? ",\n" : "";
    s += std::visit(
        overloaded{
            [&](const AffineLayer& a) {
              return fmt::format("  {{\"type\": \"affine\",\n   \"W\": {},\n   \"b\": {}}}",
                                 matrix_json(a.W, ind + "      "), vector_json(a.b));
            },
            [&](const ActivationLayer& act) {
              return fmt::format("  {{\"type\": \"activation\",\n   {}}}",
                                 phi_json(act.kind, act.alpha, ind));
            },
            [&](const CouplingLayer& c) {
              return fmt::format(
                  "  {{\"type\": \"coupling\",\n   \"mask\": {},\n   \"W1\": {},\n   \"b1\": "
                  "{},\n   {},\n   \"W2\": {},\n   \"b2\": {}}}",
                  int_vector_json(c.mask), matrix_json(c.W1, ind + "       "), vector_json(c.b1),
                  phi_json(c.kind, c.alpha, ind), matrix_json(c.W2, ind + "       "),
                  vector_json(c.b2));
            },
            // The scale the map uses (exp θ, synced), not θ: the manifest holds the layer map.
            [&](const ActNormLayer& an) {
              return fmt::format(
                  "  {{\"type\": \"actnorm\",\n   \"scale\": {},\n   \"shift\": {}}}",
                  vector_json(an.scale), vector_json(an.shift));
            }},
        flow.layers[l]);
  }
  return s + "\n ]}\n";
}

}  // namespace flowaction::train
