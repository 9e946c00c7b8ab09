// Against independent Python: NumPy writes tensor files and the exact fractions of their values;
// PyTorch computes the action of an exported flow. Skipped, visibly, without NumPy or PyTorch.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "frontends/cli.hpp"
#include "frontends/tensor_file.hpp"
#include "skip.hpp"
#include "tests/temp_dir.hpp"

using namespace flowaction;
namespace fs = std::filesystem;

namespace {

const fs::path source_dir = FLOWACTION_SOURCE_DIR;

// Runs a helper with the system Python (a pyenv python3 on PATH may lack NumPy); returns its exit
// status, 77 meaning "module missing".
int python(const std::string& script, const fs::path& out) {
  if (!fs::exists("/usr/bin/python3")) return 77;
  const std::string cmd =
      fmt::format("/usr/bin/python3 '{}' '{}'", (source_dir / "tests" / "python" / script).string(),
                  out.string());
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE(
    "python interop: NumPy-written .npz and .safetensors values come back as Python's exact "
    "fractions") {
  TempDir dir("numpy");
  const int rc = python("write_tensors.py", dir.path);
  if (rc == 77) {
    testing_support::skip(
        "/usr/bin/python3 with NumPy is not installed (apt-get install python3-numpy)");
    return;
  }
  REQUIRE(rc == 0);
  std::ifstream in(dir.path / "expected.json");
  const auto expected = nlohmann::json::parse(in);
  int compared = 0;
  for (const char* file : {"t.npz", "tc.npz", "t.safetensors"}) {
    const TensorFile t = read_tensor_file(dir.path / file);
    for (const auto& item : expected.items()) {
      // Not a structured binding: clang before 16 cannot capture one in a lambda.
      const auto& name = item.key();
      const auto& e = item.value();
      if (name == "bf" && std::string(file) != "t.safetensors") continue;
      CAPTURE(file);
      CAPTURE(name);
      const Tensor got = t.get(name, name);
      std::vector<int> shape = e["shape"].get<std::vector<int>>();
      CHECK(got.shape == shape);
      REQUIRE(got.values.size() == e["values"].size());
      for (std::size_t k = 0; k < got.values.size(); ++k) {
        CHECK(got.values[k] == GiNaC::numeric(e["values"][k].get<std::string>().c_str()));
        ++compared;
      }
    }
  }
  CHECK(compared == 3 * (12 + 12 + 4 + 1) + 12);
}

TEST_CASE(
    "python interop: extract on a PyTorch-exported flow reproduces PyTorch's action and its "
    "gradient") {
  TempDir dir("torch");
  const int rc = python("torch_reference.py", dir.path);
  if (rc == 77) {
    testing_support::skip(
        "/usr/bin/python3 with PyTorch and NumPy is not installed (apt-get install python3-torch)");
    return;
  }
  REQUIRE(rc == 0);
  std::ifstream in(dir.path / "reference.json");
  const auto ref = nlohmann::json::parse(in);
  const std::string model = (dir.path / "model.flow.json").string();
  for (std::size_t p = 0; p < ref["points"].size(); ++p) {
    CAPTURE(p);
    const auto x = ref["points"][p].get<std::vector<double>>();
    std::ostringstream out, err;
    // Gamma^(0) and Gamma^(1) at x0 = x are S(x) and its gradient.
    REQUIRE(run_cli({"extract", model, "--order", "1", "--field", "float", "--at",
                     fmt::format("{:.17g}", fmt::join(x, ",")), "--format", "json"},
                    out, err) == 0);
    const auto action = nlohmann::json::parse(out.str());
    std::map<std::string, double> v;
    for (const auto& e : action["vertices"]) v[e["index"].dump()] = e["float"].get<double>();
    const double s = ref["action"][p].get<double>();
    CHECK(std::fabs(v["[]"] - s) <= 1e-9 * std::max(1.0, std::fabs(s)));
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double g = ref["gradient"][p][i].get<double>();
      CHECK(std::fabs(v[fmt::format("[{}]", i)] - g) <= 1e-9 * std::max(1.0, std::fabs(g)));
    }
  }
}
