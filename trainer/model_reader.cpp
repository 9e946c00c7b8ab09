#include "trainer/model_reader.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "engine/error.hpp"

namespace flowaction::train {

namespace {

using json = nlohmann::json;

struct Context {
  std::string_view file;
  std::size_t layer;
  [[noreturn]] void fail(std::string_view field, std::string_view what) const {
    throw Error(fmt::format("{}: layer {}, \"{}\": {}", file, layer, field, what));
  }
};

double number(const json& v, const Context& c, std::string_view field) {
  if (!v.is_number()) c.fail(field, "expected a number");
  const double x = v.get<double>();
  if (!std::isfinite(x)) c.fail(field, "not finite");
  return x;
}

void require_inline(const json& v, const Context& c, std::string_view field) {
  if (v.is_string())
    c.fail(field, fmt::format("names tensor '{}' in an external file; generate reads inline tensors only",
                              v.get<std::string>()));
}

Vector vector_field(const json& layer, const Context& c, std::string_view field, Eigen::Index n, bool optional) {
  if (!layer.contains(field)) {
    if (optional) return Vector::Zero(n);
    c.fail(field, "missing");
  }
  const json& v = layer[std::string(field)];
  require_inline(v, c, field);
  if (!v.is_array() || static_cast<Eigen::Index>(v.size()) != n)
    c.fail(field, fmt::format("expected an array of {} numbers", n));
  Vector out(n);
  for (Eigen::Index i = 0; i < n; ++i) out[i] = number(v[static_cast<std::size_t>(i)], c, field);
  return out;
}

Matrix matrix_field(const json& layer, const Context& c, std::string_view field, Eigen::Index rows, Eigen::Index cols) {
  if (!layer.contains(field)) c.fail(field, "missing");
  const json& v = layer[std::string(field)];
  require_inline(v, c, field);
  const std::string shape = fmt::format("expected a {} x {} array (rows = output units)", rows, cols);
  if (!v.is_array() || static_cast<Eigen::Index>(v.size()) != rows) c.fail(field, shape);
  Matrix out(rows, cols);
  for (Eigen::Index r = 0; r < rows; ++r) {
    const json& row = v[static_cast<std::size_t>(r)];
    if (!row.is_array() || static_cast<Eigen::Index>(row.size()) != cols) c.fail(field, shape);
    for (Eigen::Index k = 0; k < cols; ++k) out(r, k) = number(row[static_cast<std::size_t>(k)], c, field);
  }
  return out;
}

// The nonlinearity of n units: "alpha" (quadratic) or "coeffs" of u + αu² or u + αu³.
void read_phi(const json& layer, const Context& c, Eigen::Index n, activation_kind& kind, Vector& alpha) {
  if (layer.contains("alpha") == layer.contains("coeffs")) c.fail("alpha", "give exactly one of \"alpha\" and \"coeffs\"");
  if (layer.contains("alpha")) {
    kind = activation_kind::quadratic;
    const json& a = layer["alpha"];
    require_inline(a, c, "alpha");
    if (a.is_number()) alpha = Vector::Constant(n, number(a, c, "alpha"));
    else alpha = vector_field(layer, c, "alpha", n, false);
    return;
  }
  const json& co = layer["coeffs"];
  require_inline(co, c, "coeffs");
  if (!co.is_array() || co.empty()) c.fail("coeffs", "expected an array");
  std::vector<std::vector<double>> rows;
  auto read_row = [&](const json& r) {
    if (!r.is_array() || r.empty()) c.fail("coeffs", "expected [c1, c2, ...] per unit");
    std::vector<double> v;
    for (const json& x : r) v.push_back(number(x, c, "coeffs"));
    while (v.size() > 1 && v.back() == 0) v.pop_back();
    return v;
  };
  if (co[0].is_array()) {
    if (static_cast<Eigen::Index>(co.size()) != n) c.fail("coeffs", fmt::format("expected {} rows, one per unit", n));
    for (const json& r : co) rows.push_back(read_row(r));
  } else {
    rows.assign(static_cast<std::size_t>(n), read_row(co));
  }
  // Which powers appear decides the kind; mixing u² and u³ is not a layer this trainer knows.
  bool has2 = false, has3 = false;
  for (const auto& r : rows) {
    if (r[0] != 1 || r.size() > 3)
      c.fail("coeffs", "generate supports phi(u) = u + alpha u^2 or u + alpha u^3 only (c1 = 1)");
    if (r.size() >= 2 && r[1] != 0) has2 = true;
    if (r.size() == 3) has3 = true;
  }
  if (has2 && has3) c.fail("coeffs", "mixes u^2 and u^3 terms; generate supports u + alpha u^2 or u + alpha u^3 only");
  kind = has2 ? activation_kind::quadratic : activation_kind::cubic;
  alpha.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto& r = rows[static_cast<std::size_t>(i)];
    const std::size_t p = has2 ? 1 : 2;
    alpha[i] = r.size() > p ? r[p] : 0.0;
  }
}

}  // namespace

