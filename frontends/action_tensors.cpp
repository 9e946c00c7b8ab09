#include "frontends/action_tensors.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "engine/component_print.hpp"
#include "engine/error.hpp"
#include "frontends/npy.hpp"

namespace flowaction {

namespace {

// Little-endian bytes of a value (the order both formats store), at p; returns p + sizeof(V).
template <class V>
char* store_le(char* p, V v) {
  std::memcpy(p, &v, sizeof(V));
  if constexpr (std::endian::native == std::endian::big) std::reverse(p, p + sizeof(V));
  return p + sizeof(V);
}

template <class V, class Out>
void append_le(Out& out, V v) {
  char bytes[sizeof(V)];
  store_le(bytes, v);
  out.append(bytes, bytes + sizeof(V));
}

RawTensor dense_tensor(const SymTensor<double>& t, int d, const std::string& prefix) {
  const int k = t.order();
  RawTensor out{fmt::format("{}gamma{}", prefix, k), "F64", std::vector<std::size_t>(k, d), {}};
  std::size_t n = 1;
  for (int p = 0; p < k; ++p) n *= static_cast<std::size_t>(d);
  out.data.reserve(8 * n);
  // Every full index in C order, its component found through the sorted copy.
  multi_index full(static_cast<std::size_t>(k), 0), sorted(full);
  for (std::size_t r = 0; r < n; ++r) {
    std::copy(full.begin(), full.end(), sorted.begin());
    std::sort(sorted.begin(), sorted.end());
    append_le(out.data, t.at(sorted));
    for (int p = k - 1; p >= 0 && ++full[p] == d; --p) full[p] = 0;
  }
  return out;
}

}  // namespace

bool is_binary_format(std::string_view format) {
  return format == "npz" || format == "safetensors";
}

double dense_bytes(int dim, int order) {
  double total = 0;
  for (int k = 0; k <= order; ++k) total += 8.0 * std::pow(static_cast<double>(dim), k);
  return total;
}

double binary_output_bytes(int dim, int order, bool dense, int actions) {
  double one = 0;  // the tensors of one action
  if (dense)
    one = dense_bytes(dim, order);
  else
    for (int k = 0; k <= order; ++k) one += (4.0 * k + 8.0) * static_cast<double>(sym_size(dim, k));
  return actions * one + (actions > 1 ? 8.0 * dim * actions : 0);  // and stage{s}_at
}

std::vector<RawTensor> action_tensors(const Action<double>& action, bool dense,
                                      const std::string& prefix) {
  std::vector<RawTensor> out;
  const int d = action.dim;
  if (dense) {
    for (const SymTensor<double>& t : action.vertices) out.push_back(dense_tensor(t, d, prefix));
    return out;
  }
  for (int k = 0; k <= action.order(); ++k) {
    // Room for every component (rarely is one exactly 0): no growth by doubling.
    const std::size_t n = action.vertices[static_cast<std::size_t>(k)].size();
    out.push_back(
        {fmt::format("{}gamma{}_index", prefix, k), "I32", {0, static_cast<std::size_t>(k)}, {}});
    out.back().data.reserve(4 * static_cast<std::size_t>(k) * n);
    out.push_back({fmt::format("{}gamma{}_value", prefix, k), "F64", {0}, {}});
    out.back().data.reserve(8 * n);
  }
  // The JSON writer's traversal (threads, prefetching): records of k int32 and one double per
  // nonzero component, in reading order, split into the two tensors.
  format_nonzero(
      action.vertices, 0, d,
      [](fmt::memory_buffer& b, int k, const multi_index& i, double v) {
        const std::size_t at = b.size();
        b.resize(at + 4 * static_cast<std::size_t>(k) + 8);
        char* p = b.data() + at;
        for (int u : i) p = store_le(p, static_cast<std::int32_t>(u));
        store_le(p, v);
      },
      [&](int k, std::string_view records) {
        RawTensor& index = out[2 * static_cast<std::size_t>(k)];
        RawTensor& value = out[2 * static_cast<std::size_t>(k) + 1];
        const std::size_t width = 4 * static_cast<std::size_t>(k), record = width + 8;
        const std::size_t n = records.size() / record;
        const std::size_t i0 = index.data.size(), v0 = value.data.size();
        index.data.resize(i0 + n * width);
        value.data.resize(v0 + n * 8);
        for (std::size_t r = 0; r < n; ++r) {
          std::memcpy(index.data.data() + i0 + r * width, records.data() + r * record, width);
          std::memcpy(value.data.data() + v0 + r * 8, records.data() + r * record + width, 8);
        }
        index.shape[0] += n, value.shape[0] += n;
      });
  return out;
}

std::vector<RawTensor> stage_tensors(const std::vector<ActionStage>& stages, bool dense) {
  std::vector<RawTensor> out;
  for (std::size_t s = 0; s < stages.size(); ++s) {
    const auto& action = std::get<Action<double>>(stages[s].action);
    const std::string prefix = fmt::format("stage{}_", s);
    RawTensor at{prefix + "at", "F64", {stages[s].at.size()}, {}};
    // The float field writes each coordinate as its shortest round-trip decimal.
    for (const std::string& x : stages[s].at) append_le(at.data, std::stod(x));
    out.push_back(std::move(at));
    for (RawTensor& t : action_tensors(action, dense, prefix)) out.push_back(std::move(t));
  }
  return out;
}

}  // namespace flowaction
