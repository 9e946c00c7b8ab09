// libFuzzer: the .npz reader (libzip + the .npy reader) and the .npy reader on its own. An input
// starting with the zip signature goes to parse_npz, anything else to parse_npy_tensor/parse_npy.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "engine/error.hpp"
#include "frontends/npy.hpp"
#include "frontends/npz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    if (size >= 2 && std::memcmp(data, "PK", 2) == 0) {
      const flowaction::TensorFile f = flowaction::parse_npz(bytes, "fuzz.npz");
      for (const auto& [name, t] : f.tensors) {
        try {
          (void)f.get(name, "W");
        } catch (const flowaction::Error&) {
        }
      }
    } else {
      (void)flowaction::parse_npy_tensor(bytes, "fuzz.npy");
      (void)flowaction::parse_npy(bytes, "fuzz.npy");
    }
  } catch (const flowaction::Error&) {
  }
  return 0;
}
