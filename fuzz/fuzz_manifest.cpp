// libFuzzer: the manifest reader (exact JSON, layer checks). Tensor files are not opened: a
// "tensors" entry names a file that does not exist, which must be an Error too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/error.hpp"
#include "frontends/manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)flowaction::parse_manifest(std::string_view(reinterpret_cast<const char*>(data), size),
                                     "fuzz.flow.json", "/nonexistent-flowaction-fuzz");
  } catch (const flowaction::Error&) {
  }
  return 0;
}
