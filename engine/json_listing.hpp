// A JSON document written one head member per line and one list entry per line — readable,
// diffable, and still one document — as every JSON print context writes its listings (vertices,
// cumulants, diagrams, the stages of a pullback). Text that is not UTF-8 (a file name) is
// written with replacement characters.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>

namespace flowaction {

inline constexpr auto json_replace = nlohmann::ordered_json::error_handler_t::replace;

// The members of an object, one a line at indent, each followed by a comma: more follow.
inline void write_json_members(std::ostream& out, const nlohmann::ordered_json& members,
                               std::string_view indent) {
  for (const auto& [key, value] : members.items())
    out << indent << nlohmann::json(key).dump() << ": " << value.dump(-1, ' ', false, json_replace)
        << ",\n";
}

// An array whose entries go one a line at indent; its closing bracket one space less deep.
class JsonArray {
 public:
  JsonArray(std::ostream& out, std::string indent) : out_(out), indent_(std::move(indent)) {
    out_ << "[";
  }
  JsonArray(const JsonArray&) = delete;
  JsonArray& operator=(const JsonArray&) = delete;

  void add(const nlohmann::ordered_json& entry) {
    next() << entry.dump(-1, ' ', false, json_replace);
  }
  // Entries already formatted, each preceded by separator(): written as they are (the first
  // entry of the array without its comma).
  void add_entries(std::string_view entries) {
    if (entries.empty()) return;
    out_.write(entries.data() + (first_ ? 1 : 0),
               static_cast<std::streamsize>(entries.size() - (first_ ? 1 : 0)));
    first_ = false;
  }
  // What goes before each entry of add_entries: a comma, a new line and the indent.
  std::string separator() const { return ",\n" + indent_; }
  // Starts the line of an entry the caller writes itself (an object over several lines).
  std::ostream& next() {
    out_ << (first_ ? "\n" : ",\n") << indent_;
    first_ = false;
    return out_;
  }
  void close() { out_ << "\n" << std::string_view(indent_).substr(1) << "]"; }

 private:
  std::ostream& out_;
  std::string indent_;
  bool first_ = true;
};

class JsonListing {
 public:
  // Writes the members of head, then opens the array named list.
  JsonListing(std::ostream& out, const nlohmann::ordered_json& head, std::string_view list)
      : out_(out), list_(open(out, head, list), "  ") {}
  JsonListing(const JsonListing&) = delete;
  JsonListing& operator=(const JsonListing&) = delete;

  void add(const nlohmann::ordered_json& entry) { list_.add(entry); }
  std::ostream& next() { return list_.next(); }
  JsonArray& array() { return list_; }
  // Closes the array and the document.
  void close() {
    list_.close();
    out_ << "\n}\n";
  }

 private:
  static std::ostream& open(std::ostream& out, const nlohmann::ordered_json& head,
                            std::string_view list) {
    out << "{\n";
    write_json_members(out, head, " ");
    return out << " " << nlohmann::json(list).dump() << ": ";
  }
  std::ostream& out_;
  JsonArray list_;
};

}  // namespace flowaction
