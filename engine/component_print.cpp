#include "engine/component_print.hpp"

#include <fmt/compile.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cmath>
#include <cstring>
#include <iterator>
#include <map>
#include <sstream>

#include "engine/expression_print.hpp"
#include "engine/latex_document.hpp"

namespace flowaction {

std::string value_string(double x) {
  return fmt::format("{}", x);
}

std::string value_string(const GiNaC::ex& x) {
  if (GiNaC::is_a<GiNaC::numeric>(x)) {
    std::ostringstream s;
    x.print(GiNaC::print_dflt(s));
    return s.str();
  }
  return format_expression(x, expression_style::plain);
}

std::string value_latex(double x) {
  return latex_decimal(x);
}

std::string value_latex(const GiNaC::ex& x) {
  return format_expression(x, expression_style::latex);
}

std::string component_latex(std::string_view tensor, int order, const multi_index& index) {
  const bool short_indices = std::all_of(index.begin(), index.end(), [](int i) { return i < 10; });
  if (index.empty()) return fmt::format("{}^{{({})}}", tensor, order);
  return fmt::format("{}^{{({})}}_{{{}}}", tensor, order,
                     fmt::join(index, short_indices ? "" : ","));
}

namespace {

// The hot path of the float writers: each entry is written through a raw pointer into room
// reserved once (fmt's appender checks capacity per character), no format string parsed.
void append_text(fmt::memory_buffer& out, std::string_view s) {
  out.append(s.data(), s.data() + s.size());
}

char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

char* put_int(char* p, int x) {
  if (x >= 0 && x < 10) {
    *p = static_cast<char>('0' + x);
    return p + 1;
  }
  const fmt::format_int f(x);
  return put(p, std::string_view(f.data(), f.size()));
}

// "i,j,k"
char* put_indices(char* p, const multi_index& index) {
  for (std::size_t q = 0; q < index.size(); ++q) {
    if (q > 0) *p++ = ',';
    p = put_int(p, index[q]);
  }
  return p;
}

// The shortest round-trip decimal of x (value_string(x)): at most 24 characters.
char* put_shortest(char* p, double x) {
  return fmt::format_to(p, FMT_COMPILE("{}"), x);
}

// Room for an entry of the float writers with k indices: its fixed text (under 64 characters),
// k integers of at most 11 characters with their commas, two decimals of at most 24 (room for 32
// each) and ".0".
constexpr std::size_t entry_room(std::size_t k) {
  return 64 + 12 * k + 2 * 32;
}

// Reserves room for an entry and returns where it starts; finish() trims to where it ended.
char* reserve_entry(fmt::memory_buffer& out, std::size_t k) {
  const std::size_t start = out.size();
  out.resize(start + entry_room(k));
  return out.data() + start;
}

void finish(fmt::memory_buffer& out, const char* end) {
  assert(end <= out.data() + out.size() && "an entry outgrew entry_room()");
  out.resize(static_cast<std::size_t>(end - out.data()));
}

// A JSON number after the decimal digits of a finite x: "1.0", not "1".
bool needs_point(std::string_view digits) {
  return digits.find_first_of(".e") == std::string_view::npos;
}

}  // namespace

void append_json_number(fmt::memory_buffer& out, double x) {
  if (!std::isfinite(x)) {
    append_text(out, "null");
    return;
  }
  char* const start = reserve_entry(out, 0);
  char* p = put_shortest(start, x);
  if (needs_point(std::string_view(start, static_cast<std::size_t>(p - start)))) p = put(p, ".0");
  finish(out, p);
}

void append_component_json(fmt::memory_buffer& out, int order, const multi_index& index, double v) {
  char* p = reserve_entry(out, index.size());
  p = put(p, R"({"order":)");
  p = put_int(p, order);
  p = put(p, R"(,"index":[)");
  p = put_indices(p, index);
  p = put(p, R"(],"value":")");
  // The value string and the number share their digits (formatted once).
  const char* const digits = p;
  p = put_shortest(p, v);
  const std::string_view shortest(digits, static_cast<std::size_t>(p - digits));
  p = put(p, R"(","float":)");
  if (!std::isfinite(v)) {
    p = put(p, "null}");
  } else {
    p = put(p, shortest);
    if (needs_point(shortest)) p = put(p, ".0");
    *p++ = '}';
  }
  finish(out, p);
}

void append_component_json(fmt::memory_buffer& out, int order, const multi_index& index,
                           const GiNaC::ex& v) {
  out.append(component_json(order, index, v).dump(-1, ' ', false, json_replace));
}

void append_component_line(fmt::memory_buffer& out, const multi_index& index, double v,
                           field_kind) {
  char* const start = reserve_entry(out, index.size());
  char* p = put(start, "  [");
  p = put_indices(p, index);
  *p++ = ']';
  // The index in a column of 16, as fmt's {:<16}.
  const auto width = static_cast<std::size_t>(p - start) - 2;
  if (width < 16) p = static_cast<char*>(std::memset(p, ' ', 16 - width)) + (16 - width);
  *p++ = ' ';
  p = put_shortest(p, v);
  *p++ = '\n';
  finish(out, p);
}

void append_component_line(fmt::memory_buffer& out, const multi_index& index, const GiNaC::ex& v,
                           field_kind field) {
  fmt::format_to(fmt::appender(out), "  {:<16} {}\n", fmt::format("[{}]", fmt::join(index, ",")),
                 value_with_decimal(v, field));
}

namespace {

// Components per order above which an order is set as a table rather than equations.
constexpr std::size_t table_threshold = 24;
// Width of a displayed line, in characters a reader sees, before a long sum is broken.
constexpr std::size_t line_budget = 70;

// About how wide TeX source looks: a command counts as one character, braces and scripts as none,
// a fraction as its wider part.
std::size_t visible_width(std::string_view tex) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < tex.size(); ++i) {
    const char c = tex[i];
    if (c == '\\') {
      std::size_t j = i + 1;
      while (j < tex.size() && std::isalpha(static_cast<unsigned char>(tex[j]))) ++j;
      const std::string_view name = tex.substr(i + 1, j - i - 1);
      if (name != "left" && name != "right" && name != "frac" && name != "bigl" && name != "bigr")
        ++w;
      i = j > i + 1 ? j - 1 : i + 1;
    } else if (c != '{' && c != '}' && c != '^' && c != '_' && c != ' ') {
      ++w;
    }
  }
  return w;
}

