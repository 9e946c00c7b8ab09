#include "frontends/safetensors.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/error.hpp"
#include "frontends/exact_json.hpp"
#include "frontends/float_bits.hpp"

namespace flowaction {

namespace {

// The reference implementation refuses headers above 100 MB; so do we, before parsing.
constexpr std::uint64_t max_header = 100'000'000;

struct Dtype {
  const char* name;
  std::size_t item;
  bool brain;
  bool integer = false;
};
constexpr Dtype dtypes[] = {{"F64", 8, false},
                            {"F32", 4, false},
                            {"F16", 2, false},
                            {"BF16", 2, true},
                            {"I32", 4, false, true}};
// Dtypes of the format we know but cannot use as weights, so that the message can say so.
constexpr const char* other_dtypes[] = {"BOOL",    "U8",      "I8",      "I16",     "U16",
                                        "U32",     "I64",     "U64",     "F8_E5M2", "F8_E4M3",
                                        "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4",      "C64"};

std::uint64_t integer(const JsonNode& n, std::string_view file, std::string_view tensor,
                      std::string_view field) {
  std::uint64_t v = 0;
  const char* end = n.text.data() + n.text.size();
  const bool ok = n.is_number() && !n.text.empty() && n.text[0] != '-' &&
                  std::from_chars(n.text.data(), end, v).ptr == end;
  if (!ok)
    throw Error(fmt::format("{}: tensor '{}': {} must hold non-negative integers, found {}", file,
                            tensor, field,
                            n.is_number() ? excerpt(n.text) : std::string(json_kind_name(n.type))));
  return v;
}

struct Entry {
  std::string name;
  const Dtype* dtype;
  std::vector<std::size_t> shape;
  std::uint64_t begin, end;
};

}  // namespace

TensorFile parse_safetensors(std::span<const std::byte> bytes, std::string_view name) {
  const std::string file(name);
  if (bytes.size() < 8)
    throw Error(
        fmt::format("{}: not a safetensors file: {} bytes, shorter than the 8-byte header length",
                    file, bytes.size()));
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<std::uint64_t>(bytes[static_cast<std::size_t>(i)]) << (8 * i);
  if (n > bytes.size() - 8)
    throw Error(fmt::format(
        "{}: safetensors header length {} is larger than the {} bytes after it (truncated or not a "
        "safetensors file)",
        file, n, bytes.size() - 8));
  if (n > max_header)
    throw Error(
        fmt::format("{}: safetensors header of {} bytes is beyond the 100 MB limit", file, n));
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()) + 8, n);
  if (text.empty() || text[0] != '{')
    throw Error(fmt::format(
        "{}: safetensors header does not start with '{{' (not a safetensors file)", file));
  const JsonNode header = parse_exact_json(text, file + " (safetensors header)");
  if (header.type != JsonNode::kind::object)
    throw Error(fmt::format("{}: safetensors header is {}, expected an object", file,
                            json_kind_name(header.type)));
  const std::span<const std::byte> data = bytes.subspan(8 + n);

  std::vector<Entry> entries;
  for (const JsonMember& member : header.members) {
    const std::string& key = member.first;  // named, not bound: clang 14 cannot capture bindings
    const JsonNode& v = member.second;
    if (key == "__metadata__") {
      if (v.type != JsonNode::kind::object)
        throw Error(fmt::format("{}: __metadata__ is {}, expected an object of strings", file,
                                json_kind_name(v.type)));
      for (const auto& [mk, mv] : v.members)
        if (mv.type != JsonNode::kind::string)
          throw Error(fmt::format("{}: __metadata__ entry '{}' is {}, expected a string", file, mk,
                                  json_kind_name(mv.type)));
      continue;
    }
    auto fail = [&](const std::string& what) {
      throw Error(fmt::format("{}: tensor '{}': {}", file, excerpt(key), what));
    };
    if (v.type != JsonNode::kind::object)
      fail(fmt::format("header entry is {}, expected an object", json_kind_name(v.type)));
    for (const auto& [field, x] : v.members)
      if (field != "dtype" && field != "shape" && field != "data_offsets")
        fail(fmt::format("unknown header field '{}' (dtype, shape, data_offsets)", field));
    const JsonNode* dt = v.find("dtype");
    const JsonNode* shape = v.find("shape");
    const JsonNode* offsets = v.find("data_offsets");
    if (!dt || !shape || !offsets) fail("header entry needs dtype, shape and data_offsets");
    if (dt->type != JsonNode::kind::string) fail("dtype is not a string");
    Entry e{key, nullptr, {}, 0, 0};
    for (const Dtype& d : dtypes)
      if (dt->text == d.name) e.dtype = &d;
    if (!e.dtype) {
      const bool known = std::find(std::begin(other_dtypes), std::end(other_dtypes), dt->text) !=
                         std::end(other_dtypes);
      fail(fmt::format("dtype '{}' is {} (F64, F32, F16, BF16 and I32 are supported)", dt->text,
                       known ? "not a floating-point type flowaction reads" : "unknown"));
    }
    if (shape->type != JsonNode::kind::array) fail("shape is not an array");
    std::uint64_t count = 1;
    for (const JsonNode& s : shape->items) {
      const std::uint64_t dim = integer(s, file, key, "shape");
      if (dim != 0 && count > std::numeric_limits<std::uint64_t>::max() / dim / 8)
        fail("shape is too large");
      count *= dim;
      e.shape.push_back(static_cast<std::size_t>(dim));
    }
    if (offsets->type != JsonNode::kind::array || offsets->items.size() != 2)
      fail("data_offsets must be [begin, end]");
    e.begin = integer(offsets->items[0], file, key, "data_offsets");
    e.end = integer(offsets->items[1], file, key, "data_offsets");
    if (e.begin > e.end)
      fail(fmt::format("data_offsets [{}, {}] end before they begin", e.begin, e.end));
    if (e.end > data.size())
      fail(fmt::format("data_offsets [{}, {}] reach beyond the {} bytes of data (truncated file?)",
                       e.begin, e.end, data.size()));
    if (e.end - e.begin != count * e.dtype->item)
      fail(fmt::format("shape [{}] of {} needs {} bytes, data_offsets [{}, {}] give {}",
                       fmt::join(e.shape, ", "), e.dtype->name, count * e.dtype->item, e.begin,
                       e.end, e.end - e.begin));
    entries.push_back(std::move(e));
  }

  // The data must be covered exactly once: no overlaps, no holes, nothing after the last tensor.
  std::vector<const Entry*> order;
  for (const Entry& e : entries) order.push_back(&e);
  std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  std::uint64_t cursor = 0;
  const Entry* previous = nullptr;
  for (const Entry* e : order) {
    if (e->begin < cursor)
      throw Error(fmt::format("{}: tensor '{}': data_offsets [{}, {}] overlap tensor '{}' [{}, {}]",
                              file, e->name, e->begin, e->end, previous->name, previous->begin,
                              previous->end));
    if (e->begin > cursor)
      throw Error(fmt::format(
          "{}: tensor '{}': data_offsets [{}, {}] leave bytes {}..{} of the data unused", file,
          e->name, e->begin, e->end, cursor, e->begin));
    cursor = e->end;
    previous = e;
  }
  if (cursor != data.size())
    throw Error(
        fmt::format("{}: {} bytes of data after the last tensor", file, data.size() - cursor));

  TensorFile out;
  out.name = file;
  for (const Entry& e : entries) {
    StoredTensor t;
    t.shape = e.shape;
    t.dtype = e.dtype->name;
    const std::size_t count = (e.end - e.begin) / e.dtype->item;
    t.values.resize(count);
    const std::byte* p = data.data() + e.begin;
    for (std::size_t k = 0; k < count; ++k)
      t.values[k] = e.dtype->integer
                        ? load_int32(p + k * e.dtype->item, false)
                        : load_float(p + k * e.dtype->item, e.dtype->item, false, e.dtype->brain);
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

void write_safetensors(std::ostream& out, const std::vector<RawTensor>& tensors) {
  // nlohmann's ordered_json keeps the given order, as Python's writer does.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  std::size_t offset = 0;
  for (const RawTensor& t : tensors) {
    header[t.name] = {
        {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the reference writer aligns the data to 8 bytes
  char length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<char>((text.size() >> (8 * i)) & 0xff);
  out.write(length, 8);
  out << text;
  for (const RawTensor& t : tensors)
    out.write(t.data.data(), static_cast<std::streamsize>(t.data.size()));
}

std::string safetensors_bytes(const std::vector<RawTensor>& tensors) {
  std::ostringstream out;
  write_safetensors(out, tensors);
  return std::move(out).str();
}

}  // namespace flowaction
