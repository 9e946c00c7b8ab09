// libFuzzer: the safetensors reader either returns tensors or throws flowaction::Error; anything
// else (a crash, a sanitizer report, another exception) is a bug.
#include <cstddef>
#include <cstdint>

#include "engine/error.hpp"
#include "frontends/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const flowaction::TensorFile f = flowaction::parse_safetensors(
        {reinterpret_cast<const std::byte*>(data), size}, "fuzz.safetensors");
    for (const auto& [name, t] : f.tensors) {
      try {
        (void)f.get(name, "W");
      } catch (const flowaction::Error&) {
      }
    }
  } catch (const flowaction::Error&) {
  }
  return 0;
}