// A value as displayed lines of about line_budget characters: a long value is split into a
// prefactor (numbers, denominators) and a sum whose terms fill the lines inside \bigl[ \bigr]
// (which, unlike \left( \right), may break across lines); a term still too long is expanded.
std::vector<std::string> display_lines(double x) {
  return {latex_decimal(x)};
}

void add_terms(const GiNaC::ex& sum, std::vector<std::string>& terms) {
  for (std::size_t i = 0; i < sum.nops(); ++i) {
    const GiNaC::ex& t = sum.op(i);
    const std::string tex = value_latex(t);
    const GiNaC::ex e = t.expand();
    if (visible_width(tex) > line_budget && GiNaC::is_a<GiNaC::add>(e))
      add_terms(e, terms);
    else
      terms.push_back(tex);
  }
}

std::vector<std::string> display_lines(const GiNaC::ex& v) {
  const std::string whole = value_latex(v);
  if (visible_width(whole) <= line_budget) return {whole};
  // The largest sum factor carries the length; the rest is the prefactor.
  GiNaC::ex sum = 0, prefactor = 1;
  if (GiNaC::is_a<GiNaC::add>(v)) {
    sum = v;
  } else if (GiNaC::is_a<GiNaC::mul>(v)) {
    std::size_t best = v.nops();
    for (std::size_t i = 0; i < v.nops(); ++i)
      if (GiNaC::is_a<GiNaC::add>(v.op(i)) &&
          (best == v.nops() || v.op(i).nops() > v.op(best).nops()))
        best = i;
    if (best == v.nops()) return {whole};
    sum = v.op(best);
    for (std::size_t i = 0; i < v.nops(); ++i)
      if (i != best) prefactor *= v.op(i);
  } else {
    return {whole};
  }
  std::vector<std::string> terms;
  add_terms(sum, terms);
  std::vector<std::string> lines;
  const bool bracket = prefactor != 1;
  std::string line = bracket ? value_latex(prefactor) + " \\bigl[" : "";
  for (std::size_t i = 0; i < terms.size(); ++i) {
    std::string t = terms[i];
    if (i > 0) t = t.starts_with("-") ? "- " + t.substr(1) : "+ " + t;
    if (!line.empty() && visible_width(line) + visible_width(t) > line_budget) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + t;
  }
  if (bracket) line += " \\bigr]";
  lines.push_back(line);
  return lines;
}

