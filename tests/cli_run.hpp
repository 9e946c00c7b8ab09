// One run of the command line in-process, its status and both outputs captured, for the test
// suites that drive commands end to end.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "frontends/cli.hpp"

namespace testing_support {

struct Run {
  int status;
  std::string out, err;
};

inline Run cli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int status = flowaction::run_cli(args, out, err);
  return {status, out.str(), err.str()};
}

inline bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace testing_support
