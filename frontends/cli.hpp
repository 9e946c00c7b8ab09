// The command-line tool, callable in-process (tests) and from main().
#pragma once

#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "frontends/args.hpp"

namespace flowaction {

// A subcommand as run_cli knows it: how it is listed, its help and options, and its body. The
// body returns the exit status and reports failures by throwing Usage or flowaction::Error.
struct Command {
  std::string_view name;       // "extract"
  std::string_view arguments;  // "MODEL", beside the name in the main help
  std::string_view summary;    // one line of the main help
  std::string_view help;       // printed by --help; lists every option
  std::span<const Option> options;
  int (*run)(const Args& args, std::ostream& out, std::ostream& err);
};

// Every subcommand, in the order of the main help.
std::span<const Command* const> commands();

// Runs `flowaction ARGS…`; returns the exit status: 0 done, 1 error, 2 wrong usage. Every error
// is one line on err, "flowaction COMMAND: MESSAGE".
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace flowaction
