// The sample / train / generate commands end to end on small inputs: exit statuses, one-line
// errors naming the file, no output left behind on failure, and the truth sidecar's vertices.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "frontends/cli.hpp"
#include "frontends/npy.hpp"
#include "tests/temp_dir.hpp"

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

}  // namespace

TEST_CASE("trainer cli: sample writes samples and the true vertices; train and generate follow") {
  TempDir dir("trainer_cli");
  std::string out, err;
  REQUIRE(run({"sample", "phi4", "--lattice", "3", "--m2", "0.5", "--lambda", "2", "--samples",
               "600", "--seed", "1", "--thermalise", "100", "--pilot", "200", "-o", dir / "p.npy"},
              out, err) == 0);
  const NpyArray a = read_npy(dir / "p.npy");
  CHECK(a.rows == 600);
  CHECK(a.cols == 3);
  std::ifstream in(dir / "p.truth.json");
  const auto j = nlohmann::json::parse(in);
  CHECK(j["format"] == "flowaction-action/1");
  std::map<std::string, double> v;
  for (const auto& e : j["vertices"]) v[e["index"].dump()] = e["float"].get<double>();
  CHECK(v["[0,0]"] == 2.5);  // 2 + m2
  CHECK(v["[0,1]"] == -1.0);
  CHECK(v["[0,2]"] == -1.0);  // periodic boundary
  CHECK(v["[1,1,1,1]"] == 2.0);
  CHECK(v.count("[0,0,1,1]") == 0);
  CHECK(err.find("thinning") != std::string::npos);
  CHECK(err.find("acceptance") != std::string::npos);

  REQUIRE(run({"train", dir / "p.npy", "--epochs", "2", "--batch", "64", "--seed", "3", "-o",
               dir / "m.flow.json"},
              out, err) == 0);
  CHECK(out.find("validation") != std::string::npos);
  REQUIRE(run({"generate", dir / "m.flow.json", "--samples", "50", "-o", dir / "g.npy"}, out,
              err) == 0);
  const NpyArray g = read_npy(dir / "g.npy");
  CHECK(g.rows == 50);
  CHECK(g.cols == 3);
}

TEST_CASE("trainer cli: bad input is one line naming the file, status 1, and no output file") {
  TempDir dir("trainer_cli");
  std::string out, err;
  { std::ofstream(dir / "bad.npy") << "not numpy"; }
  CHECK(run({"train", dir / "bad.npy", "-o", dir / "m.flow.json"}, out, err) == 1);
  CHECK(err.find("bad.npy") != std::string::npos);
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  CHECK_FALSE(fs::exists(dir / "m.flow.json"));
  { std::ofstream(dir / "nan.csv") << "1,2\n3,nan\n4,5\n"; }
  CHECK(run({"train", dir / "nan.csv", "-o", dir / "m.flow.json"}, out, err) == 1);
  CHECK(err.find("nan.csv: sample 1, unit 1") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "m.flow.json"));
  // Wrong usage: status 2.
  CHECK(run({"train", dir / "nan.csv"}, out, err) == 2);
  CHECK(run({"train", dir / "nan.csv", "--arch", "resnet", "-o", "x"}, out, err) == 2);
  CHECK(run({"sample", "phi4", "-o", dir / "x.npy"}, out, err) == 2);
  CHECK(run({"generate", "--samples", "3"}, out, err) == 2);
  // A model the reader cannot use.
  {
    std::ofstream(dir / "w.json")
        << R"({"format": "flowaction/1", "dim": 2, "layers": [{"type": "affine", "W": [[1, 0]]}]})";
  }
  CHECK(run({"generate", dir / "w.json", "-o", dir / "g.npy"}, out, err) == 1);
  CHECK(err.find("w.json: layer 1 (affine): field 'W': expected a 2x2 matrix, got a 1x2 matrix") !=
        std::string::npos);
  CHECK_FALSE(fs::exists(dir / "g.npy"));
}
