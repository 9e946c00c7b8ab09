#include <iostream>

#include "frontends/cli.hpp"

int main(int argc, char** argv) {
  return flowaction::run_cli(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
