#include "engine/action_print.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "engine/overload.hpp"

namespace flowaction {

std::string value_string(double x) {
  return fmt::format("{}", x);
}

std::string value_string(const GiNaC::ex& x) {
  std::ostringstream s;
  x.print(GiNaC::print_dflt(s));
  return s.str();
}

namespace {

// Calls fn(order, sorted index, value) for every nonzero component, by order then in reading
// order of the index.
template <Field T, class Fn>
void for_each_component(const Action<T>& action, Fn&& fn) {
  for (int k = 0; k <= action.order(); ++k) {
    const SymTensor<T>& g = action.vertices[k];
    if (action.dim == 0 && k > 0) break;
    multi_index index(k, 0);
    do {
      const T& v = g.at(index);
      if (!vanishes(v)) fn(k, index, v);
    } while (next_lex(index, action.dim));
  }
}

template <Field T>
void print_json(const Action<T>& action, const ActionInfo& info, std::ostream& out) {
  // One member per line and one vertex per line: readable, and still one JSON document. A file
  // name that is not UTF-8 is written with replacement characters rather than refused.
  constexpr auto replace = nlohmann::ordered_json::error_handler_t::replace;
  nlohmann::ordered_json head;
  head["format"] = "flowaction-action/1";
  head["convention"] = action_convention;
  if (!info.source.empty()) head["source"] = info.source;
  head["dim"] = action.dim;
  head["order"] = action.order();
  head["at"] = info.at;
  head["field"] = std::string(field_name(info.field));
  if (info.field == field_kind::symbolic) head["symbols"] = info.symbols;
  out << "{\n";
  for (const auto& [key, value] : head.items())
    out << " " << nlohmann::json(key).dump() << ": " << value.dump(-1, ' ', false, replace)
        << ",\n";
  out << " \"vertices\": [";
  bool first = true;
  for_each_component(action, [&](int k, const multi_index& index, const T& v) {
    nlohmann::ordered_json e;
    e["order"] = k;
    e["index"] = index;
    e["value"] = value_string(v);
    if (auto f = to_double(v))
      e["float"] = *f;
    else
      e["float"] = nullptr;
    out << (first ? "\n  " : ",\n  ") << e.dump(-1, ' ', false, replace);
    first = false;
  });
  out << "\n ]\n}\n";
}

template <Field T>
void print_text(const Action<T>& action, const ActionInfo& info, std::ostream& out) {
  out << "# flowaction action vertices\n";
  out << "# convention: " << action_convention << '\n';
  if (!info.source.empty()) out << "# source: " << info.source << '\n';
  out << fmt::format("# dim {}, order <= {}, field {}, expansion point x0 = ({})\n", action.dim,
                     action.order(), field_name(info.field), fmt::join(info.at, ", "));
  if (info.field == field_kind::symbolic)
    out << fmt::format("# symbols: {}\n", fmt::join(info.symbols, ", "));
  int last_order = -1;
  std::size_t count = 0;
  for_each_component(action, [&](int k, const multi_index& index, const T& v) {
    if (k != last_order) {
      out << fmt::format("\nGamma({}):\n", k);
      last_order = k;
    }
    const std::string name = fmt::format("[{}]", fmt::join(index, ","));
    const std::string value = value_string(v);
    const auto f = to_double(v);
    if (f && info.field != field_kind::float64 && value != value_string(*f))
      out << fmt::format("  {:<16} {:<28} ~ {:.12g}\n", name, value, *f);
    else
      out << fmt::format("  {:<16} {}\n", name, value);
    ++count;
  });
  out << fmt::format("\n# {} nonzero components\n", count);
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
