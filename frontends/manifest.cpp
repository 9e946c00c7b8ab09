#include "frontends/manifest.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "engine/error.hpp"
#include "engine/field.hpp"
#include "frontends/exact_json.hpp"
#include "frontends/tensor_file.hpp"

namespace flowaction {

namespace {

struct Context {
  const std::string& source;
  std::string where;                          // "layer 2 (affine)"
  const TensorFile* file = nullptr;           // the manifest's "tensors", if any
  std::map<std::string, std::string> origin;  // field -> "tensor 'NAME' of FILE", for messages

  [[noreturn]] void fail(std::string_view field, std::string_view problem) const {
    if (field.empty()) throw Error(fmt::format("{}: {}: {}", source, where, problem));
    const auto o = origin.find(std::string(field));
    throw Error(fmt::format("{}: {}: field '{}'{}: {}", source, where, field,
                            o == origin.end() ? "" : " (" + o->second + ")", problem));
  }
};

std::string shape_text(const std::vector<int>& shape) {
  if (shape.empty()) return "a scalar";
  if (shape.size() == 1) return fmt::format("a vector of length {}", shape[0]);
  if (shape.size() == 2) return fmt::format("a {}x{} matrix", shape[0], shape[1]);
  return fmt::format("an array of shape ({})", fmt::join(shape, ", "));
}

GiNaC::numeric number_value(const Context& c, std::string_view field, const JsonNode& n) {
  GiNaC::numeric v;
  try {
    v = parse_decimal(n.text);
  } catch (const std::invalid_argument& e) {
    c.fail(field, fmt::format("{} is {}", n.text, e.what()));
  }
  if (!std::isfinite(v.to_double()))
    c.fail(field, fmt::format("{} is not finite in double precision", n.text));
  return v;
}

// A scalar, vector or matrix of numbers: inline, or a string naming a tensor of the tensor file.
Tensor read_tensor(Context& c, const JsonNode& layer, const char* name, bool required) {
  Tensor t;
  t.name = name;
  const JsonNode* n = layer.find(name);
  if (!n) {
    if (required) c.fail(name, "missing");
    return t;
  }
  if (n->type == JsonNode::kind::string) {
    if (!c.file)
      c.fail(name, fmt::format("names tensor \"{}\", but the manifest gives no \"tensors\" file",
                               n->text));
    try {
      t = c.file->get(n->text, name);
    } catch (const Error& e) {
      c.fail(name, e.what());
    }
    c.origin[name] = fmt::format("tensor '{}' of {}", n->text, c.file->name);
    return t;
  }
  if (n->is_number()) {
    t.values.push_back(number_value(c, name, *n));
    return t;
  }
  if (n->type != JsonNode::kind::array)
    c.fail(name, fmt::format("expected numbers, got {}", json_kind_name(n->type)));
  if (n->items.empty()) c.fail(name, "is empty");
  const bool matrix = n->items[0].type == JsonNode::kind::array;
  if (!matrix) {
    t.shape = {static_cast<int>(n->items.size())};
    for (const JsonNode& x : n->items) {
      if (!x.is_number())
        c.fail(name, fmt::format("expected a vector of numbers, found {}", json_kind_name(x.type)));
      t.values.push_back(number_value(c, name, x));
    }
    return t;
  }
  const std::size_t cols = n->items[0].items.size();
  if (cols == 0) c.fail(name, "has an empty row");
  t.shape = {static_cast<int>(n->items.size()), static_cast<int>(cols)};
  for (std::size_t r = 0; r < n->items.size(); ++r) {
    const JsonNode& row = n->items[r];
    if (row.type != JsonNode::kind::array)
      c.fail(name, fmt::format("row {} is {}, expected an array", r, json_kind_name(row.type)));
    if (row.items.size() != cols)
      c.fail(name, fmt::format("row {} has {} entries, row 0 has {}: not a matrix", r,
                               row.items.size(), cols));
    for (const JsonNode& x : row.items) {
      if (!x.is_number())
        c.fail(name, fmt::format("row {} holds {}, expected numbers", r, json_kind_name(x.type)));
      t.values.push_back(number_value(c, name, x));
    }
  }
  return t;
}

void expect_shape(const Context& c, const Tensor& t, const std::vector<int>& shape) {
  if (t.empty() || t.shape == shape) return;
  c.fail(t.name, fmt::format("expected {}, got {}", shape_text(shape), shape_text(t.shape)));
}

// "alpha" (scalar or one per row) or "coeffs" (shared vector or one row per row), rows = units.
Tensor read_activation(Context& c, const JsonNode& layer, int rows, const char* rows_name) {
  const bool has_alpha = layer.find("alpha") != nullptr,
             has_coeffs = layer.find("coeffs") != nullptr;
  if (has_alpha == has_coeffs) c.fail("", "give exactly one of 'alpha' and 'coeffs'");
  Tensor t = read_tensor(c, layer, has_alpha ? "alpha" : "coeffs", true);
  if (has_alpha) {
    if (!t.shape.empty() && t.shape != std::vector<int>{rows})
      c.fail("alpha", fmt::format("expected a scalar or one value per {} ({}), got {}", rows_name,
                                  rows, shape_text(t.shape)));
    return t;
  }
  if (t.shape.empty()) t.shape = {1};
  if (t.shape.size() == 2 && t.shape[0] != rows)
    c.fail("coeffs", fmt::format("expected one row per {} ({} rows), got {}", rows_name, rows,
                                 shape_text(t.shape)));
  const int p = t.shape.back();
  const int n_rows = t.shape.size() == 2 ? rows : 1;
  for (int r = 0; r < n_rows; ++r)
    if (t.values[static_cast<std::size_t>(r * p)].is_zero())
      c.fail("coeffs", fmt::format("c1 = 0{}: phi must have a nonzero linear term to be invertible",
                                   n_rows > 1 ? fmt::format(" in row {}", r) : ""));
  return t;
}

void check_keys(const Context& c, const JsonNode& layer,
                std::initializer_list<const char*> allowed) {
  for (const auto& [key, v] : layer.members) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || key == a;
    if (!ok) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      c.fail(key, fmt::format("unknown field for this layer type (known: {})", list));
    }
  }
}

}  // namespace

