#include "engine/parallel.hpp"

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "engine/signal_mask.hpp"

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

namespace {

// Threads kept for parallel_for: starting and joining one costs about 40 µs in a virtual
// machine, and a run calls parallel_for tens of times. The caller works too; helper i takes part
// in a run when i < the helpers it asks for.
class Pool {
 public:
  // Runs work on the caller and on up to `helpers` pool threads (fewer when no more can be
  // started); returns once every one has finished it.
  void run(std::size_t helpers, const std::function<void()>& work) {
    std::unique_lock lock(mutex_);
    if (threads_.size() < helpers) {
      // The threads inherit the mask: a signal sent to the process (SIGINT, SIGTERM) reaches the
      // program's thread, where the writers hold it back while several files change together.
      const SignalMask signals({SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT}, true);
      try {
        while (threads_.size() < helpers)
          threads_.emplace_back([this, i = threads_.size(), seen = generation_] { loop(i, seen); });
      } catch (const std::system_error&) {
        helpers = threads_.size();  // the system would start no more
      }
    }
    job_ = &work;
    wanted_ = helpers;
    pending_ = helpers;
    ++generation_;
    lock.unlock();
    start_.notify_all();
    try {
      work();
    } catch (...) {
      wait_for_helpers();
      throw;
    }
    wait_for_helpers();
  }

 private:
  void wait_for_helpers() {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return pending_ == 0; });
  }

  void loop(std::size_t index, std::size_t seen) {
    std::unique_lock lock(mutex_);
    for (;;) {
      start_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (index >= wanted_) continue;
      const std::function<void()>& job = *job_;
      lock.unlock();
      job();
      lock.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable start_, done_;
  std::vector<std::thread> threads_;
  const std::function<void()>* job_ = nullptr;
  std::size_t wanted_ = 0, pending_ = 0, generation_ = 0;
};

// One run at a time; a call from inside a run, or while another thread's run holds the pool,
// works alone.
std::mutex pool_mutex;
thread_local bool in_run = false;

// The process's pool, never destroyed: its threads wait at exit, as detached ones would. A child
// made by fork() has none of its parent's threads: it starts a pool of its own, and keeps the
// parent's reachable (a leak checker at the child's exit would otherwise report it).
Pool* the_pool = nullptr;
Pool* forked_away = nullptr;

Pool& pool() {
  if (the_pool == nullptr) {
    static const int registered = ::pthread_atfork(nullptr, nullptr, [] {
      if (the_pool != nullptr) forked_away = the_pool;
      the_pool = nullptr;
    });
    (void)registered;
    the_pool = new Pool;  // NOLINT(cppcoreguidelines-owning-memory): lives as long as the process
  }
  return *the_pool;
}

}  // namespace

void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn) {
  const std::size_t workers = std::min<std::size_t>(threads(), n);
  std::unique_lock lock(pool_mutex, std::defer_lock);
  if (workers <= 1 || in_run || !lock.try_lock()) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  const std::function<void()> work = [&] {
    in_run = true;
    for (std::size_t i; (i = next++) < n;) {
      try {
        fn(i);
      } catch (...) {
        const std::lock_guard error_lock(error_mutex);
        if (!error) error = std::current_exception();
        next = n;  // the others stop after their current item
      }
    }
    in_run = false;
  };
  pool().run(workers - 1, work);
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
