// One error type for everything a user can get wrong: its message is the single line printed.
#pragma once

#include <stdexcept>
#include <string>

namespace flowaction {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace flowaction
