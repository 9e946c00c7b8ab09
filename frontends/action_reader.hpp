// Reads an action file, format "flowaction-action/1": what `extract` writes, the sampler's
// `.truth.json`, or one written by hand. Values are exact rationals ("1/3", or a JSON decimal:
// 0.1 is 1/10), expressions (a value "g" stays the symbol g; decimals in them are exact too) or,
// in a file whose "field" is "float", double-precision numbers.
#pragma once

#include <ginac/ginac.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "engine/action.hpp"

namespace flowaction {

struct ActionFile {
  // Action<double> if the file's field is "float"; otherwise Action<GiNaC::ex>, its info.field
  // "symbolic" as soon as a vertex of order ≥ 1 is not a rational number, else "exact".
  AnyAction action;
  ActionInfo info;                 // field, at, symbols, source (the file's "source", or "")
  std::vector<GiNaC::numeric> at;  // the expansion point x₀, exact; one per unit
};

// Reads and checks an action file; throws flowaction::Error "FILE: field 'F': problem" or
// "FILE: vertex N: field 'F': problem" (vertices numbered from 1).
ActionFile read_action(const std::filesystem::path& path);
ActionFile parse_action(std::string_view text, const std::string& source);

// A value as the action and cumulant files write it: "p/q", a decimal, or an expression whose
// names become real symbols kept in table (the same name, the same symbol). Throws
// std::invalid_argument with the reason.
GiNaC::ex parse_value(const std::string& text, GiNaC::symtab& table);

}  // namespace flowaction
