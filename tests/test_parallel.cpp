// parallel_for on its kept threads: every index once, on several threads at once, exceptions
// passed on, nested calls, a forked child that has none of its parent's threads, and signals
// left to the thread that runs the program.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/parallel.hpp"
#include "engine/signal_mask.hpp"
#include "thread_count.hpp"

using namespace flowaction;
using testing_support::ThreadCount;

namespace {

// Calls of fn per index over one parallel_for.
std::vector<int> calls_per_index(std::size_t n) {
  std::vector<std::atomic<int>> calls(n);
  parallel_for(n, [&](std::size_t i) { ++calls[i]; });
  std::vector<int> out;
  for (const auto& c : calls) out.push_back(c.load());
  return out;
}

// Whether `want` threads are inside fn at the same moment: each of the first `want` items waits
// (up to 10 s) for the others to arrive.
bool meet(unsigned want) {
  std::atomic<unsigned> arrived{0};
  std::atomic<bool> met{true};
  parallel_for(want, [&](std::size_t) {
    ++arrived;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (arrived.load() < want)
      if (std::chrono::steady_clock::now() > until) {
        met = false;
        return;
      }
  });
  return met;
}

// The exit status of a forked child that runs body() and exits with what it returns; -1 when
// the child ended otherwise (a signal, or the 20 s alarm that stops one left waiting).
int child_exit_status(const std::function<int()>& body) {
  std::fflush(nullptr);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGALRM, SIG_DFL);
    ::alarm(20);
    ::_exit(body());
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("parallel_for: every index exactly once, for any thread count, run after run") {
  for (unsigned t : {1u, 2u, 3u, 5u}) {
    const ThreadCount threads(t);
    for (int run = 0; run < 50; ++run) {
      const std::size_t n = static_cast<std::size_t>(run % 7) * 13;  // 0, 13, …, 78 items
      CAPTURE(t);
      CAPTURE(n);
      CHECK(calls_per_index(n) == std::vector<int>(n, 1));
    }
  }
}

TEST_CASE("parallel_for: the threads asked for work at the same time, again on later calls") {
  for (unsigned t : {2u, 3u, 2u, 4u}) {
    const ThreadCount threads(t);
    CAPTURE(t);
    CHECK(meet(t));
    CHECK(meet(t));
  }
}

TEST_CASE("parallel_for: an exception reaches the caller once all stopped; the pool still works") {
  const ThreadCount threads(3);
  std::atomic<int> inside{0}, finished{0};
  int inside_when_caught = -1;
  std::string message;
  try {
    parallel_for(1000, [&](std::size_t i) {
      ++inside;
      if (i == 17) {
        --inside;
        throw std::runtime_error("item 17");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      ++finished;
      --inside;
    });
  } catch (const std::runtime_error& e) {
    inside_when_caught = inside.load();
    message = e.what();
  }
  CHECK(message == "item 17");
  CHECK(inside_when_caught == 0);  // every thread had left its item
  CHECK(finished.load() < 100);    // the others stopped after their current item
  CHECK(calls_per_index(40) == std::vector<int>(40, 1));
  CHECK(meet(3));
}

TEST_CASE("parallel_for: a call inside an item runs there, on that thread, every index once") {
  const ThreadCount threads(2);
  std::vector<std::atomic<int>> calls(8 * 9);
  parallel_for(8, [&](std::size_t i) {
    const auto outer = std::this_thread::get_id();
    parallel_for(9, [&](std::size_t j) {
      CHECK(std::this_thread::get_id() == outer);
      ++calls[i * 9 + j];
    });
  });
  for (const auto& c : calls) CHECK(c.load() == 1);
}

TEST_CASE("parallel_for: a forked child starts its own threads (its parent's are not in it)") {
  const ThreadCount threads(2);
  REQUIRE(meet(2));  // the parent's pool exists and has been used
  CHECK(child_exit_status([] {
          const bool ok = meet(2) && calls_per_index(30) == std::vector<int>(30, 1);
          return ok ? 0 : 3;
        }) == 0);
}

TEST_CASE("parallel_for: a signal sent to the process reaches the thread that runs the program") {
  // The writers hold SIGINT and SIGTERM back on their thread while several files change together;
  // a kept thread that took the signal instead would end the process halfway.
  CHECK(child_exit_status([] {
          std::signal(SIGTERM, SIG_DFL);  // as in the command-line tool (doctest installs its own)
          set_threads(3);
          if (!meet(3)) return 3;  // the kept threads exist
          const SignalMask term({SIGTERM});
          ::kill(::getpid(), SIGTERM);
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          ::_exit(0);  // with SIGTERM still pending and held back: no other thread took it
        }) == 0);
}
