// A test case that cannot run because a tool it needs is missing says so with skip() and
// returns: the test main reports it, and scripts/test.sh counts it as skipped, never as passed.
#pragma once

#include <string>

namespace testing_support {

// Call once per test case, then return from it.
void skip(const std::string& reason);

}  // namespace testing_support
