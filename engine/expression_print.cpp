#include "engine/expression_print.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

namespace flowaction {

namespace {

using GiNaC::ex;
using GiNaC::is_a;

class Printer {
 public:
  explicit Printer(expression_style style) : latex_(style == expression_style::latex) {}

  std::string operator()(const ex& e) const {
    if (is_a<GiNaC::add>(e)) return sum(e);
    return product(e);
  }

 private:
  bool latex_;

  std::string ginac(const ex& e) const {
    std::ostringstream s;
    if (latex_)
      e.print(GiNaC::print_latex(s));
    else
      e.print(GiNaC::print_dflt(s));
    return s.str();
  }

  // Degree of a term in its symbols: the sort key of the terms of a sum.
  static int degree(const ex& t) {
    if (is_a<GiNaC::symbol>(t)) return 1;
    if (is_a<GiNaC::power>(t) && is_a<GiNaC::symbol>(t.op(0)) &&
        t.op(1).info(GiNaC::info_flags::integer))
      return GiNaC::ex_to<GiNaC::numeric>(t.op(1)).to_int();
    if (is_a<GiNaC::mul>(t)) {
      int d = 0;
      for (std::size_t i = 0; i < t.nops(); ++i) d += degree(t.op(i));
      return d;
    }
    return 0;
  }

  std::string sum(const ex& e) const {
    // By degree, then by their text: the same order in every run.
    struct term {
      int degree;
      bool negative;
      std::string body;
    };
    std::vector<term> terms;
    for (std::size_t i = 0; i < e.nops(); ++i) {
      const ex& t = e.op(i);
      const bool negative = coefficient(t) < 0;
      terms.push_back({degree(t), negative, product(negative ? ex(-t) : t)});
    }
    std::stable_sort(terms.begin(), terms.end(), [](const term& a, const term& b) {
      return a.degree != b.degree ? a.degree < b.degree : a.body < b.body;
    });
    std::string out;
    for (const term& t : terms) {
      if (out.empty())
        out = (t.negative ? "-" : "") + t.body;
      else
        out += (t.negative ? " - " : " + ") + t.body;
    }
    return out;
  }

  static GiNaC::numeric coefficient(const ex& t) {
    if (is_a<GiNaC::numeric>(t)) return GiNaC::ex_to<GiNaC::numeric>(t);
    GiNaC::numeric c = 1;
    if (is_a<GiNaC::mul>(t))
      for (std::size_t i = 0; i < t.nops(); ++i)
        if (is_a<GiNaC::numeric>(t.op(i))) c *= GiNaC::ex_to<GiNaC::numeric>(t.op(i));
    return c;
  }

  // The order of factors in a product: symbols (and their powers), functions, sums.
  static int rank(const ex& f) {
    const ex& base = is_a<GiNaC::power>(f) ? f.op(0) : f;
    if (is_a<GiNaC::symbol>(base)) return 0;
    if (is_a<GiNaC::add>(base)) return 2;
    return 1;
  }

  std::string factor(const ex& f) const {
    if (is_a<GiNaC::power>(f)) {
      const ex& base = f.op(0);
      const ex& exponent = f.op(1);
      std::string b = factor(base);
      // α^{(2)}_{0} to a power reads as (α^{(2)}_{0})^{4}, never as a stacked superscript.
      if (latex_ && is_a<GiNaC::symbol>(base))
        b = b.find('^') != std::string::npos ? "(" + b + ")" : "{" + b + "}";
      if (latex_ && is_a<GiNaC::function>(base)) b = "\\left(" + b + "\\right)";
      if (latex_) return fmt::format("{}^{{{}}}", b, ginac(exponent));
      const bool simple_exponent = exponent.info(GiNaC::info_flags::nonnegint);
      return fmt::format("{}^{}", b,
                         simple_exponent ? ginac(exponent) : "(" + ginac(exponent) + ")");
    }
    if (is_a<GiNaC::add>(f)) return latex_ ? "\\left(" + sum(f) + "\\right)" : "(" + sum(f) + ")";
    if (is_a<GiNaC::mul>(f)) return product(f);
    return ginac(f);
  }