void collect_symbols(const GiNaC::ex& v, std::map<std::string, std::string>& found) {
  for (auto it = v.preorder_begin(); it != v.preorder_end(); ++it)
    if (GiNaC::is_a<GiNaC::symbol>(*it))
      found.emplace(GiNaC::ex_to<GiNaC::symbol>(*it).get_name(), value_latex(*it));
}

}  // namespace

template <Field T>
void print_latex_equations(std::ostream& out, const std::vector<std::pair<std::string, T>>& lines,
                           field_kind field) {
  out << "\\begin{align*}\n";
  for (std::size_t c = 0; c < lines.size(); ++c) {
    const auto& [name, v] = lines[c];
    const std::vector<std::string> parts = display_lines(v);
    out << name << " &= " << parts[0];
    for (std::size_t l = 1; l < parts.size(); ++l) out << " \\\\\n  &\\quad " << parts[l];
    const auto f = to_double(v);
    if (f && field != field_kind::float64 && parts.size() == 1 && visible_width(parts[0]) > 10)
      out << " \\approx " << latex_decimal(*f, 10);
    out << (c + 1 < lines.size() ? " \\\\\n" : "\n");
  }
  out << "\\end{align*}\n";
}

template <Field T>
void print_latex_components(std::ostream& out, const std::vector<SymTensor<T>>& tensors, int first,
                            int dim, field_kind field, std::string_view tensor) {
  const int last = static_cast<int>(tensors.size()) - 1;
  std::vector<std::vector<std::pair<multi_index, T>>> by_order(tensors.size());
  for_each_nonzero(tensors, first, dim, [&](int k, const multi_index& index, const T& v) {
    by_order[static_cast<std::size_t>(k)].emplace_back(index, v);
  });
  for (int k = first; k <= last; ++k) {
    const auto& comps = by_order[static_cast<std::size_t>(k)];
    out << fmt::format("\n\\paragraph{{Order {}}} ", k);
    if (comps.empty()) {
      out << "All components vanish.\n";
      continue;
    }
    out << fmt::format("{} nonzero component{}.\n", comps.size(), comps.size() == 1 ? "" : "s");
    if (comps.size() > table_threshold && field != field_kind::symbolic) {
      out << "\\begin{longtable}{lll}\n";
      for (const auto& [index, v] : comps) {
        out << "$" << component_latex(tensor, k, index) << "$ & $\\displaystyle " << value_latex(v)
            << "$ & ";
        const auto f = to_double(v);
        if (f && field != field_kind::float64) out << "$\\approx " << latex_decimal(*f, 10) << "$";
        out << " \\\\[1.2ex]\n";
      }
      out << "\\end{longtable}\n";
      continue;
    }
    std::vector<std::pair<std::string, T>> lines;
    for (const auto& [index, v] : comps) lines.emplace_back(component_latex(tensor, k, index), v);
    print_latex_equations(out, lines, field);
  }
}

template <Field T>
void print_latex_symbols(std::ostream& out, const std::vector<SymTensor<T>>& tensors,
                         const std::vector<T>& more) {
  if constexpr (std::is_same_v<T, GiNaC::ex>) {
    std::map<std::string, std::string> found;  // plain name -> TeX
    for (const auto& g : tensors)
      for (const GiNaC::ex& v : g.data()) collect_symbols(v, found);
    for (const GiNaC::ex& v : more) collect_symbols(v, found);
    if (found.empty()) return;
    out << "Symbols: ";
    bool first = true;
    for (const auto& [name, tex] : found) {
      out << (first ? "" : ", ") << "$" << tex << "$ (\\texttt{" << tex_escape(name) << "})";
      first = false;
    }
    out << ".\n";
  } else {
    (void)out;
    (void)tensors;
    (void)more;
  }
}

#define FLOWACTION_INSTANTIATE(T)                                                                 \
  template void print_latex_equations(std::ostream&,                                              \
                                      const std::vector<std::pair<std::string, T>>&, field_kind); \
  template void print_latex_components(std::ostream&, const std::vector<SymTensor<T>>&, int, int, \
                                       field_kind, std::string_view);                             \
  template void print_latex_symbols(std::ostream&, const std::vector<SymTensor<T>>&,              \
                                    const std::vector<T>&);
FLOWACTION_FIELDS(FLOWACTION_INSTANTIATE)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
