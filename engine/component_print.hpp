// Components of symmetric tensors as the print contexts write them, shared by every printer of
// vertices or cumulants: nonzero components in reading order, their value strings, their JSON
// objects, their lines of text and their LaTeX equations.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/field.hpp"
#include "engine/sym_tensor.hpp"

namespace flowaction {

// One component's value: p/q in the exact field, the expression in the symbolic field (GiNaC's
// syntax, terms by rising degree), the shortest round-trip decimal in the float field.
std::string value_string(double x);
std::string value_string(const GiNaC::ex& x);
// The same in LaTeX: \frac{p}{q}, symbols by their TeX names.
std::string value_latex(double x);
std::string value_latex(const GiNaC::ex& x);

// The LaTeX name of a component, \Gamma^{(3)}_{001} for tensor "\Gamma" (indices separated once
// one exceeds 9).
std::string component_latex(std::string_view tensor, int order, const multi_index& index);

// Calls fn(order, sorted index, value) for every nonzero component of tensors[first], …, by
// order, then in reading order of the index.
template <Field T, class Fn>
void for_each_nonzero(const std::vector<SymTensor<T>>& tensors, int first, int dim, Fn&& fn) {
  for (int k = first; k < static_cast<int>(tensors.size()); ++k) {
    if (dim == 0 && k > 0) break;
    const SymTensor<T>& t = tensors[static_cast<std::size_t>(k)];
    multi_index index(static_cast<std::size_t>(k), 0);
    do {
      const T& v = t.at(index);
      if (!vanishes(v)) fn(k, index, v);
    } while (next_lex(index, dim));
  }
}

// {"order": k, "index": [...], "value": "...", "float": number or null}
template <Field T>
nlohmann::ordered_json component_json(int order, const multi_index& index, const T& v) {
  nlohmann::ordered_json e;
  e["order"] = order;
  e["index"] = index;
  e["value"] = value_string(v);
  if (auto f = to_double(v))
    e["float"] = *f;
  else
    e["float"] = nullptr;
  return e;
}

// "value", or "value ~ decimal" in columns when the value is exact and its decimal says more.
template <Field T>
std::string value_with_decimal(const T& v, field_kind field) {
  const std::string value = value_string(v);
  const auto f = to_double(v);
  if (f && field != field_kind::float64 && value != value_string(*f))
    return fmt::format("{:<28} ~ {:.12g}", value, *f);
  return value;
}

// A line of a text table: "  [i,j,…]   value".
template <Field T>
std::string component_line(const multi_index& index, const T& v, field_kind field) {
  return fmt::format("  {:<16} {}\n", fmt::format("[{}]", fmt::join(index, ",")),
                     value_with_decimal(v, field));
}

// The nonzero components as a text table: a heading "NAME(k):" before each order k, a line per
// component, and a last line counting them.
template <Field T>
void print_component_table(std::ostream& out, const std::vector<SymTensor<T>>& tensors, int first,
                           int dim, field_kind field, std::string_view name) {
  int last = -1;
  std::size_t count = 0;
  for_each_nonzero(tensors, first, dim, [&](int k, const multi_index& index, const T& v) {
    if (k != last) out << fmt::format("\n{}({}):\n", name, last = k);
    out << component_line(index, v, field);
    ++count;
  });
  out << fmt::format("\n# {} nonzero components\n", count);
}

// Named values as one align* block, a long value broken over lines, an exact one followed by
// its decimal: lines of (LaTeX name, value).
template <Field T>
void print_latex_equations(std::ostream& out, const std::vector<std::pair<std::string, T>>& lines,
                           field_kind field);

// The nonzero components as LaTeX: a paragraph "Order k" for each order k from first, its
// components as equations (or a table when there are many numbers), named by tensor.
template <Field T>
void print_latex_components(std::ostream& out, const std::vector<SymTensor<T>>& tensors, int first,
                            int dim, field_kind field, std::string_view tensor);

// "Symbols: $\alpha_{1}$ (alpha_1), …" for the symbols the tensors and the values in more hold;
// nothing in the float field or without symbols.
template <Field T>
void print_latex_symbols(std::ostream& out, const std::vector<SymTensor<T>>& tensors,
                         const std::vector<T>& more = {});

}  // namespace flowaction
