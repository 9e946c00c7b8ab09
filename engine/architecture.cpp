#include "engine/architecture.hpp"

#include <fmt/format.h>

#include <charconv>

#include "engine/error.hpp"

namespace flowaction {

std::string_view architecture_grammar() {
  return "comma-separated layers, data -> latent: affine, activation, coupling or actnorm, each "
         "optionally with ':quadratic' (phi(u) = u + alpha u^2, the default), ':cubic' (u + alpha "
         "u^3), ':degreeP' (u + c_2 u^2 + ... + c_P u^P) and ':bias'";
}

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const std::size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

ArchLayer parse_layer(std::string_view token) {
  const auto parts = split(token, ':');
  ArchLayer l;
  l.token = std::string(token);
  const auto fail = [&](std::string_view why) {
    return Error(fmt::format("--arch: '{}': {} ({})", token, why, architecture_grammar()));
  };
  if (parts[0] == "affine")
    l.type = ArchLayer::kind::affine;
  else if (parts[0] == "activation")
    l.type = ArchLayer::kind::activation;
  else if (parts[0] == "coupling")
    l.type = ArchLayer::kind::coupling;
  else if (parts[0] == "actnorm")
    l.type = ArchLayer::kind::actnorm;
  else
    throw fail("unknown layer type");
  const bool nonlinear =
      l.type == ArchLayer::kind::activation || l.type == ArchLayer::kind::coupling;
  if (nonlinear) l.degree = 2;
  bool shaped = false;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::string_view m = parts[i];
    if (m == "bias") {
      if (l.type == ArchLayer::kind::activation) throw fail("an activation has no bias");
      l.bias = true;
      continue;
    }
    if (!nonlinear) throw fail(fmt::format("'{}' does not apply to {}", m, parts[0]));
    if (shaped) throw fail("give one shape of phi");
    shaped = true;
    if (m == "quadratic") {
      l.degree = 2;
    } else if (m == "cubic") {
      l.degree = 3;
    } else if (m.starts_with("degree")) {
      int p = 0;
      const std::string_view digits = m.substr(6);
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
      if (ec != std::errc() || end != digits.data() + digits.size() || p < 2 || p > 12)
        throw fail("degreeP needs P from 2 to 12");
      l.degree = p;
      l.coefficients = true;
    } else {
      throw fail(fmt::format("unknown modifier '{}'", m));
    }
  }
  return l;
}

}  // namespace

Architecture parse_architecture(std::string_view spec) {
  Architecture a;
  if (spec.empty()) throw Error(fmt::format("--arch is empty ({})", architecture_grammar()));
  for (std::string_view token : split(spec, ',')) a.layers.push_back(parse_layer(token));
  return a;
}

}  // namespace flowaction
