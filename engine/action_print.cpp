#include "engine/action_print.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cctype>
#include <nlohmann/json.hpp>
#include <map>
#include <set>

#include "engine/expression_print.hpp"
#include "engine/latex_document.hpp"
#include "engine/overload.hpp"

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

std::string component_latex(int order, const std::vector<int>& index) {
  const bool short_indices = std::all_of(index.begin(), index.end(), [](int i) { return i < 10; });
  if (index.empty()) return fmt::format("\\Gamma^{{({})}}", order);
  return fmt::format("\\Gamma^{{({})}}_{{{}}}", order, fmt::join(index, short_indices ? "" : ","));
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

// ---- JSON -----------------------------------------------------------------------------------

constexpr auto replace = nlohmann::ordered_json::error_handler_t::replace;

// The members before the vertices (or stages), in the order other tools expect.
nlohmann::ordered_json json_head(std::string_view format, const ActionInfo& info, int dim,
                                 int order) {
  nlohmann::ordered_json head;
  head["format"] = format;
  head["convention"] = action_convention;
  if (!info.source.empty()) head["source"] = info.source;
  head["dim"] = dim;
  head["order"] = order;
  head["at"] = info.at;
  head["field"] = std::string(field_name(info.field));
  if (info.field == field_kind::symbolic) head["symbols"] = info.symbols;
  return head;
}

template <Field T>
void json_vertices(const Action<T>& action, std::ostream& out, std::string_view indent) {
  out << "[";
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
    out << (first ? "\n" : ",\n") << indent << e.dump(-1, ' ', false, replace);
    first = false;
  });
  out << "\n" << indent.substr(1) << "]";
}

// One member per line: readable, and still one JSON document. A file name that is not UTF-8 is
// written with replacement characters rather than refused.
void json_members(const nlohmann::ordered_json& members, std::ostream& out,
                  std::string_view indent) {
  for (const auto& [key, value] : members.items())
    out << indent << nlohmann::json(key).dump() << ": " << value.dump(-1, ' ', false, replace)
        << ",\n";
}

template <Field T>
void print_json(const Action<T>& action, const ActionInfo& info, std::ostream& out) {
  out << "{\n";
  json_members(json_head("flowaction-action/1", info, action.dim, action.order()), out, " ");
  out << " \"vertices\": ";
  json_vertices(action, out, "  ");
  out << "\n}\n";
}

// ---- text -----------------------------------------------------------------------------------

void text_head(const ActionInfo& info, int dim, int order, std::ostream& out) {
  out << "# flowaction action vertices\n";
  out << "# convention: " << action_convention << '\n';
  if (!info.source.empty()) out << "# source: " << info.source << '\n';
  out << fmt::format("# dim {}, order <= {}, field {}, expansion point x0 = ({})\n", dim, order,
                     field_name(info.field), fmt::join(info.at, ", "));
  if (info.field == field_kind::symbolic)
    out << fmt::format("# symbols: {}\n", fmt::join(info.symbols, ", "));
}

