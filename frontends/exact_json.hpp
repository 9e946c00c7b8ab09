// JSON read with its numbers kept as written, so that 0.1 means exactly 1/10 (DESIGN §3).
// nlohmann-json does the lexing (and rejects malformed text and ill-formed UTF-8); this keeps
// every number's lexeme.
#pragma once

#include <ginac/ginac.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flowaction {

struct JsonMember;  // a key and its value (defined below: a pair<string, JsonNode> member of
                    // JsonNode would need JsonNode complete, which clang's checks insist on)

struct JsonNode {
  enum class kind { null, boolean, number, string, array, object };
  kind type = kind::null;
  std::string text;  // a number's lexeme, or a string's value
  bool flag = false;
  std::vector<JsonNode> items;
  std::vector<JsonMember> members;

  const JsonNode* find(std::string_view key) const;
  bool is_number() const { return type == kind::number; }
};

struct JsonMember {
  std::string first;
  JsonNode second;
};

std::string_view json_kind_name(JsonNode::kind k);

// Throws flowaction::Error "SOURCE: not valid JSON: …" with the byte position.
JsonNode parse_exact_json(std::string_view text, const std::string& source);

// The exact rational value of a JSON number lexeme ("-1.25e-3" → -1/800). Throws
// std::invalid_argument for an exponent beyond ±1000.
GiNaC::numeric parse_decimal(std::string_view lexeme);

}  // namespace flowaction
