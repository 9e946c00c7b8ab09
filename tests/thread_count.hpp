// The float field's thread count for one scope of a test (set_threads), back to the machine's
// cores at its end, so that no test case leaves its count to the next.
#pragma once

#include "engine/parallel.hpp"

namespace testing_support {

struct ThreadCount {
  explicit ThreadCount(unsigned n) { flowaction::set_threads(n); }
  ~ThreadCount() { flowaction::set_threads(0); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;
};

}  // namespace testing_support
