// The subcommands of issue 4: sample (φ⁴ lattice HMC), train (maximum-likelihood flow), generate
// (samples from a trained flow). Each takes the arguments after its name and returns the exit
// status: 0 ok, 1 error (one line on err), 2 wrong usage.
#pragma once

#include <ostream>
#include <span>
#include <string>

namespace flowaction {

int cmd_sample(std::span<const std::string> args, std::ostream& out, std::ostream& err);
int cmd_train(std::span<const std::string> args, std::ostream& out, std::ostream& err);
int cmd_generate(std::span<const std::string> args, std::ostream& out, std::ostream& err);

}  // namespace flowaction
