#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <iostream>
#include <vector>

#include "skip.hpp"

namespace {
std::vector<std::string> skipped;
}

namespace testing_support {

void skip(const std::string& reason) {
  skipped.push_back(reason);
  std::cout << "SKIPPED: " << reason << '\n';
}

}  // namespace testing_support

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int status = context.run();
  if (context.shouldExit()) return status;
  // doctest counts a test case that returned early as passed; scripts/test.sh subtracts these.
  std::cout << "[flowaction] skipped test cases: " << skipped.size() << '\n';
  for (const std::string& r : skipped) std::cout << "[flowaction]   " << r << '\n';
  return status;
}
