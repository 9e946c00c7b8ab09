#include "engine/action_print.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "engine/json_listing.hpp"
#include "engine/latex_document.hpp"
#include "engine/overload.hpp"

namespace flowaction {

namespace {

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

}  // namespace

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

void print_latex_head(std::ostream& out, std::string_view title, std::string_view convention,
                      const ActionInfo& info, std::string_view summary) {
  out << "% flowaction: " << title << "\n";
  out << "\\noindent\\textbf{Convention.} " << convention << "\n\n";
  out << "\\noindent ";
  if (!info.source.empty()) out << "Source: \\texttt{" << tex_escape(info.source) << "}; ";
  out << summary << ", field " << field_name(info.field);
  if (!info.at.empty()) out << ", $x_0 = " << latex_point(info.at) << "$";
  out << ".\n";
}

namespace {

template <Field T>
void print_json(const Action<T>& action, const ActionInfo& info, std::ostream& out) {
  JsonListing listing(
      out, json_head("flowaction-action/1", action_convention, info, action.dim, action.order()),
      "vertices");
  add_components_json(listing.array(), action.vertices, 0, action.dim);
  listing.close();
}

void text_head(const ActionInfo& info, int dim, int order, std::ostream& out) {
  print_text_head(out, "flowaction action vertices", action_convention, info,
                  fmt::format("dim {}, order <= {}, field {}, expansion point x0 = ({})", dim,
                              order, field_name(info.field), fmt::join(info.at, ", ")));
}

template <Field T>
void text_table(const Action<T>& action, const ActionInfo& info, std::ostream& out) {
  print_component_table(out, action.vertices, 0, action.dim, info.field, "Gamma");
}

void latex_head(const ActionInfo& info, int dim, int order, std::ostream& out) {
  print_latex_head(
      out, "the action S(x) = -ln p(x) by its Taylor vertices",
      "$S(x) = -\\ln p(x) = \\sum_k \\frac{1}{k!}\\,"
      "\\Gamma^{(k)}_{i_1\\dots i_k}\\,\\delta_{i_1}\\cdots\\delta_{i_k}$ with "
      "$\\delta = x - x_0$: Taylor coefficients at the expansion point $x_0$ (a Gaussian has a "
      "positive quadratic term). A component is named by its sorted 0-based multi-index; the "
      "coefficient of the monomial $\\delta^a$ is $\\Gamma_a/a!$. The flow maps the data to a "
      "standard normal latent.",
      info, fmt::format("$d = {}$, orders $\\le {}$", dim, order));
}

template <Field T>
void latex_vertices(const Action<T>& action, const ActionInfo& info, std::ostream& out) {
  print_latex_symbols(out, action.vertices);
  print_latex_components(out, action.vertices, 0, action.dim, info.field, "\\Gamma");
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
                 [&](const latex_context& l) {
                   latex_head(info, action.dim, action.order(), *l.s);
                   latex_vertices(action, info, *l.s);
                 },
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
            JsonListing listing(
                out, json_head("flowaction-stages/1", action_convention, info, dim, order),
                "stages");
            for (const ActionStage& s : stages) {
              nlohmann::ordered_json stage;
              stage["title"] = s.title;
              stage["at"] = s.at;
              listing.next() << "{\n";
              write_json_members(out, stage, "   ");
              out << "   \"vertices\": ";
              JsonArray vertices(out, "    ");
              std::visit(
                  [&](const auto& a) { add_components_json(vertices, a.vertices, 0, a.dim); },
                  s.action);
              vertices.close();
              out << "\n  }";
            }
            listing.close();
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
              std::visit([&](const auto& a) { latex_vertices(a, info, out); }, s.action);
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
