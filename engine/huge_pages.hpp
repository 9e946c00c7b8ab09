// Large float buffers backed by 2 MiB pages where the kernel offers them (transparent huge pages
// in "madvise" mode, the common default): a tensor of many megabytes then faults in once per
// 2 MiB instead of once per 4 KiB — at d = 64 the page faults were a tenth of an extract.
#pragma once

#include <cstddef>
#include <type_traits>
#include <vector>

namespace flowaction {

// Below this a buffer gains too little (its whole 2 MiB pages are few or none).
inline constexpr std::size_t huge_page_threshold = std::size_t{4} << 20;

// Asks for huge pages behind the whole 2 MiB pages inside [p, p + bytes), before they are
// touched. Best effort: a no-op for small buffers, and where the kernel refuses or lacks THP.
void advise_huge_pages(const void* p, std::size_t bytes);

// v.assign(n, value), with huge pages asked for first when v is large (v.reserve allocates
// without touching; assign then fills the advised pages).
template <class T>
void assign_advised(std::vector<T>& v, std::size_t n, const T& value) {
  if constexpr (std::is_trivially_copyable_v<T>) {
    if (n * sizeof(T) >= huge_page_threshold && v.capacity() < n) {
      const T fill = value;  // value may live in v, which is freed first
      std::vector<T>().swap(v);
      v.reserve(n);
      advise_huge_pages(v.data(), n * sizeof(T));
      v.assign(n, fill);
      return;
    }
  }
  v.assign(n, value);
}

}  // namespace flowaction
