// flowaction inspect: the report of a model read from a tensor file, and samples outside the
// invertible domain counted by layer and unit (expected values worked out by hand below).
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "frontends/cli.hpp"

using namespace flowaction;
namespace fs = std::filesystem;

namespace {

int run(std::vector<std::string> args, std::string& out, std::string& err) {
  std::ostringstream o, e;
  const int rc = run_cli(args, o, e);
  out = o.str();
  err = e.str();
  return rc;
}

const std::string model =
    (fs::path(FLOWACTION_SOURCE_DIR) / "tests" / "data" / "weights.flow.json").string();

}  // namespace

TEST_CASE("inspect: layers, dtypes, det W, parameters and phi' at the expansion point") {
  std::string out, err;
  REQUIRE(run({"inspect", model}, out, err) == 0);
  CHECK(out.find("W 2x2 F32 'W'") != std::string::npos);
  CHECK(out.find("alpha 2 F16 'alpha'") != std::string::npos);
  CHECK(out.find("det W = 0.03\n") != std::string::npos);  // 0.5·0.1 − 0.1·0.2 (float32 weights)
  CHECK(out.find("parameters: 6\n") != std::string::npos);
  CHECK(out.find("smallest phi' at x0 = 1 (unit 0)") != std::string::npos);
  // At x0 = (0.5, -3): y = W x0 = (-0.05, -0.2); phi' = 1 + 2 alpha y: 0.975 and 1 - 0.4 *
  // 0.0999755859375.
  REQUIRE(run({"inspect", model, "--at", "0.5,-3"}, out, err) == 0);
  CHECK(out.find("smallest phi' at x0 = 0.96001 (unit 1)") != std::string::npos);
}

TEST_CASE("inspect: --data counts the samples leaving the invertible domain, by layer and unit") {
  const fs::path dir =
      fs::temp_directory_path() / ("flowaction_inspect_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // y = W x with W = [[0.5, 0.1], [0.2, 0.1]]; unit i is invertible where 1 + 2 alpha_i y_i > 0.
  // (0,0): inside. (-5,0): y0 = -2.5, phi'_0 = 1 - 1.25 = -0.25. (20,-100): y = (0, -6),
  // phi'_1 = 1 - 12 * 0.0999755859375 < 0. (1,1): inside.
  std::ofstream(dir / "x.csv") << "0,0\n-5,0\n20,-100\n1,1\n";
  std::ofstream(dir / "bad.csv") << "0,0,0\n";
  std::string out, err;
  REQUIRE(run({"inspect", model, "--data", (dir / "x.csv").string()}, out, err) == 0);
  CHECK(out.find("4 samples, 2 outside the invertible domain") != std::string::npos);
  CHECK(out.find("first: sample 1 at layer 2, unit 0 (phi' = -0.25)") != std::string::npos);
  CHECK(out.find("layer 2, unit 0: 1 samples") != std::string::npos);
  CHECK(out.find("layer 2, unit 1: 1 samples") != std::string::npos);
  CHECK(run({"inspect", model, "--data", (dir / "bad.csv").string()}, out, err) == 1);
  CHECK(err.find("bad.csv: 3 units per sample, the model has dim 2") != std::string::npos);
  CHECK(run({"inspect"}, out, err) == 2);
  fs::remove_all(dir);
}
