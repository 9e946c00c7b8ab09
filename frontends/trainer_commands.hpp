// The subcommands of issue 4: sample (φ⁴ lattice HMC), train (maximum-likelihood flow), generate
// (samples from a trained flow). run_cli parses their options and reports their errors.
#pragma once

#include "frontends/cli.hpp"

namespace flowaction {

extern const Command sample_command;
extern const Command train_command;
extern const Command generate_command;
extern const Command verify_command;

}  // namespace flowaction
