// Dispatch on a variant by std::visit over an overload set: a new alternative is a compile error
// until every visitor handles it.
#pragma once

namespace flowaction {

template <class... F>
struct overload : F... {
  using F::operator()...;
};
template <class... F>
overload(F...) -> overload<F...>;

}  // namespace flowaction
