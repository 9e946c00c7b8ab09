#include "engine/action_print.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "engine/json_listing.hpp"
#include "engine/overload.hpp"

namespace flowaction {

nlohmann::ordered_json json_head(std::string_view format, std::string_view convention,
                                 const ActionInfo& info, int dim, int order) {
  nlohmann::ordered_json head;
  head["format"] = format;
  head["convention"] = convention;
  if (!info.source.empty()) head["source"] = info.source;
  head["dim"] = dim;
  head["order"] = order;
  head["at"] = info.at;
  head["field"] = std::string(field_name(info.field));
  if (info.field == field_kind::symbolic) head["symbols"] = info.symbols;
  return head;
}

void print_text_head(std::ostream& out, std::string_view title, std::string_view convention,
                     const ActionInfo& info, std::string_view summary) {
  out << "# " << title << "\n# convention: " << convention << '\n';
  if (!info.source.empty()) out << "# source: " << info.source << '\n';
  out << "# " << summary << '\n';
  if (info.field == field_kind::symbolic)
    out << fmt::format("# symbols: {}\n", fmt::join(info.symbols, ", "));
}

namespace {

template <Field T>
void print_json(const Action<T>& action, const ActionInfo& info, std::ostream& out) {
  JsonListing listing(
      out, json_head("flowaction-action/1", action_convention, info, action.dim, action.order()),
      "vertices");
  for_each_nonzero(action.vertices, 0, action.dim,
                   [&](int k, const multi_index& index, const T& v) {
                     listing.add(component_json(k, index, v));
                   });
  listing.close();
}

template <Field T>
void print_text(const Action<T>& action, const ActionInfo& info, std::ostream& out) {
  print_text_head(
      out, "flowaction action vertices", action_convention, info,
      fmt::format("dim {}, order <= {}, field {}, expansion point x0 = ({})", action.dim,
                  action.order(), field_name(info.field), fmt::join(info.at, ", ")));
  print_component_table(out, action.vertices, 0, action.dim, info.field, "Gamma");
}

}  // namespace

template <Field T>
void print(const Action<T>& action, const ActionInfo& info, const print_context& c) {
  std::visit(overload{
                 [&](const text_context& t) { print_text(action, info, *t.s); },
                 [&](const json_context& j) { print_json(action, info, *j.s); },
             },
             c);
}

#define FLOWACTION_INSTANTIATE(T) \
  template void print(const Action<T>&, const ActionInfo&, const print_context&);
FLOWACTION_FIELDS(FLOWACTION_INSTANTIATE)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