Model parse_manifest(std::string_view text, const std::string& source,
                     const std::filesystem::path& base_dir) {
  const JsonNode root = parse_exact_json(text, source);
  Context top{source, "manifest"};
  if (root.type != JsonNode::kind::object)
    top.fail("", fmt::format("expected a JSON object, got {}", json_kind_name(root.type)));
  const JsonNode* format = root.find("format");
  if (!format) top.fail("format", "missing (expected \"flowaction/1\")");
  if (format->type != JsonNode::kind::string || format->text != "flowaction/1")
    top.fail("format", fmt::format("expected \"flowaction/1\", got {}",
                                   format->type == JsonNode::kind::string
                                       ? "\"" + format->text + "\""
                                       : std::string(json_kind_name(format->type))));
  std::optional<TensorFile> tensor_file;
  if (const JsonNode* tensors = root.find("tensors")) {
    if (tensors->type != JsonNode::kind::string || tensors->text.empty())
      top.fail("tensors", fmt::format("expected a file name (.safetensors or .npz), got {}",
                                      json_kind_name(tensors->type)));
    try {
      tensor_file = read_tensor_file(base_dir / tensors->text);
    } catch (const Error& e) {
      top.fail("tensors", e.what());  // the tensor file's own message, behind the manifest's name
    }
  }
  const JsonNode* dim = root.find("dim");
  if (!dim) top.fail("dim", "missing");
  if (!dim->is_number())
    top.fail("dim", fmt::format("expected a positive integer, got {}", json_kind_name(dim->type)));
  const GiNaC::numeric dv = number_value(top, "dim", *dim);
  if (!dv.is_pos_integer() || dv > 1000000)
    top.fail("dim", fmt::format("expected a positive integer, got {}", dim->text));
  Model model;
  model.source = source;
  model.dim = dv.to_int();
  const int d = model.dim;
  for (const auto& [key, v] : root.members)
    if (key != "format" && key != "dim" && key != "layers" && key != "tensors" &&
        key != "metadata" && key != "comment")
      top.fail(key, "unknown field (known: format, dim, layers, tensors, metadata, comment)");
  const JsonNode* layers = root.find("layers");
  if (!layers) top.fail("layers", "missing");
  if (layers->type != JsonNode::kind::array)
    top.fail("layers", fmt::format("expected an array, got {}", json_kind_name(layers->type)));

  for (std::size_t l = 0; l < layers->items.size(); ++l) {
    const JsonNode& n = layers->items[l];
    Context c{source, fmt::format("layer {}", l + 1), tensor_file ? &*tensor_file : nullptr, {}};
    if (n.type != JsonNode::kind::object)
      c.fail("", fmt::format("expected an object, got {}", json_kind_name(n.type)));
    const JsonNode* type = n.find("type");
    if (!type || type->type != JsonNode::kind::string)
      c.fail("type", "missing (affine, activation or coupling)");
    c.where = fmt::format("layer {} ({})", l + 1, type->text);
    if (type->text == "affine") {
      check_keys(c, n, {"type", "W", "b", "name"});
      AffineLayer a{read_tensor(c, n, "W", true), read_tensor(c, n, "b", false)};
      expect_shape(c, a.W, {d, d});
      expect_shape(c, a.b, {d});
      model.layers.emplace_back(std::move(a));
    } else if (type->text == "activation") {
      check_keys(c, n, {"type", "alpha", "coeffs", "name"});
      model.layers.emplace_back(ActivationLayer{read_activation(c, n, d, "unit")});
    } else if (type->text == "coupling") {
      check_keys(c, n, {"type", "mask", "W1", "b1", "alpha", "coeffs", "W2", "b2", "name"});
      CouplingLayer cp;
      const Tensor mask = read_tensor(c, n, "mask", true);
      expect_shape(c, mask, {d});
      int nb = 0;
      for (const auto& m : mask.values) {
        if (!(m.is_zero() || m == 1))
          c.fail("mask", fmt::format("entries must be 0 or 1, found {}", to_string(m)));
        cp.mask.push_back(m.is_zero() ? 0 : 1);
        nb += cp.mask.back();
      }
      if (nb == 0 || nb == d)
        c.fail("mask", fmt::format("leaves the {} set empty: a coupling needs units that pass (0) "
                                   "and units that are shifted (1)",
                                   nb == 0 ? "shifted (1)" : "passing (0)"));
      const int na = d - nb;
      cp.W1 = read_tensor(c, n, "W1", true);
      if (cp.W1.shape.size() != 2 || cp.W1.shape[1] != na)
        c.fail("W1", fmt::format(
                         "expected a hidden x {} matrix (one column per unit with mask 0), got {}",
                         na, shape_text(cp.W1.shape)));
      const int hidden = cp.W1.shape[0];
      cp.b1 = read_tensor(c, n, "b1", false);
      expect_shape(c, cp.b1, {hidden});
      cp.act = read_activation(c, n, hidden, "hidden unit");
      cp.W2 = read_tensor(c, n, "W2", true);
      expect_shape(c, cp.W2, {nb, hidden});
      cp.b2 = read_tensor(c, n, "b2", false);
      expect_shape(c, cp.b2, {nb});
      model.layers.emplace_back(std::move(cp));
    } else {
      c.fail("type", fmt::format("unknown layer type \"{}\" (known: affine, activation, coupling)",
                                 type->text));
    }
  }
  return model;
}

Model read_manifest(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
  std::ostringstream s;
  s << in.rdbuf();
  return parse_manifest(s.str(), path.string(), path.parent_path());
}

}  // namespace flowaction
