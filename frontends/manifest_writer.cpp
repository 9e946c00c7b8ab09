#include "frontends/manifest_writer.hpp"

#include <fmt/format.h>

#include "engine/error.hpp"

namespace flowaction {

std::string exact_decimal(const GiNaC::numeric& q) {
  if (!q.is_rational()) throw Error("cannot write a non-rational weight as a decimal");
  if (q.is_zero()) return "0";
  // q = N / (2^a 5^b) = M · 10^e with M an integer without trailing zeros.
  GiNaC::numeric den = q.denom(), num = GiNaC::abs(q.numer());
  int e = 0;
  while (!den.is_equal(1)) {
    if (GiNaC::irem(den, 10).is_zero())
      den = den / 10;
    else if (GiNaC::irem(den, 2).is_zero())
      den = den / 2, num *= 5;
    else if (GiNaC::irem(den, 5).is_zero())
      den = den / 5, num *= 2;
    else
      throw Error(fmt::format("the weight {} has no terminating decimal expansion", q.to_double()));
    --e;
  }
  while (GiNaC::irem(num, 10).is_zero()) num = num / 10, ++e;
  std::ostringstream s;
  s << num;
  std::string digits = s.str();
  const std::string sign = q.is_negative() ? "-" : "";
  const int n = static_cast<int>(digits.size());
  if (e >= 0 && e <= 6) return sign + digits + std::string(static_cast<std::size_t>(e), '0');
  if (e < 0 && -e < n) return sign + digits.substr(0, n + e) + "." + digits.substr(n + e);
  if (e < 0 && -e - n <= 6)
    return sign + "0." + std::string(static_cast<std::size_t>(-e - n), '0') + digits;
  const int exponent = e + n - 1;
  return sign + digits.substr(0, 1) + (n > 1 ? "." + digits.substr(1) : "") +
         fmt::format("e{}", exponent);
}

namespace {

std::string tensor_json(const Tensor& t, std::string_view indent) {
  auto row = [&](std::size_t from, std::size_t count) {
    std::string s = "[";
    for (std::size_t i = 0; i < count; ++i)
      s += (i ? ", " : "") + exact_decimal(t.values[from + i]);
    return s + "]";
  };
  if (t.shape.empty()) return exact_decimal(t.values.at(0));
  if (t.shape.size() == 1) return row(0, t.values.size());
  const auto rows = static_cast<std::size_t>(t.shape[0]),
             cols = static_cast<std::size_t>(t.shape[1]);
  std::string s = "[";
  for (std::size_t r = 0; r < rows; ++r)
    s += (r ? fmt::format(",\n{} ", indent) : std::string()) + row(r * cols, cols);
  return s + "]";
}

}  // namespace

std::string manifest_json(const Model& model) {
  std::string s =
      fmt::format("{{\"format\": \"flowaction/1\", \"dim\": {},\n \"layers\": [\n", model.dim);
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const LayerSpec& spec = spec_of(model.layers[l]);
    s += fmt::format("{}  {{\"type\": \"{}\"", l ? ",\n" : "", spec.type);
    for (const Tensor* t : tensors_of(model.layers[l])) {
      if (t->empty()) continue;
      const std::string key = fmt::format(",\n   \"{}\": ", t->name);
      s += key + tensor_json(*t, std::string(key.size() - 2, ' '));
    }
    s += "}";
  }
  return s + "\n ]}\n";
}

}  // namespace flowaction