template <Field T>
void text_table(const Action<T>& action, const ActionInfo& info, std::ostream& out) {
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

// ---- LaTeX ----------------------------------------------------------------------------------

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

// An exact number as the outputs write it ("-1/2", "3") in LaTeX; anything else as code.
std::string latex_number(const std::string& x) {
  const bool rational =
      !x.empty() && x.find_first_not_of("-0123456789/") == std::string::npos && x != "-";
  if (!rational) return "\\texttt{" + tex_escape(x) + "}";
  const std::size_t slash = x.find('/');
  if (slash == std::string::npos) return x;
  const bool negative = x[0] == '-';
  return fmt::format("{}\\frac{{{}}}{{{}}}", negative ? "-" : "",
                     x.substr(negative ? 1 : 0, slash - (negative ? 1 : 0)), x.substr(slash + 1));
}

std::string latex_point(const std::vector<std::string>& at) {
  std::vector<std::string> entries;
  for (const std::string& x : at) entries.push_back(latex_number(x));
  return fmt::format("({})", fmt::join(entries, ", "));
}

void latex_head(const ActionInfo& info, int dim, int order, std::ostream& out) {
  out << "% flowaction: the action S(x) = -ln p(x) by its Taylor vertices\n";
  out << "\\noindent\\textbf{Convention.} $S(x) = -\\ln p(x) = \\sum_k \\frac{1}{k!}\\,"
         "\\Gamma^{(k)}_{i_1\\dots i_k}\\,\\delta_{i_1}\\cdots\\delta_{i_k}$ with "
         "$\\delta = x - x_0$: Taylor coefficients at the expansion point $x_0$ (a Gaussian has a "
         "positive quadratic term). A component is named by its sorted 0-based multi-index; the "
         "coefficient of the monomial $\\delta^a$ is $\\Gamma_a/a!$. The flow maps the data to a "
         "standard normal latent.\n\n";
  out << "\\noindent ";
  if (!info.source.empty()) out << "Source: \\texttt{" << tex_escape(info.source) << "}; ";
  out << fmt::format("$d = {}$, orders $\\le {}$, field {}", dim, order, field_name(info.field));
  if (!info.at.empty()) out << ", $x_0 = " << latex_point(info.at) << "$";
  out << ".\n";
}

// The symbols the vertices hold, with their TeX and plain names.
template <Field T>
void latex_symbols(const Action<T>& action, std::ostream& out) {
  if constexpr (std::is_same_v<T, GiNaC::ex>) {
    std::map<std::string, std::string> found;  // plain name -> TeX
    for (const auto& g : action.vertices)
      for (const GiNaC::ex& v : g.data())
        for (auto it = v.preorder_begin(); it != v.preorder_end(); ++it)
          if (GiNaC::is_a<GiNaC::symbol>(*it))
            found.emplace(GiNaC::ex_to<GiNaC::symbol>(*it).get_name(), value_latex(*it));
    if (found.empty()) return;
    out << "Symbols: ";
    bool first = true;
    for (const auto& [name, tex] : found) {
      out << (first ? "" : ", ") << "$" << tex << "$ (\\texttt{" << tex_escape(name) << "})";
      first = false;
    }
    out << ".\n";
  } else {
    (void)action;
    (void)out;
  }
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

template <Field T>
void latex_vertices(const Action<T>& action, const ActionInfo& info, std::ostream& out) {
  std::vector<std::vector<std::pair<multi_index, T>>> by_order(action.vertices.size());
  for_each_component(action, [&](int k, const multi_index& index, const T& v) {
    by_order[k].emplace_back(index, v);
  });
  for (int k = 0; k <= action.order(); ++k) {
    const auto& comps = by_order[k];
    out << fmt::format("\n\\paragraph{{Order {}}} ", k);
    if (comps.empty()) {
      out << "All components vanish.\n";
      continue;
    }
    out << fmt::format("{} nonzero component{}.\n", comps.size(), comps.size() == 1 ? "" : "s");
    const bool table = comps.size() > table_threshold && info.field != field_kind::symbolic;
    if (table) {
      out << "\\begin{longtable}{lll}\n";
      for (const auto& [index, v] : comps) {
        out << "$" << component_latex(k, index) << "$ & $\\displaystyle " << value_latex(v)
            << "$ & ";
        const auto f = to_double(v);
        if (f && info.field != field_kind::float64)
          out << "$\\approx " << latex_decimal(*f, 10) << "$";
        out << " \\\\[1.2ex]\n";
      }
      out << "\\end{longtable}\n";
      continue;
    }
    out << "\\begin{align*}\n";
    for (std::size_t c = 0; c < comps.size(); ++c) {
      const auto& [index, v] = comps[c];
      const std::vector<std::string> lines = display_lines(v);
      out << component_latex(k, index) << " &= " << lines[0];
      for (std::size_t l = 1; l < lines.size(); ++l) out << " \\\\\n  &\\quad " << lines[l];
      const auto f = to_double(v);
      const std::string tex = lines[0];
      if (f && info.field != field_kind::float64 && lines.size() == 1 && visible_width(tex) > 10)
        out << " \\approx " << latex_decimal(*f, 10);
      out << (c + 1 < comps.size() ? " \\\\\n" : "\n");
    }
    out << "\\end{align*}\n";
  }
}

template <Field T>
void print_latex(const Action<T>& action, const ActionInfo& info, std::ostream& out) {
  latex_head(info, action.dim, action.order(), out);
  latex_symbols(action, out);
  latex_vertices(action, info, out);
}

}  // namespace

template <Field T>
void print(const Action<T>& action, const ActionInfo& info, const print_context& c) {
  std::visit(overload{
                 [&](const text_context& t) {
                   text_head(info, action.dim, action.order(), *t.s);
                   text_table(action, info, *t.s);
                 },
                 [&](const json_context& j) { print_json(action, info, *j.s); },
                 [&](const latex_context& l) { print_latex(action, info, *l.s); },
             },
             c);
}

void print(const std::vector<ActionStage>& stages, const ActionInfo& info, const print_context& c) {
  if (stages.empty()) return;
  const auto dim = std::visit([](const auto& a) { return a.dim; }, stages.front().action);
  const auto order = std::visit([](const auto& a) { return a.order(); }, stages.front().action);
  std::visit(
      overload{
          [&](const text_context& t) {
            text_head(info, dim, order, *t.s);
            for (const ActionStage& s : stages) {
              *t.s << fmt::format("\n## {}\n## expanded around ({})\n", s.title,
                                  fmt::join(s.at, ", "));
              std::visit([&](const auto& a) { text_table(a, info, *t.s); }, s.action);
            }
          },
          [&](const json_context& j) {
            std::ostream& out = *j.s;
            out << "{\n";
            json_members(json_head("flowaction-stages/1", info, dim, order), out, " ");
            out << " \"stages\": [";
            for (std::size_t i = 0; i < stages.size(); ++i) {
              nlohmann::ordered_json stage;
              stage["title"] = stages[i].title;
              stage["at"] = stages[i].at;
              out << (i ? ",\n" : "\n") << "  {\n";
              json_members(stage, out, "   ");
              out << "   \"vertices\": ";
              std::visit([&](const auto& a) { json_vertices(a, out, "    "); }, stages[i].action);
              out << "\n  }";
            }
            out << "\n ]\n}\n";
          },
          [&](const latex_context& l) {
            std::ostream& out = *l.s;
            latex_head(info, dim, order, out);
            out << "The action is pulled back from the latent Gaussian through the layers, the "
                   "last layer first; after each layer it is the action of the variables that "
                   "enter that layer, expanded around the forward image of $x_0$.\n";
            for (const ActionStage& s : stages) {
              out << "\n\\subsection*{" << tex_escape(s.title) << "}\n";
              out << fmt::format("Expanded around $({})$.\n", fmt::join(s.at_latex, ", "));
              std::visit(
                  [&](const auto& a) {
                    latex_symbols(a, out);
                    latex_vertices(a, info, out);
                  },
                  s.action);
            }
          },
      },
      c);
}

#define FLOWACTION_INSTANTIATE(T) \
  template void print(const Action<T>&, const ActionInfo&, const print_context&);
FLOWACTION_FIELDS(FLOWACTION_INSTANTIATE)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
