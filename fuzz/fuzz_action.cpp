// libFuzzer: the action-file reader (exact JSON, vertex checks, values as rationals or
// expressions parsed by GiNaC).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/error.hpp"
#include "frontends/action_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)flowaction::parse_action(std::string_view(reinterpret_cast<const char*>(data), size),
                                   "fuzz.action.json");
  } catch (const flowaction::Error&) {
  }
  return 0;
}
