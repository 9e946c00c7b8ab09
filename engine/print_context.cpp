#include "engine/print_context.hpp"

namespace flowaction {

namespace {

struct named {
  std::string_view name;
  print_context (*make)(std::ostream&);
};

constexpr named contexts[] = {
    {"json", [](std::ostream& s) -> print_context { return json_context{&s}; }},
    {"latex", [](std::ostream& s) -> print_context { return latex_context{&s}; }},
    {"text", [](std::ostream& s) -> print_context { return text_context{&s}; }},
};

}  // namespace

std::optional<print_context> make_print_context(std::string_view format, std::ostream& s) {
  for (const named& c : contexts)
    if (c.name == format) return c.make(s);
  return std::nullopt;
}

std::string print_context_names() {
  std::string names;
  for (std::size_t i = 0; i < std::size(contexts); ++i)
    names += std::string(i == 0                         ? ""
                         : i + 1 == std::size(contexts) ? " or "
                                                        : ", ") +
             std::string(contexts[i].name);
  return names;
}

}  // namespace flowaction