Flow parse_model(std::string_view text, std::string_view name) {
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    throw Error(fmt::format("{}: not valid JSON ({})", name, e.what()));
  }
  if (!j.is_object() || j.value("format", std::string()) != "flowaction/1")
    throw Error(fmt::format("{}: not a flowaction/1 model (\"format\" must be \"flowaction/1\")", name));
  if (!j.contains("dim") || !j["dim"].is_number_integer() || j["dim"].get<long>() < 1)
    throw Error(fmt::format("{}: \"dim\" must be a positive integer", name));
  if (!j.contains("layers") || !j["layers"].is_array())
    throw Error(fmt::format("{}: \"layers\" must be an array", name));
  Flow f;
  f.dim = j["dim"].get<int>();
  const Eigen::Index d = f.dim;
  for (std::size_t l = 0; l < j["layers"].size(); ++l) {
    const json& L = j["layers"][l];
    const Context c{name, l};
    if (!L.is_object() || !L.contains("type") || !L["type"].is_string()) c.fail("type", "missing");
    const std::string type = L["type"].get<std::string>();
    if (type == "affine") {
      AffineLayer a;
      a.W = matrix_field(L, c, "W", d, d);
      a.b = vector_field(L, c, "b", d, true);
      f.layers.emplace_back(std::move(a));
    } else if (type == "activation") {
      ActivationLayer s;
      read_phi(L, c, d, s.kind, s.alpha);
      if (s.kind == activation_kind::cubic && s.alpha.minCoeff() < 0)
        c.fail("coeffs", "u + alpha u^3 with alpha < 0 is not invertible");
      s.theta = s.alpha;
      if (s.kind == activation_kind::cubic)
        for (Eigen::Index i = 0; i < d; ++i) s.theta[i] = inverse_softplus(s.alpha[i]);
      f.layers.emplace_back(std::move(s));
    } else if (type == "coupling") {
      CouplingLayer cp;
      if (!L.contains("mask") || !L["mask"].is_array() || static_cast<Eigen::Index>(L["mask"].size()) != d)
        c.fail("mask", fmt::format("expected {} entries of 0 or 1", d));
      std::vector<int> mask;
      for (const json& m : L["mask"]) {
        if (!m.is_number_integer() || (m.get<int>() != 0 && m.get<int>() != 1)) c.fail("mask", "entries must be 0 or 1");
        mask.push_back(m.get<int>());
      }
      cp.set_mask(std::move(mask));
      const auto na = static_cast<Eigen::Index>(cp.a_units.size()), nb = static_cast<Eigen::Index>(cp.b_units.size());
      const json& w1 = L.contains("W1") ? L["W1"] : json();
      if (!w1.is_array() || w1.empty()) c.fail("W1", "expected a hidden x |A| array");
      const auto h = static_cast<Eigen::Index>(w1.size());
      cp.W1 = matrix_field(L, c, "W1", h, na);
      cp.b1 = vector_field(L, c, "b1", h, true);
      read_phi(L, c, h, cp.kind, cp.alpha);
      cp.W2 = matrix_field(L, c, "W2", nb, h);
      cp.b2 = vector_field(L, c, "b2", nb, true);
      f.layers.emplace_back(std::move(cp));
    } else {
      c.fail("type", fmt::format("unknown layer type '{}'", type));
    }
  }
  return f;
}

Flow read_model(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open file", path.string()));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_model(text, path.string());
}

}  // namespace flowaction::train
