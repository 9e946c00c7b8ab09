// Coefficient fields (DESIGN §5): every vertex is a double (float field) or a GiNaC expression
// (exact rationals, or expressions in chosen weights). The pullback is written once over T.
#pragma once

#include <cln/integer.h>
#include <ginac/ginac.h>

#include <cmath>
#include <optional>
#include <string>
#include <string_view>

namespace flowaction {

enum class field_kind { exact, float64, symbolic };

std::string_view field_name(field_kind f);
std::optional<field_kind> parse_field(std::string_view name);

// What the pullback needs of a field, as overloads for double and GiNaC::ex.
inline bool vanishes(double x) {
  return x == 0.0;
}
inline bool vanishes(const GiNaC::ex& x) {
  return x.is_zero();
}
inline bool vanishes(const cln::cl_I& x) {
  return cln::zerop(x);
}

inline double log_abs(double x) {
  return std::log(std::fabs(x));
}
GiNaC::ex log_abs(const GiNaC::ex& x);

// Keeps symbolic entries in canonical form (expanded numerator over denominator); a no-op for
// numbers, which GiNaC evaluates eagerly.
inline void simplify(double&) {}
void simplify(GiNaC::ex& x);

inline double to_double(double x) {
  return x;
}
std::string to_string(const GiNaC::ex& x);
// The value as a double, or nothing while it still holds symbols.
std::optional<double> to_double(const GiNaC::ex& x);

template <class T>
T from_rational(const GiNaC::numeric& q);
template <>
inline double from_rational<double>(const GiNaC::numeric& q) {
  return q.to_double();
}
template <>
inline GiNaC::ex from_rational<GiNaC::ex>(const GiNaC::numeric& q) {
  return q;
}

// An exact integer in the field (never a GiNaC float).
template <class T>
T from_int(long n);
template <>
inline double from_int<double>(long n) {
  return static_cast<double>(n);
}
template <>
inline GiNaC::ex from_int<GiNaC::ex>(long n) {
  return GiNaC::numeric(n);
}

}  // namespace flowaction
