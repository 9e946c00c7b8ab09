#include "frontends/manifest.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "engine/error.hpp"
#include "engine/field.hpp"
#include "frontends/exact_json.hpp"
#include "frontends/input_file.hpp"
#include "frontends/tensor_file.hpp"

namespace flowaction {

namespace {

struct Context {
  const std::string& source;
  std::string where;                            // "layer 2 (affine)"
  const TensorFile* file = nullptr;             // the manifest's "tensors", if any
  std::map<std::string, std::string> origin{};  // field -> "tensor 'NAME' of FILE", for messages

  [[noreturn]] void fail(std::string_view field, std::string_view problem) const {
    if (field.empty()) throw Error(fmt::format("{}: {}: {}", source, where, problem));
    const auto o = origin.find(std::string(field));
    throw Error(fmt::format("{}: {}: field '{}'{}: {}", source, where, excerpt(field),
                            o == origin.end() ? "" : " (" + o->second + ")", problem));
  }
};

GiNaC::numeric number_value(const Context& c, std::string_view field, const JsonNode& n) {
  GiNaC::numeric v;
  try {
    v = parse_decimal(n.text);
  } catch (const std::invalid_argument& e) {
    c.fail(field, fmt::format("{} is {}", excerpt(n.text), e.what()));
  }
  if (!std::isfinite(v.to_double()))
    c.fail(field, fmt::format("{} is not finite in double precision", excerpt(n.text)));
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
                               excerpt(n->text)));
    try {
      t = c.file->get(n->text, name);
    } catch (const Error& e) {
      c.fail(name, e.what());
    }
    c.origin[name] = fmt::format("tensor '{}' of {}", excerpt(n->text), c.file->name);
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
                                       ? "\"" + excerpt(format->text) + "\""
                                       : std::string(json_kind_name(format->type))));
  std::optional<TensorFile> tensor_file;
  std::filesystem::path tensor_path;
  if (const JsonNode* tensors = root.find("tensors")) {
    if (tensors->type != JsonNode::kind::string || tensors->text.empty())
      top.fail("tensors", fmt::format("expected a file name (.safetensors or .npz), got {}",
                                      json_kind_name(tensors->type)));
    tensor_path = base_dir / tensors->text;
    try {
      tensor_file = read_tensor_file(tensor_path);
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
    top.fail("dim", fmt::format("expected a positive integer, got {}", excerpt(dim->text)));
  Model model;
  model.source = source;
  model.tensor_file = tensor_path.string();
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

  std::string known_types;
  for (const LayerSpec* spec : layer_specs())
    known_types += (known_types.empty() ? "" : ", ") + std::string(spec->type);
  for (std::size_t l = 0; l < layers->items.size(); ++l) {
    const JsonNode& n = layers->items[l];
    Context c{source, fmt::format("layer {}", l + 1), tensor_file ? &*tensor_file : nullptr, {}};
    if (n.type != JsonNode::kind::object)
      c.fail("", fmt::format("expected an object, got {}", json_kind_name(n.type)));
    const JsonNode* type = n.find("type");
    if (!type) c.fail("type", fmt::format("missing ({})", known_types));
    if (type->type != JsonNode::kind::string)
      c.fail("type", fmt::format("expected a string naming the layer type ({}), got {}",
                                 known_types, json_kind_name(type->type)));
    const LayerSpec* spec = find_layer_spec(type->text);
    if (!spec)
      c.fail("type", fmt::format("unknown layer type \"{}\" (known: {})", excerpt(type->text),
                                 known_types));
    c.where = fmt::format("layer {} ({})", l + 1, type->text);
    for (const auto& [key, v] : n.members)
      if (key != "type" && key != "name" && !spec->field(key)) {
        std::string list = "type, name";
        for (const FieldSpec& f : spec->fields) list += ", " + std::string(f.name);
        c.fail(key, fmt::format("unknown field for this layer type (known: {})", list));
      }
    Layer layer = make_layer(spec->type);
    const auto tensors = tensors_of(layer);
    for (std::size_t f = 0; f < tensors.size(); ++f) {
      *tensors[f] = read_tensor(c, n, std::string(spec->fields[f].name).c_str(), false);
      // A scalar list of coefficients is the vector [c1].
      if (tensors[f]->name == "coeffs" && !tensors[f]->empty() && tensors[f]->shape.empty())
        tensors[f]->shape = {1};
    }
    if (auto problem = check_layer(layer, d)) c.fail(problem->field, problem->problem);
    model.layers.push_back(std::move(layer));
  }
  return model;
}

Model read_manifest(const std::filesystem::path& path) {
  return parse_manifest(read_input_file(path, "a flowaction/1 manifest", max_manifest_bytes),
                        path.string(), path.parent_path());
}

}  // namespace flowaction
