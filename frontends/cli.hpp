// The command-line tool, callable in-process (tests) and from main().
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace flowaction {

// Runs `flowaction ARGS…`; returns the exit status: 0 done, 1 error, 2 wrong usage.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace flowaction
