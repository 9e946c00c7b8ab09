#include "frontends/tensor_file.hpp"

#include <fmt/format.h>

#include <cctype>
#include <climits>
#include <cmath>

#include "engine/error.hpp"
#include "frontends/input_file.hpp"
#include "frontends/npz.hpp"
#include "frontends/safetensors.hpp"

namespace flowaction {

GiNaC::numeric exact_value(double x) {
  if (x == 0) return 0;
  int e = 0;
  const double m = std::frexp(x, &e);  // x = m·2^e, 1/2 <= |m| < 1
  // m·2^53 is an integer of at most 53 bits: the double's significand, exactly.
  const auto significand = static_cast<long>(std::ldexp(m, 53));
  return GiNaC::numeric(significand) * GiNaC::pow(GiNaC::numeric(2), GiNaC::numeric(e - 53));
}

Tensor TensorFile::get(const std::string& key, const std::string& field) const {
  const auto it = tensors.find(key);
  if (it == tensors.end()) {
    std::string known;
    std::size_t listed = 0;
    for (const auto& [k, t] : tensors) {
      if (listed++ == 8) {
        known += ", …";
        break;
      }
      known += (known.empty() ? "" : ", ") + k;
    }
    throw Error(fmt::format("{}: tensor '{}': not in the file (it holds {})", name, excerpt(key),
                            known.empty() ? "no tensors" : known));
  }
  const StoredTensor& s = it->second;
  if (s.shape.size() > 2)
    throw Error(fmt::format("{}: tensor '{}': has {} dimensions, a layer field has at most 2", name,
                            key, s.shape.size()));
  Tensor t;
  t.name = field;
  t.dtype = s.dtype;
  t.stored_as = key;
  for (const std::size_t n : s.shape) {
    if (n > INT_MAX)
      throw Error(fmt::format("{}: tensor '{}': dimension {} is too large", name, key, n));
    t.shape.push_back(static_cast<int>(n));
  }
  if (s.values.empty()) throw Error(fmt::format("{}: tensor '{}': is empty", name, key));
  t.values.reserve(s.values.size());
  for (std::size_t k = 0; k < s.values.size(); ++k) {
    const double v = s.values[k];
    if (!std::isfinite(v))
      throw Error(fmt::format("{}: tensor '{}': element {} is {}", name, key, k,
                              std::isnan(v) ? "NaN" : "infinite"));
    t.values.push_back(exact_value(v));
  }
  return t;
}

TensorFile read_tensor_file(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext != ".safetensors" && ext != ".npz")
    throw Error(fmt::format("{}: unknown tensor file type '{}' (.safetensors or .npz)",
                            path.string(), ext));
  const std::string bytes =
      read_input_file(path, ext == ".npz" ? "a .npz tensor file" : "a .safetensors tensor file",
                      max_tensor_file_bytes);
  const auto span = std::as_bytes(std::span(bytes.data(), bytes.size()));
  return ext == ".npz" ? parse_npz(span, path.string()) : parse_safetensors(span, path.string());
}

}  // namespace flowaction
