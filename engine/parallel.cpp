#include "engine/parallel.hpp"

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace flowaction {

namespace {

std::atomic<unsigned> thread_count{0};

}  // namespace

unsigned hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

void set_threads(unsigned n) {
  thread_count = n;
}

unsigned threads() {
  const unsigned n = thread_count;
  return n == 0 ? hardware_threads() : n;
}

void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn) {
  const std::size_t workers = std::min<std::size_t>(threads(), n);
  if (workers <= 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  const auto work = [&] {
    for (std::size_t i; (i = next++) < n;) {
      try {
        fn(i);
      } catch (...) {
        const std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
        next = n;  // the others stop after their current item
      }
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

void parallel_ranges(std::size_t n, bool use_threads,
                     const std::function<void(std::size_t, std::size_t)>& fn) {
  const std::size_t ranges = use_threads ? std::min<std::size_t>(n, 16 * threads()) : 1;
  parallel_for(ranges, [&](std::size_t range) {
    const std::size_t begin = range * n / ranges, end = (range + 1) * n / ranges;
    if (begin < end) fn(begin, end);
  });
}

}  // namespace flowaction
