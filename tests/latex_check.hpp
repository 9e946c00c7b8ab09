// What the LaTeX test suites share: a command run that must succeed, counting the parts of a
// document, and compiling a document with every TeX engine --engine accepts (an engine that is
// not installed is reported with skip(), never passed).
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "frontends/latex_compile.hpp"
#include "skip.hpp"
#include "tests/cli_run.hpp"
#include "tests/temp_dir.hpp"

namespace testing_support {

// The command's standard output; the test stops unless it exits 0.
inline std::string run_ok(const std::vector<std::string>& args) {
  const Run r = cli(args);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  return r.out;
}

inline std::size_t count(const std::string& s, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = s.find(part); at != std::string::npos; at = s.find(part, at + 1)) ++n;
  return n;
}

// Compiles the complete document with pdflatex and with lualatex in dir, and checks each PDF.
inline void compile_with_every_engine(const std::string& document, const TempDir& dir) {
  for (const std::string_view engine : flowaction::tex_engines) {
    CAPTURE(engine);
    if (!flowaction::tex_available(engine)) {
      skip(fmt::format("{} is not installed (apt-get install {})", engine,
                       flowaction::tex_packages(engine)));
      continue;
    }
    const std::filesystem::path tex = dir.write(fmt::format("all_{}.tex", engine), document);
    const std::filesystem::path pdf = flowaction::compile_pdf(tex, engine);
    CHECK(pdf == dir.path / fmt::format("all_{}.pdf", engine));
    std::ifstream in(pdf, std::ios::binary);
    std::string head(5, '\0');
    in.read(head.data(), 5);
    CHECK(head == "%PDF-");
    CHECK(std::filesystem::file_size(pdf) > 10000);
  }
}

}  // namespace testing_support
