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
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/field.hpp"
#include "engine/json_listing.hpp"
#include "engine/parallel.hpp"
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

// The nonzero components of tensors[first], … in the order of for_each_nonzero, formatted by
// entry(buffer, k, index, v) into blocks (the components of order k that share their first
// indices), and handed to sink(k, block) in that order, nonempty blocks only. In the float field
// blocks are formatted on threads() threads, a window of them at a time, and the sink sees the
// same bytes in the same order as on one thread. Returns the number of components.
template <Field T, class Entry, class Sink>
std::size_t format_nonzero(const std::vector<SymTensor<T>>& tensors, int first, int dim,
                           Entry&& entry, Sink&& sink) {
  const unsigned workers = field_traits<T>::threads ? threads() : 1;
  const std::size_t window = 16 * static_cast<std::size_t>(workers);
  std::vector<fmt::memory_buffer> blocks(window);
  std::vector<std::size_t> counts(window);
  std::size_t total = 0;
  for (int k = first; k < static_cast<int>(tensors.size()); ++k) {
    if (dim == 0 && k > 0) break;
    const SymTensor<T>& t = tensors[static_cast<std::size_t>(k)];
    // Blocks by prefix: the first two indices (the first one up to order 3, none up to order 1).
    const std::size_t fixed = k >= 4 ? 2 : k >= 2 ? 1 : 0;
    std::vector<multi_index> prefixes;
    multi_index prefix(fixed, 0);
    do prefixes.push_back(prefix);
    while (next_lex(prefix, dim));
    for (std::size_t w0 = 0; w0 < prefixes.size(); w0 += window) {
      const std::size_t n = std::min(window, prefixes.size() - w0);
      const auto format_block = [&](std::size_t b) {
        fmt::memory_buffer& out = blocks[b];
        out.clear();
        counts[b] = 0;
        const multi_index& p = prefixes[w0 + b];
        multi_index index(static_cast<std::size_t>(k), fixed ? p.back() : 0);
        std::copy(p.begin(), p.end(), index.begin());
        if (k == 0) {
          if (!vanishes(t[0])) entry(out, k, index, t[0]), ++counts[b];
          return;
        }
        // Runs of the last index l: its rank is rank(…, 0) + C(l + k − 1, k). Reading order is
        // not storage order (colex): components a few steps ahead are prefetched, or every one
        // would wait for memory.
        const SymShape& shape = t.shape();
        int& l = index.back();
        do {
          const int l0 = l;
          l = 0;
          const std::size_t base = shape.rank(index);
          for (l = l0; l < dim; ++l) {
            if (l + 8 < dim) __builtin_prefetch(&t[base + shape.rank_term(k - 1, l + 8 + k - 1)]);
            const T& v = t[base + shape.rank_term(k - 1, l + k - 1)];
            if (!vanishes(v)) entry(out, k, index, v), ++counts[b];
          }
          l = dim - 1;
        } while (next_lex(index, dim, fixed));
      };
      if (workers > 1)
        parallel_for(n, format_block);
      else
        for (std::size_t b = 0; b < n; ++b) format_block(b);
      for (std::size_t b = 0; b < n; ++b) {
        if (counts[b] == 0) continue;
        total += counts[b];
        sink(k, std::string_view(blocks[b].data(), blocks[b].size()));
      }
    }
  }
  return total;
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

// A double as a JSON number: the shortest decimal that reads back as x (fmt; nlohmann's own
// writer is sometimes a digit longer), "1.0" for an integer, null when not finite.
void append_json_number(fmt::memory_buffer& out, double x);
// component_json(order, index, v) as one line of JSON: the float field written directly.
void append_component_json(fmt::memory_buffer& out, int order, const multi_index& index, double v);
void append_component_json(fmt::memory_buffer& out, int order, const multi_index& index,
                           const GiNaC::ex& v);

// The nonzero components of tensors[first], … as entries of a JSON array.
template <Field T>
void add_components_json(JsonArray& array, const std::vector<SymTensor<T>>& tensors, int first,
                         int dim) {
  const std::string separator = array.separator();
  format_nonzero(
      tensors, first, dim,
      [&](fmt::memory_buffer& out, int k, const multi_index& index, const T& v) {
        out.append(separator);
        append_component_json(out, k, index, v);
      },
      [&](int, std::string_view entries) { array.add_entries(entries); });
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

// A line of a text table: "  [i,j,…]   value" (the float field written directly).
void append_component_line(fmt::memory_buffer& out, const multi_index& index, double v,
                           field_kind field);
void append_component_line(fmt::memory_buffer& out, const multi_index& index, const GiNaC::ex& v,
                           field_kind field);

// The nonzero components as a text table: a heading "NAME(k):" before each order k, a line per
// component, and a last line counting them.
template <Field T>
void print_component_table(std::ostream& out, const std::vector<SymTensor<T>>& tensors, int first,
                           int dim, field_kind field, std::string_view name) {
  int last = -1;
  const std::size_t count = format_nonzero(
      tensors, first, dim,
      [&](fmt::memory_buffer& b, int, const multi_index& index, const T& v) {
        append_component_line(b, index, v, field);
      },
      [&](int k, std::string_view lines) {
        if (k != last) out << fmt::format("\n{}({}):\n", name, last = k);
        out.write(lines.data(), static_cast<std::streamsize>(lines.size()));
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
