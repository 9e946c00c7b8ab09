#include "engine/field.hpp"

#include <sstream>

namespace flowaction {

std::string_view field_name(field_kind f) {
  switch (f) {
    case field_kind::exact:
      return "exact";
    case field_kind::float64:
      return "float";
    case field_kind::symbolic:
      return "symbolic";
  }
  return "?";
}

std::optional<field_kind> parse_field(std::string_view name) {
  if (name == "exact") return field_kind::exact;
  if (name == "float") return field_kind::float64;
  if (name == "symbolic") return field_kind::symbolic;
  return std::nullopt;
}

GiNaC::ex log_abs(const GiNaC::ex& x) {
  // Through ex, not numeric: GiNaC's log(numeric) would evaluate to a float.
  if (GiNaC::is_a<GiNaC::numeric>(x))
    return GiNaC::log(GiNaC::ex(GiNaC::abs(GiNaC::ex_to<GiNaC::numeric>(x))));
  return GiNaC::log(GiNaC::abs(x));
}

void simplify(GiNaC::ex& x) {
  if (GiNaC::is_a<GiNaC::numeric>(x)) return;
  x = GiNaC::normal(x.expand());
}

std::string to_string(const GiNaC::ex& x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

std::optional<double> to_double(const GiNaC::ex& x) {
  const GiNaC::ex v = x.evalf();
  if (!GiNaC::is_a<GiNaC::numeric>(v)) return std::nullopt;
  const auto& n = GiNaC::ex_to<GiNaC::numeric>(v);
  if (!n.is_real()) return std::nullopt;
  return n.to_double();
}

}  // namespace flowaction
