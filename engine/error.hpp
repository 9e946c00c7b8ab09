// One error type for everything a user can get wrong: its message is the single line printed.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace flowaction {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A value echoed in a message, cut to its first `keep` characters and "…" so that a 200 kB number
// cannot flood the one line. The cut never splits a UTF-8 sequence.
inline std::string excerpt(std::string_view text, std::size_t keep = 40) {
  if (text.size() <= keep) return std::string(text);
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xc0) == 0x80) --keep;
  return std::string(text.substr(0, keep)) + "… (" + std::to_string(text.size()) + " characters)";
}

}  // namespace flowaction
