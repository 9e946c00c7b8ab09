#include "engine/field.hpp"

#include <Eigen/Dense>
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

double field_traits<double>::log_abs_det(const std::vector<double>& M, int d) {
  using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::PartialPivLU<RowMat> lu(Eigen::Map<const RowMat>(M.data(), d, d));
  double s = 0;
  for (int i = 0; i < d; ++i) s += std::log(std::fabs(lu.matrixLU()(i, i)));
  return s;
}

GiNaC::ex field_traits<GiNaC::ex>::log_abs(const GiNaC::ex& x) {
  if (GiNaC::is_a<GiNaC::numeric>(x))
    return GiNaC::log(GiNaC::ex(GiNaC::abs(GiNaC::ex_to<GiNaC::numeric>(x))));
  return GiNaC::log(GiNaC::abs(x));
}

void field_traits<GiNaC::ex>::simplify(GiNaC::ex& x) {
  if (GiNaC::is_a<GiNaC::numeric>(x)) return;
  x = GiNaC::normal(x.expand());
}

std::optional<double> field_traits<GiNaC::ex>::to_double(const GiNaC::ex& x) {
  const GiNaC::ex v = x.evalf();
  if (!GiNaC::is_a<GiNaC::numeric>(v)) return std::nullopt;
  const auto& n = GiNaC::ex_to<GiNaC::numeric>(v);
  if (!n.is_real()) return std::nullopt;
  return n.to_double();
}

GiNaC::ex field_traits<GiNaC::ex>::determinant(const std::vector<GiNaC::ex>& M, int d) {
  const auto n = static_cast<unsigned>(d);
  GiNaC::matrix W(n, n);
  for (unsigned i = 0; i < n; ++i)
    for (unsigned j = 0; j < n; ++j) W(i, j) = M[i * n + j];
  return W.determinant();
}

GiNaC::ex field_traits<GiNaC::ex>::log_abs_det(const std::vector<GiNaC::ex>& M, int d) {
  return log_abs(determinant(M, d));
}

std::string to_string(const GiNaC::ex& x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

}  // namespace flowaction
