#include "frontends/args.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "diagrams/diagram.hpp"
#include "engine/error.hpp"

namespace flowaction {

namespace {

// The whole of text as a long ('+' allowed, as std::stol did for --order), or nothing.
std::optional<long> to_long(std::string_view text) {
  if (text.size() > 1 && text[0] == '+' && text[1] != '-') text.remove_prefix(1);
  long v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

}  // namespace

Args::Args(std::span<const std::string> args, std::span<const Option> options) : options_(options) {
  // The first mistake is thrown only after the whole line is read: a later --help wins.
  std::optional<std::string> mistake;
  const auto note = [&](std::string message) {
    if (!mistake) mistake = std::move(message);
  };
  bool only_positional = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (only_positional || a.size() < 2 || a[0] != '-') {  // "-" alone is a file name
      positional_.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    const std::size_t eq = a.find('=');
    const std::string_view name = std::string_view(a).substr(0, eq);
    if (name == "-h" || name == "--help") {
      help_ = true;
      continue;
    }
    const Option* option = nullptr;
    for (const Option& o : options_)
      if (name == o.name || (!o.alias.empty() && name == o.alias)) option = &o;
    if (!option) {
      note(fmt::format("unknown option {}", excerpt(name)));
    } else if (!option->takes_value) {
      if (eq != std::string::npos)
        note(fmt::format("{} takes no value", option->name));
      else
        values_[std::string(option->name)] = "";
    } else if (eq != std::string::npos) {
      values_[std::string(option->name)] = a.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      values_[std::string(option->name)] = args[++i];
    } else {
      note(fmt::format("{} needs a value", name));
    }
  }
  if (mistake && !help_) throw Usage(*mistake);
}

const Option& Args::declared(std::string_view name) const {
  for (const Option& o : options_)
    if (o.name == name) return o;
  throw std::logic_error(fmt::format("option {} is not declared", name));
}

bool Args::has(std::string_view name) const {
  declared(name);
  return values_.find(name) != values_.end();
}

std::optional<std::string> Args::value(std::string_view name) const {
  if (!declared(name).takes_value)
    throw std::logic_error(fmt::format("option {} takes no value", name));
  const auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::string(std::string_view name, std::string fallback) const {
  return value(name).value_or(std::move(fallback));
}

long Args::integer(std::string_view name, long fallback, long lo, long hi) const {
  const std::optional<std::string> text = value(name);
  if (!text) return fallback;
  const std::optional<long> v = to_long(*text);
  if (!v || *v < lo || *v > hi)
    throw Usage(
        fmt::format("{} '{}': expected an integer in [{}, {}]", name, excerpt(*text), lo, hi));
  return *v;
}

std::string Args::one_of(std::string_view name,
                         std::initializer_list<std::string_view> choices) const {
  const std::string choice = string(name, std::string(*choices.begin()));
  if (std::find(choices.begin(), choices.end(), choice) != choices.end()) return choice;
  std::string expected;
  for (std::size_t i = 0; i < choices.size(); ++i)
    expected += fmt::format("{}{}",
                            i == 0                    ? ""
                            : i + 1 == choices.size() ? " or "
                                                      : ", ",
                            choices.begin()[i]);
  throw Usage(fmt::format("{} '{}': expected {}", name, excerpt(choice), expected));
}

double Args::real(std::string_view name, double fallback) const {
  const std::optional<std::string> text = value(name);
  if (!text) return fallback;
  double v = 0;
  const char* const end = text->data() + text->size();
  const auto [stop, ec] = std::from_chars(text->data(), end, v);
  if (ec != std::errc() || stop != end || !std::isfinite(v))
    throw Usage(fmt::format("{} '{}': expected a number", name, excerpt(*text)));
  return v;
}

int Args::order(std::string_view name, int fallback) const {
  const std::optional<std::string> text = value(name);
  if (!text) return fallback;
  const std::optional<long> v = to_long(*text);
  if (!v) throw Usage(fmt::format("{} expects an integer, got '{}'", name, excerpt(*text)));
  if (*v < 0) throw Usage(fmt::format("{} must be >= 0, got {}", name, *v));
  if (*v > diagrams::max_order)
    throw Usage(fmt::format(
        "{} {} is beyond the largest supported order, {} (diagram multiplicities are counted in "
        "64 bits)",
        name, *v, diagrams::max_order));
  return static_cast<int>(*v);
}

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> parts;
  while (true) {
    const std::size_t comma = text.find(',');
    parts.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) return parts;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace flowaction
