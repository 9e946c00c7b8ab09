// Coefficient fields (DESIGN §5): every vertex is a double (float field) or a GiNaC expression
// (exact rationals, or expressions in chosen weights). The algorithms are written once over a
// type T that satisfies `Field`; everything they need of T is in field_traits<T>.
#pragma once

#include <cln/integer.h>
#include <ginac/ginac.h>

#include <cmath>
#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flowaction {

enum class field_kind { exact, float64, symbolic };

std::string_view field_name(field_kind f);
std::optional<field_kind> parse_field(std::string_view name);

template <class T>
struct field_traits;  // specialised below for every coefficient type

// Ring operations only: what a contraction needs (also used with CLN integers).
template <>
struct field_traits<cln::cl_I> {
  static bool vanishes(const cln::cl_I& x) { return cln::zerop(x); }
};

template <>
struct field_traits<double> {
  static constexpr const char* name = "double";
  // Contractions may run on threads (plain values; see engine/parallel.hpp).
  static constexpr bool threads = true;
  static bool vanishes(double x) { return x == 0.0; }
  static double from_int(long n) { return static_cast<double>(n); }
  static double from_rational(const GiNaC::numeric& q) { return q.to_double(); }
  // A weight; the float field never keeps symbols.
  static double weight(const GiNaC::numeric& q, const GiNaC::realsymbol*) { return q.to_double(); }
  static double log_abs(double x) { return std::log(std::fabs(x)); }
  static double log_2pi() { return std::log(2.0 * M_PI); }
  static void simplify(double&) {}
  static std::optional<double> to_double(double x) {
    if (!std::isfinite(x)) return std::nullopt;
    return x;
  }
  // ln|det M| of a d×d row-major matrix (LU with partial pivoting).
  static double log_abs_det(const std::vector<double>& M, int d);
};

template <>
struct field_traits<GiNaC::ex> {
  static constexpr const char* name = "GiNaC::ex";
  static constexpr bool threads = false;  // GiNaC's reference counts are not atomic
  static bool vanishes(const GiNaC::ex& x) { return x.is_zero(); }
  // An exact integer (never a GiNaC float).
  static GiNaC::ex from_int(long n) { return GiNaC::numeric(n); }
  static GiNaC::ex from_rational(const GiNaC::numeric& q) { return q; }
  static GiNaC::ex weight(const GiNaC::numeric& q, const GiNaC::realsymbol* s) {
    return s ? GiNaC::ex(*s) : GiNaC::ex(q);
  }
  // Through ex, not numeric: GiNaC's log(numeric) would evaluate to a float.
  static GiNaC::ex log_abs(const GiNaC::ex& x);
  static GiNaC::ex log_2pi() { return GiNaC::log(2 * GiNaC::Pi); }
  // Keeps symbolic entries in canonical form (expanded numerator over denominator); a no-op for
  // numbers, which GiNaC evaluates eagerly.
  static void simplify(GiNaC::ex& x);
  // The value as a double, or nothing while it still holds symbols.
  static std::optional<double> to_double(const GiNaC::ex& x);
  static GiNaC::ex log_abs_det(const std::vector<GiNaC::ex>& M, int d);
  static GiNaC::ex determinant(const std::vector<GiNaC::ex>& M, int d);
};

// What the engine's algorithms ask of a coefficient type.
template <class T>
concept Field = std::copy_constructible<T> &&
    requires(T a, const T& b, long n, const GiNaC::numeric& q) {
  { T(0) } -> std::same_as<T>;
  { a + b } -> std::convertible_to<T>;
  { a - b } -> std::convertible_to<T>;
  { a* b } -> std::convertible_to<T>;
  { a / b } -> std::convertible_to<T>;
  a += b;
  { field_traits<T>::vanishes(b) } -> std::same_as<bool>;
  { field_traits<T>::threads } -> std::convertible_to<bool>;
  { field_traits<T>::from_int(n) } -> std::same_as<T>;
  { field_traits<T>::from_rational(q) } -> std::same_as<T>;
  { field_traits<T>::log_abs(b) } -> std::same_as<T>;
  { field_traits<T>::to_double(b) } -> std::same_as<std::optional<double>>;
  field_traits<T>::simplify(a);
};

// The coefficient types the engine is instantiated for: FLOWACTION_FIELDS(X) expands X(T) once
// per field, and every source file generates its explicit instantiations from it.
#define FLOWACTION_FIELDS(X) X(double) X(GiNaC::ex)

// Shorthands the algorithms use.
template <class T>
bool vanishes(const T& x) {
  return field_traits<T>::vanishes(x);
}
template <Field T>
T from_int(long n) {
  return field_traits<T>::from_int(n);
}
template <Field T>
T from_rational(const GiNaC::numeric& q) {
  return field_traits<T>::from_rational(q);
}
template <Field T>
T log_abs(const T& x) {
  return field_traits<T>::log_abs(x);
}
template <Field T>
void simplify(T& x) {
  field_traits<T>::simplify(x);
}
template <Field T>
std::optional<double> to_double(const T& x) {
  return field_traits<T>::to_double(x);
}

std::string to_string(const GiNaC::ex& x);

}  // namespace flowaction
