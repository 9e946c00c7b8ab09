// Signals held back on the calling thread for a scope: the threads it starts meanwhile inherit the
// mask, and a signal that arrives meanwhile is delivered once the scope ends (or to a thread that
// does not hold it back).
#pragma once

#include <pthread.h>

#include <csignal>
#include <initializer_list>

namespace flowaction {

class SignalMask {
 public:
  // Holds back `signals` (a braced list or any range of ints); with all_but, every signal but them.
  template <class Signals = std::initializer_list<int>>
  explicit SignalMask(const Signals& signals, bool all_but = false) {
    sigset_t set;
    if (all_but) {
      sigfillset(&set);
      for (int s : signals) sigdelset(&set, s);
    } else {
      sigemptyset(&set);
      for (int s : signals) sigaddset(&set, s);
    }
    ::pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~SignalMask() { ::pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalMask(const SignalMask&) = delete;
  SignalMask& operator=(const SignalMask&) = delete;

 private:
  sigset_t old_;
};

}  // namespace flowaction
