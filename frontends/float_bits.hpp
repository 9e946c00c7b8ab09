// Binary floating-point values of tensor files, decoded to double. Every supported format
// (float16, bfloat16, float32, float64) is a subset of double, so the decoding is exact.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

namespace flowaction {

// IEEE 754 binary16 by its bit layout: 1 sign, 5 exponent (bias 15), 10 fraction bits.
inline double half_to_double(std::uint16_t h) {
  const int sign = (h >> 15) & 1;
  const int exp = (h >> 10) & 0x1f;
  const int frac = h & 0x3ff;
  double v;
  if (exp == 0)
    v = std::ldexp(static_cast<double>(frac), -24);
  else if (exp == 31)
    v = frac ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else
    v = std::ldexp(static_cast<double>(frac | 0x400), exp - 25);
  return sign ? -v : v;
}

// bfloat16 is the upper half of a binary32.
inline double bfloat16_to_double(std::uint16_t h) {
  return static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16));
}

inline std::uint16_t swap_bytes(std::uint16_t u) {
  return __builtin_bswap16(u);
}
inline std::uint32_t swap_bytes(std::uint32_t u) {
  return __builtin_bswap32(u);
}
inline std::uint64_t swap_bytes(std::uint64_t u) {
  return __builtin_bswap64(u);
}

// An unsigned integer stored at p in the given byte order (p need not be aligned).
template <class U>
U load_bits(const std::byte* p, bool big_endian) {
  U u;
  std::memcpy(&u, p, sizeof(U));
  if (big_endian != (std::endian::native == std::endian::big)) u = swap_bytes(u);
  return u;
}

// A float element of `item` bytes (2, 4 or 8) at p; `brain` selects bfloat16 for 2 bytes.
inline double load_float(const std::byte* p, std::size_t item, bool big_endian,
                         bool brain = false) {
  if (item == 8) return std::bit_cast<double>(load_bits<std::uint64_t>(p, big_endian));
  if (item == 4)
    return static_cast<double>(std::bit_cast<float>(load_bits<std::uint32_t>(p, big_endian)));
  const std::uint16_t h = load_bits<std::uint16_t>(p, big_endian);
  return brain ? bfloat16_to_double(h) : half_to_double(h);
}

// A 32-bit signed integer at p (the index tables flowaction writes), exact as a double.
inline double load_int32(const std::byte* p, bool big_endian) {
  return static_cast<double>(static_cast<std::int32_t>(load_bits<std::uint32_t>(p, big_endian)));
}

}  // namespace flowaction
