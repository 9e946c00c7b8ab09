#include "engine/component_print.hpp"

#include <sstream>

namespace flowaction {

std::string value_string(double x) {
  return fmt::format("{}", x);
}

std::string value_string(const GiNaC::ex& x) {
  std::ostringstream s;
  x.print(GiNaC::print_dflt(s));
  return s.str();
}

}  // namespace flowaction
