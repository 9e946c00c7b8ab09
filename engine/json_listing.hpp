// A JSON document written one head member per line and one list entry per line — readable,
// diffable, and still one document — as every JSON print context writes its listings (vertices,
// cumulants, diagrams). Text that is not UTF-8 (a file name) is written with replacement
// characters.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string_view>

namespace flowaction {

class JsonListing {
 public:
  // Writes the members of head, then opens the array named list.
  JsonListing(std::ostream& out, const nlohmann::ordered_json& head, std::string_view list)
      : out_(out) {
    out_ << "{\n";
    for (const auto& [key, value] : head.items())
      out_ << " " << nlohmann::json(key).dump() << ": " << value.dump(-1, ' ', false, replace)
           << ",\n";
    out_ << " " << nlohmann::json(list).dump() << ": [";
  }
  JsonListing(const JsonListing&) = delete;
  JsonListing& operator=(const JsonListing&) = delete;

  void add(const nlohmann::ordered_json& entry) {
    out_ << (first_ ? "\n  " : ",\n  ") << entry.dump(-1, ' ', false, replace);
    first_ = false;
  }
  // Closes the array and the document.
  void close() { out_ << "\n ]\n}\n"; }

 private:
  static constexpr auto replace = nlohmann::ordered_json::error_handler_t::replace;
  std::ostream& out_;
  bool first_ = true;
};

}  // namespace flowaction
