#include "frontends/action_reader.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cctype>
#include <cmath>
#include <optional>
#include <set>

#include "diagrams/diagram.hpp"
#include "engine/error.hpp"
#include "engine/sym_tensor.hpp"
#include "frontends/exact_json.hpp"
#include "frontends/input_file.hpp"

namespace flowaction {

namespace {

bool identifier_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// "p/q" with integers p, q ≠ 0, or a decimal: the exact value.
std::optional<GiNaC::numeric> parse_rational(std::string_view s) {
  try {
    const auto slash = s.find('/');
    if (slash == std::string_view::npos) return parse_decimal(s);
    const GiNaC::numeric p = parse_decimal(s.substr(0, slash));
    const GiNaC::numeric q = parse_decimal(s.substr(slash + 1));
    if (!p.is_integer() || !q.is_integer() || q.is_zero() ||
        s.substr(slash + 1).find_first_of("-.eE") != std::string_view::npos)
      return std::nullopt;
    return p / q;
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

// The expression with every decimal literal written as an exact fraction: GiNaC's parser would
// make 0.1 a float.
std::string exact_literals(const std::string& text) {
  std::string out;
  for (std::size_t p = 0; p < text.size();) {
    const char c = text[p];
    const bool starts_number = (std::isdigit(static_cast<unsigned char>(c)) || c == '.') &&
                               (p == 0 || !identifier_char(text[p - 1]));
    if (!starts_number) {
      out += c;
      ++p;
      continue;
    }
    std::size_t e = p;
    while (e < text.size() && std::isdigit(static_cast<unsigned char>(text[e]))) ++e;
    if (e < text.size() && text[e] == '.') {
      ++e;
      while (e < text.size() && std::isdigit(static_cast<unsigned char>(text[e]))) ++e;
    }
    if (e < text.size() && (text[e] == 'e' || text[e] == 'E')) {
      std::size_t x = e + 1;
      if (x < text.size() && (text[x] == '+' || text[x] == '-')) ++x;
      if (x < text.size() && std::isdigit(static_cast<unsigned char>(text[x]))) {
        while (x < text.size() && std::isdigit(static_cast<unsigned char>(text[x]))) ++x;
        e = x;
      }
    }
    const std::string lexeme = text.substr(p, e - p);
    if (lexeme.find_first_of(".eE") == std::string::npos) {
      out += lexeme;  // an integer: exact already
    } else {
      const GiNaC::numeric v = parse_decimal(lexeme);  // throws for "." alone
      out += "(" + to_string(v) + ")";
    }
    p = e;
  }
  return out;
}

// Whether every power has a small integer exponent ("x^3", "x^(-2)"): GiNaC evaluates numeric
// powers while it parses, and 10^(10^9) would never finish.
bool small_exponents(std::string_view text) {
  for (std::size_t p = text.find('^'); p != std::string_view::npos; p = text.find('^', p + 1)) {
    std::size_t q = p + 1;
    auto skip_spaces = [&] {
      while (q < text.size() && text[q] == ' ') ++q;
    };
    skip_spaces();
    const bool paren = q < text.size() && text[q] == '(';
    if (paren) ++q, skip_spaces();
    if (q < text.size() && (text[q] == '-' || text[q] == '+')) ++q;
    std::size_t digits = 0;
    while (q < text.size() && std::isdigit(static_cast<unsigned char>(text[q]))) ++q, ++digits;
    if (digits == 0 || digits > 3) return false;
    skip_spaces();
    if (paren && (q >= text.size() || text[q] != ')')) return false;
  }
  return true;
}

}  // namespace

GiNaC::ex parse_value(const std::string& text, GiNaC::symtab& table) {
  if (text.find_first_not_of(" \t") == std::string::npos) throw std::invalid_argument("is empty");
  if (auto q = parse_rational(text)) return *q;
  if (!small_exponents(text))
    throw std::invalid_argument(
        fmt::format("'{}': exponents must be integers of at most 3 digits", text));
  const std::string exact = exact_literals(text);
  // Every name that is not a function call is a real symbol.
  static const std::set<std::string, std::less<>> constants = {"Pi", "Euler", "Catalan"};
  static const std::set<std::string, std::less<>> not_numbers = {"nan", "inf", "infinity", "I"};
  for (std::size_t p = 0; p < exact.size();) {
    if (!std::isalpha(static_cast<unsigned char>(exact[p])) && exact[p] != '_') {
      ++p;
      continue;
    }
    std::size_t e = p;
    while (e < exact.size() && identifier_char(exact[e])) ++e;
    const std::string name = exact.substr(p, e - p);
    std::size_t next = e;
    while (next < exact.size() && exact[next] == ' ') ++next;
    const bool call = next < exact.size() && exact[next] == '(';
    if (not_numbers.count(name))
      throw std::invalid_argument(fmt::format("'{}' is not a real number", name));
    if (!call && !constants.count(name) && !table.count(name))
      table[name] = GiNaC::realsymbol(name, name);
    p = e;
  }
  GiNaC::symtab with_constants = table;
  with_constants["Pi"] = GiNaC::Pi;
  with_constants["Euler"] = GiNaC::Euler;
  with_constants["Catalan"] = GiNaC::Catalan;
  try {
    GiNaC::parser reader(with_constants, true);
    return reader(exact);
  } catch (const std::exception& e) {
    // GiNaC appends where in its parser the error arose: not the user's business.
    std::string why = e.what();
    why = why.substr(0, why.find(" [GiNaC::"));
    throw std::invalid_argument(
        fmt::format("'{}' is not a number or an expression ({})", text, why));
  }
}

namespace {

struct Reader {
  const std::string& source;

  [[noreturn]] void fail(std::string_view where, std::string_view field,
                         std::string_view problem) const {
    throw Error(fmt::format("{}: {}field '{}': {}", source,
                            where.empty() ? "" : fmt::format("{}: ", where), field, problem));
  }

  static std::string describe(const JsonNode& n) {
    if (n.type == JsonNode::kind::string) return "\"" + n.text + "\"";
    if (n.is_number()) return n.text;
    return std::string(json_kind_name(n.type));
  }

  // An integer in [lo, hi].
  int integer(std::string_view where, std::string_view field, const JsonNode& n, int lo,
              int hi) const {
    std::optional<GiNaC::numeric> v;
    if (n.is_number()) v = parse_rational(n.text);
    if (!v || !v->is_integer() || *v < lo || *v > hi)
      fail(where, field,
           fmt::format("expected an integer from {} to {}, got {}", lo, hi, describe(n)));
    return v->to_int();
  }

  // A number written as a JSON number or a string "p/q" or decimal: exact.
  GiNaC::numeric number(std::string_view where, std::string_view field, const JsonNode& n) const {
    std::optional<GiNaC::numeric> v;
    if (n.is_number() || n.type == JsonNode::kind::string) v = parse_rational(n.text);
    if (!v) fail(where, field, fmt::format("expected a number, got {}", describe(n)));
    if (!std::isfinite(v->to_double()))
      fail(where, field, fmt::format("{} is not finite in double precision", n.text));
    return *v;
  }
};

constexpr std::string_view format_name = "flowaction-action/1";
constexpr const char* known_fields =
    "format, convention, source, dim, order, at, field, symbols, vertices, comment, metadata";

struct RawVertex {
  int order;
  multi_index index;
  const JsonNode* value;
  std::string where;
};

}  // namespace

ActionFile parse_action(std::string_view text, const std::string& source) {
  const Reader r{source};
  const JsonNode root = parse_exact_json(text, source);
  if (root.type != JsonNode::kind::object)
    throw Error(fmt::format("{}: expected a JSON object ({}), got {}", source, format_name,
                            json_kind_name(root.type)));
  static const std::set<std::string, std::less<>> known = {
      "format", "convention", "source",   "dim",     "order",   "at",
      "field",  "symbols",    "vertices", "comment", "metadata"};
  for (const auto& [key, v] : root.members)
    if (!known.count(key)) r.fail("", key, fmt::format("unknown field (known: {})", known_fields));
  const JsonNode* format = root.find("format");
  if (!format) r.fail("", "format", fmt::format("missing (expected \"{}\")", format_name));
  if (format->type != JsonNode::kind::string || format->text != format_name)
    r.fail("", "format",
           fmt::format("expected \"{}\", got {}", format_name, Reader::describe(*format)));

  ActionFile out;
  if (const JsonNode* s = root.find("source")) {
    if (s->type != JsonNode::kind::string)
      r.fail("", "source", fmt::format("expected a string, got {}", Reader::describe(*s)));
    out.info.source = s->text;
  }
  const JsonNode* dim = root.find("dim");
  if (!dim) r.fail("", "dim", "missing");
  const int d = r.integer("", "dim", *dim, 1, 1000000);

  field_kind field = field_kind::exact;
  if (const JsonNode* f = root.find("field")) {
    const auto parsed = f->type == JsonNode::kind::string ? parse_field(f->text) : std::nullopt;
    if (!parsed)
      r.fail("", "field",
             fmt::format("expected \"exact\", \"float\" or \"symbolic\", got {}",
                         Reader::describe(*f)));
    field = *parsed;
  }
  if (const JsonNode* s = root.find("symbols")) {
    if (s->type != JsonNode::kind::array)
      r.fail("", "symbols",
             fmt::format("expected an array of names, got {}", Reader::describe(*s)));
    for (const JsonNode& n : s->items) {
      if (n.type != JsonNode::kind::string)
        r.fail("", "symbols", fmt::format("expected names, found {}", Reader::describe(n)));
      out.info.symbols.push_back(n.text);
    }
  }
  if (const JsonNode* at = root.find("at")) {
    if (at->type != JsonNode::kind::array)
      r.fail("", "at",
             fmt::format("expected an array of {} numbers, got {}", d, Reader::describe(*at)));
    if (!at->items.empty() && static_cast<int>(at->items.size()) != d)
      r.fail("", "at", fmt::format("has {} entries, the action {} units", at->items.size(), d));
    for (const JsonNode& x : at->items) out.at.push_back(r.number("", "at", x));
  }
  if (out.at.empty()) out.at.assign(static_cast<std::size_t>(d), GiNaC::numeric(0));
  for (const GiNaC::numeric& x : out.at) out.info.at.push_back(to_string(x));

  // The vertices: their order, index and value node, checked before any value is read.
  const JsonNode* vertices = root.find("vertices");
  if (!vertices) r.fail("", "vertices", "missing");
  if (vertices->type != JsonNode::kind::array)
    r.fail("", "vertices", fmt::format("expected an array, got {}", Reader::describe(*vertices)));
  const int max_order = diagrams::max_order;
  std::optional<int> order;
  if (const JsonNode* o = root.find("order")) order = r.integer("", "order", *o, 0, max_order);
  std::vector<RawVertex> raw;
  for (std::size_t i = 0; i < vertices->items.size(); ++i) {
    const JsonNode& n = vertices->items[i];
    const std::string where = fmt::format("vertex {}", i + 1);
    if (n.type != JsonNode::kind::object)
      throw Error(
          fmt::format("{}: {}: expected an object, got {}", source, where, Reader::describe(n)));
    for (const auto& [key, v] : n.members)
      if (key != "order" && key != "index" && key != "value" && key != "float")
        r.fail(where, key, "unknown field (known: order, index, value, float)");
    const JsonNode* k = n.find("order");
    if (!k) r.fail(where, "order", "missing");
    const int kv = r.integer(where, "order", *k, 0, order.value_or(max_order));
    const JsonNode* index = n.find("index");
    if (!index) r.fail(where, "index", "missing");
    if (index->type != JsonNode::kind::array || static_cast<int>(index->items.size()) != kv)
      r.fail(where, "index",
             fmt::format("expected an array of {} unit numbers, got {}", kv,
                         index->type == JsonNode::kind::array
                             ? fmt::format("{} entries", index->items.size())
                             : Reader::describe(*index)));
    multi_index idx;
    for (const JsonNode& x : index->items) idx.push_back(r.integer(where, "index", x, 0, d - 1));
    if (!std::is_sorted(idx.begin(), idx.end()))
      r.fail(where, "index", "is not sorted (a component is named by its sorted multi-index)");
    const JsonNode* value = n.find("value");
    if (!value) r.fail(where, "value", "missing");
    if (value->type != JsonNode::kind::string && !value->is_number())
      r.fail(where, "value",
             fmt::format("expected a number or a string, got {}", Reader::describe(*value)));
    if (const JsonNode* f = n.find("float");
        f && !f->is_number() && f->type != JsonNode::kind::null)
      r.fail(where, "float",
             fmt::format("expected a number or null, got {}", Reader::describe(*f)));
    raw.push_back({kv, std::move(idx), value, where});
  }
  int K = order.value_or(0);
  if (!order)
    for (const RawVertex& v : raw) K = std::max(K, v.order);
  double entries = 0;
  for (int k = 0; k <= K; ++k) entries += static_cast<double>(sym_size(d, k));
  if (entries > 1e8)
    r.fail("", "dim",
           fmt::format("{} units to order {} are {:.3g} components, more than this "
                       "reader holds (1e8)",
                       d, K, entries));

  auto fill = [&](auto& action, auto&& value_of) {
    std::set<std::pair<int, multi_index>> seen;
    for (const RawVertex& v : raw) {
      if (!seen.emplace(v.order, v.index).second)
        r.fail(v.where, "index",
               fmt::format("component [{}] of order {} appears twice", fmt::join(v.index, ","),
                           v.order));
      action.vertices[static_cast<std::size_t>(v.order)].at(v.index) = value_of(v);
    }
  };
  if (field == field_kind::float64) {
    Action<double> a(d, K);
    fill(a, [&](const RawVertex& v) { return r.number(v.where, "value", *v.value).to_double(); });
    out.action = std::move(a);
  } else {
    Action<GiNaC::ex> a(d, K);
    GiNaC::symtab table;
    bool rational = true;
    fill(a, [&](const RawVertex& v) {
      GiNaC::ex x;
      try {
        x = parse_value(v.value->text, table);
      } catch (const std::invalid_argument& e) {
        r.fail(v.where, "value", e.what());
      }
      const bool is_rational =
          GiNaC::is_a<GiNaC::numeric>(x) && x.info(GiNaC::info_flags::rational);
      if (is_rational && !std::isfinite(GiNaC::ex_to<GiNaC::numeric>(x).to_double()))
        r.fail(v.where, "value",
               fmt::format("{} is not finite in double precision", v.value->text));
      // Γ⁽⁰⁾ holds logarithms and plays no part in the field.
      if (v.order > 0 && !is_rational) rational = false;
      return x;
    });
    out.action = std::move(a);
    field = rational ? field_kind::exact : field_kind::symbolic;
    if (field == field_kind::symbolic && out.info.symbols.empty())
      for (const auto& [name, s] : table) out.info.symbols.push_back(name);
  }
  out.info.field = field;
  return out;
}

ActionFile read_action(const std::filesystem::path& path) {
  return parse_action(read_input_file(path, "a flowaction-action/1 file", max_action_bytes),
                      path.string());
}

}  // namespace flowaction
