#include "frontends/exact_json.hpp"

#include <cln/integer.h>
#include <cln/integer_io.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "engine/error.hpp"

namespace flowaction {

const JsonNode* JsonNode::find(std::string_view key) const {
  for (const auto& [k, v] : members)
    if (k == key) return &v;
  return nullptr;
}

std::string_view json_kind_name(JsonNode::kind k) {
  switch (k) {
    case JsonNode::kind::null:
      return "null";
    case JsonNode::kind::boolean:
      return "a boolean";
    case JsonNode::kind::number:
      return "a number";
    case JsonNode::kind::string:
      return "a string";
    case JsonNode::kind::array:
      return "an array";
    case JsonNode::kind::object:
      return "an object";
  }
  return "?";
}

namespace {

class Builder : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit Builder(const std::string& source) : source_(source) {}
  JsonNode root;

  bool null() override { return put(JsonNode{}); }
  bool boolean(bool v) override {
    JsonNode n;
    n.type = JsonNode::kind::boolean;
    n.flag = v;
    return put(std::move(n));
  }
  bool number_integer(number_integer_t v) override { return number(std::to_string(v)); }
  bool number_unsigned(number_unsigned_t v) override { return number(std::to_string(v)); }
  bool number_float(number_float_t, const string_t& s) override { return number(s); }
  bool string(string_t& s) override {
    JsonNode n;
    n.type = JsonNode::kind::string;
    n.text = s;
    return put(std::move(n));
  }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override {
    JsonNode n;
    n.type = JsonNode::kind::object;
    return open(std::move(n));
  }
  bool key(string_t& k) override {
    JsonNode* top = stack_.back();
    for (const auto& [name, v] : top->members)
      if (name == k)
        throw Error(fmt::format("{}: not valid JSON: key \"{}\" appears twice in one object",
                                source_, excerpt(k)));
    top->members.push_back(JsonMember{k, JsonNode{}});
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override {
    JsonNode n;
    n.type = JsonNode::kind::array;
    return open(std::move(n));
  }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    std::string what = ex.what();
    // nlohmann's text is "[json.exception.parse_error.101] parse error at line 1, column 2: …".
    if (const auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    // It quotes the bytes last read, which may be binary or ill-formed UTF-8: keep the line clean.
    std::string clean;
    for (const char ch : what) {
      const auto u = static_cast<unsigned char>(ch);
      clean += u >= 0x20 && u < 0x7f ? std::string(1, ch) : fmt::format("\\x{:02x}", u);
    }
    // The quoted token ("last read: '…'") may be a whole 200 kB number: cut it.
    const std::size_t open = clean.find('\''), close = clean.rfind('\'');
    if (open != std::string::npos && close > open)
      clean = clean.substr(0, open + 1) + excerpt(clean.substr(open + 1, close - open - 1)) +
              clean.substr(close);
    throw Error(fmt::format("{}: not valid JSON (byte {}): {}", source_, position, clean));
  }

 private:
  bool number(std::string lexeme) {
    JsonNode n;
    n.type = JsonNode::kind::number;
    n.text = std::move(lexeme);
    return put(std::move(n));
  }
  // Where the next value goes: the root, the next array item, or the last key's value.
  JsonNode* slot() {
    if (stack_.empty()) return &root;
    JsonNode* top = stack_.back();
    if (top->type == JsonNode::kind::array) {
      top->items.emplace_back();
      return &top->items.back();
    }
    return &top->members.back().second;
  }
  bool put(JsonNode n) {
    *slot() = std::move(n);
    return true;
  }
  bool open(JsonNode n) {
    // Deeper nesting is no manifest or header; refusing it keeps the recursive JsonNode
    // destructor off the end of the stack.
    if (stack_.size() >= max_depth)
      throw Error(
          fmt::format("{}: not valid JSON: nested deeper than {} levels", source_, max_depth));
    JsonNode* s = slot();
    *s = std::move(n);
    stack_.push_back(s);
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  static constexpr std::size_t max_depth = 64;
  const std::string& source_;
  std::vector<JsonNode*> stack_;
};

}  // namespace

JsonNode parse_exact_json(std::string_view text, const std::string& source) {
  // nlohmann's lexer takes a NUL byte for the end of the input and ignores what follows; JSON text
  // holds none (not even in strings, where control characters must be escaped).
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos)
    throw Error(fmt::format(
        "{}: not valid JSON (byte {}): a NUL byte ({} more bytes after it; JSON text has none)",
        source, nul + 1, text.size() - nul - 1));
  Builder b(source);
  nlohmann::json::sax_parse(text.begin(), text.end(), &b);
  return std::move(b.root);
}

GiNaC::numeric parse_decimal(std::string_view s) {
  std::size_t p = 0;
  const bool negative = p < s.size() && s[p] == '-';
  if (negative) ++p;
  std::string digits;
  long exponent = 0;
  while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) digits += s[p++];
  if (p < s.size() && s[p] == '.') {
    ++p;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p])))
      digits += s[p++], --exponent;
  }
  if (p < s.size() && (s[p] == 'e' || s[p] == 'E')) {
    ++p;
    const bool eneg = p < s.size() && s[p] == '-';
    if (p < s.size() && (s[p] == '+' || s[p] == '-')) ++p;
    long e = 0;
    bool any = false;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
      if (e < 100000) e = e * 10 + (s[p] - '0');
      ++p, any = true;
    }
    if (!any) throw std::invalid_argument("malformed exponent");
    exponent += eneg ? -e : e;
  }
  if (digits.empty() || p != s.size()) throw std::invalid_argument("not a decimal number");
  if (exponent > 1000 || exponent < -1000) throw std::invalid_argument("exponent out of range");
  const size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return 0;
  GiNaC::numeric mantissa(cln::cl_I(digits.substr(first).c_str()));
  GiNaC::numeric scale = GiNaC::pow(GiNaC::numeric(10), GiNaC::numeric(std::labs(exponent)));
  GiNaC::numeric v = exponent >= 0 ? mantissa * scale : mantissa / scale;
  return negative ? -v : v;
}

}  // namespace flowaction
