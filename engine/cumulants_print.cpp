#include "engine/cumulants_print.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "engine/action_print.hpp"
#include "engine/component_print.hpp"
#include "engine/json_listing.hpp"
#include "engine/overload.hpp"

namespace flowaction {

namespace {

template <Field T>
void print_json(const Cumulants<T>& c, const ActionInfo& info, std::ostream& out) {
  nlohmann::ordered_json head =
      json_head("flowaction-cumulants/1", cumulant_convention, info, c.dim, c.order());
  head["loops"] = c.loops;
  head["log_Z_over_Z0"] = value_string(c.log_z);
  JsonListing listing(out, head, "cumulants");
  add_components_json(listing.array(), c.connected, 1, c.dim);
  listing.close();
}

template <Field T>
void print_text(const Cumulants<T>& c, const ActionInfo& info, std::ostream& out) {
  print_text_head(
      out, "flowaction cumulants (Feynman diagrams)", cumulant_convention, info,
      fmt::format("dim {}, n-point functions n <= {}, loops <= {}, field {}, x0 = ({})", c.dim,
                  c.order(), c.loops, field_name(info.field), fmt::join(info.at, ", ")));
  out << fmt::format("\nln(Z/Z0) = {}\n", value_with_decimal(c.log_z, info.field));
  print_component_table(out, c.connected, 1, c.dim, info.field, "W");
}

// cumulant_convention in LaTeX.
constexpr const char* cumulant_convention_latex =
    "$W^{(n)}_{i_1\\dots i_n} = \\langle x_{i_1}\\cdots x_{i_n}\\rangle_c$, the connected "
    "$n$-point function (cumulant) of $x$ under $p(x) \\propto e^{-S(x)}$, $W^{(1)}$ including "
    "$x_0$; $\\ln(Z/Z_0)$ with $Z = \\int e^{-(S - \\Gamma^{(0)})}$ and "
    "$Z_0 = \\int e^{-\\frac{1}{2}\\delta\\cdot\\Gamma^{(2)}\\cdot\\delta}$, $\\delta = x - x_0$. "
    "Perturbative: connected Feynman diagrams with propagator $G = (\\Gamma^{(2)})^{-1}$ and "
    "vertices $-\\Gamma^{(k)}$ ($k \\ge 3$) and $-\\Gamma^{(1)}$, each labelled diagram "
    "(legs told apart) weighted by $1/S$, $S$ the number of its automorphisms that fix every "
    "leg, up to the given loops "
    "(independent cycles, plus one per $\\Gamma^{(1)}$ vertex). A component is named by its "
    "sorted 0-based multi-index.";

template <Field T>
void print_latex(const Cumulants<T>& c, const ActionInfo& info, std::ostream& out) {
  print_latex_head(out, "perturbative cumulants by Feynman diagrams", cumulant_convention_latex,
                   info,
                   fmt::format("$d = {}$, $n$-point functions $n \\le {}$, loops $\\le {}$", c.dim,
                               c.order(), c.loops));
  print_latex_symbols(out, c.connected, {c.log_z});
  out << "\n\\paragraph{Vacuum}\n";
  print_latex_equations(out, std::vector<std::pair<std::string, T>>{{"\\ln(Z/Z_0)", c.log_z}},
                        info.field);
  print_latex_components(out, c.connected, 1, c.dim, info.field, "W");
}

}  // namespace

template <Field T>
void print(const Cumulants<T>& cumulants, const ActionInfo& info, const print_context& c) {
  std::visit(overload{
                 [&](const text_context& t) { print_text(cumulants, info, *t.s); },
                 [&](const json_context& j) { print_json(cumulants, info, *j.s); },
                 [&](const latex_context& l) { print_latex(cumulants, info, *l.s); },
             },
             c);
}

#define FLOWACTION_INSTANTIATE(T) \
  template void print(const Cumulants<T>&, const ActionInfo&, const print_context&);
FLOWACTION_FIELDS(FLOWACTION_INSTANTIATE)
#undef FLOWACTION_INSTANTIATE

}  // namespace flowaction