  // Factors in print order, joined; "1" for none.
  std::string join(std::vector<ex> factors) const {
    // By kind, then by their plain text: the same order in every run (GiNaC's own order
    // follows the creation of symbols).
    std::vector<std::pair<std::string, ex>> keyed;
    for (const ex& f : factors) {
      std::ostringstream s;
      f.print(GiNaC::print_dflt(s));
      keyed.emplace_back(s.str(), f);
    }
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
      if (rank(a.second) != rank(b.second)) return rank(a.second) < rank(b.second);
      return a.first < b.first;
    });
    for (std::size_t i = 0; i < factors.size(); ++i) factors[i] = keyed[i].second;
    std::string out;
    for (const ex& f : factors) out += (out.empty() ? "" : latex_ ? " " : "*") + factor(f);
    return out.empty() ? "1" : out;
  }

  std::string product(const ex& e) const {
    if (is_a<GiNaC::numeric>(e)) return ginac(e);
    GiNaC::numeric c = 1;
    std::vector<ex> up, down;
    const auto add_factor = [&](const ex& f) {
      if (is_a<GiNaC::numeric>(f))
        c *= GiNaC::ex_to<GiNaC::numeric>(f);
      else if (is_a<GiNaC::power>(f) && f.op(1).info(GiNaC::info_flags::negative))
        down.push_back(f.op(1) == -1 ? f.op(0) : GiNaC::pow(f.op(0), -f.op(1)));
      else
        up.push_back(f);
    };
    if (is_a<GiNaC::mul>(e))
      for (std::size_t i = 0; i < e.nops(); ++i) add_factor(e.op(i));
    else
      add_factor(e);
    // -2α(-3 + 8α²) reads better as 2α(3 - 8α²): GiNaC keeps the sign outside, the reader
    // wants it inside the sum.
    if (c < 0)
      for (ex& f : up)
        if (is_a<GiNaC::add>(f)) {
          f = -f;  // GiNaC distributes a number over a sum, nothing more
          c = -c;
          break;
        }
    const std::string sign = c < 0 ? "-" : "";
    const GiNaC::numeric p = GiNaC::abs(c.numer()), q = c.denom();
    const std::string sep = latex_ ? " " : "*";
    if (!down.empty()) {
      const auto part = [&](const GiNaC::numeric& n, const std::vector<ex>& fs) {
        std::string s = n == 1 ? "" : ginac(n);
        if (!fs.empty()) s += (s.empty() ? "" : sep) + join(fs);
        return s.empty() ? std::string("1") : s;
      };
      const std::string num = part(p, up), den = part(q, down);
      if (latex_) return fmt::format("{}\\frac{{{}}}{{{}}}", sign, num, den);
      const bool one_factor = down.size() + (q != 1 ? 1 : 0) == 1;
      return fmt::format("{}{}/{}", sign, num, one_factor ? den : "(" + den + ")");
    }
    std::string number;
    if (p != 1 || q != 1) number = ginac(GiNaC::numeric(p) / q);
    if (up.empty()) return sign + (number.empty() ? "1" : number);
    return sign + number + (number.empty() ? "" : sep) + join(up);
  }
};

}  // namespace

std::string format_expression(const GiNaC::ex& e, expression_style style) {
  return Printer(style)(e);
}

std::string latex_decimal(double x, int digits) {
  if (x == 0) return "0";
  if (!std::isfinite(x)) return std::isnan(x) ? "\\mathrm{NaN}" : x > 0 ? "\\infty" : "-\\infty";
  const double a = std::fabs(x);
  const auto decimal = [&](double v) {
    return digits > 0 ? fmt::format("{:.{}g}", v, digits) : fmt::format("{}", v);
  };
  if (a >= 1e-4 && a < 1e6) return decimal(x);
  const int e = static_cast<int>(std::floor(std::log10(a)));
  const std::string m = decimal(x / std::pow(10.0, e));
  return fmt::format("{}\\times 10^{{{}}}", m, e);
}

}  // namespace flowaction
