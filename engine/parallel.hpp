// Threads for the float field's hot loops (the contractions of the pullback) and its writers
// (--threads). Work is split so that every result is the same as on one thread: each output is
// computed by exactly one thread, in the same order of operations. The exact and symbolic fields
// always run on one thread (GiNaC's reference counts are not atomic).
#pragma once

#include <cstddef>
#include <functional>

namespace flowaction {

// The number of threads parallel_for uses; 0 means the machine's cores.
void set_threads(unsigned n);
unsigned threads();
// The machine's cores (at least 1).
unsigned hardware_threads();

// Calls fn(i) once for every i in [0, n), on up to threads() threads taking indices in rising
// order from a shared counter (so uneven items balance). The first exception thrown is rethrown
// once every thread has stopped. The threads are kept for the next call; a call made from inside
// fn (or while another thread's call runs) runs on its calling thread alone.
void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn);

// Calls fn(begin, end) on contiguous ranges covering [0, n): up to 16 per thread (so uneven
// ranges balance), or one range when threads is false (fields that keep to one thread).
void parallel_ranges(std::size_t n, bool threads,
                     const std::function<void(std::size_t, std::size_t)>& fn);

}  // namespace flowaction
