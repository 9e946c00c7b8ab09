// The sample / train / generate commands end to end on small inputs: exit statuses, one-line
// errors naming the file, no output left behind on failure, and the truth sidecar's vertices.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
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
  // The default ends with two latent coupling layers; --latent-couplings sets how many.
  auto layer_types = [&](const fs::path& model) {
    std::ifstream m(model);
    const auto json = nlohmann::json::parse(m);
    std::vector<std::string> types;
    for (const auto& l : json["layers"]) types.push_back(l["type"].get<std::string>());
    return types;
  };
  using types = std::vector<std::string>;
  CHECK(layer_types(dir / "m.flow.json") ==
        types{"affine", "activation", "affine", "coupling", "coupling"});
  REQUIRE(run({"train", dir / "p.npy", "--epochs", "2", "--latent-couplings", "0", "-o",
               dir / "m0.flow.json"},
              out, err) == 0);
  CHECK(layer_types(dir / "m0.flow.json") == types{"affine", "activation", "affine"});
  CHECK(run({"train", dir / "p.npy", "--latent-couplings", "-1", "-o", dir / "m1.flow.json"}, out,
            err) == 2);
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

namespace {

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

double mean_square(const NpyArray& a) {
  double s = 0;
  for (double v : a.data) s += v * v;
  return s / static_cast<double>(a.data.size());
}

// φ⁴ samples on a ring of 4 (m2 0.5, lambda 6), the data of the depth measurements.
fs::path phi4_samples(const TempDir& dir, const std::string& samples = "2000") {
  std::string out, err;
  REQUIRE(run({"sample", "phi4", "--lattice", "4", "--m2", "0.5", "--lambda", "6", "--samples",
               samples, "--seed", "1", "-o", dir / "phi4.npy"},
              out, err) == 0);
  return dir.path / "phi4.npy";
}

// An error stream that raises a signal the first time a given text is written to it: a
// deterministic "interrupt during training" (the trainer's progress lines go there).
struct RaiseOnText : std::stringbuf {
  std::string text;
  int sig;
  bool fired = false;
  RaiseOnText(std::string t, int s) : text(std::move(t)), sig(s) {}
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    const std::streamsize r = std::stringbuf::xsputn(s, n);
    if (!fired && str().find(text) != std::string::npos) {
      fired = true;
      std::raise(sig);
    }
    return r;
  }
};

}  // namespace

TEST_CASE(
    "trainer cli: sample reaches any scale of the action (m2 = 1e6; m2 = 1000, short tuning)") {
  TempDir dir("trainer_cli_scale");
  std::string out, err;
  // The free field: <phi_i^2> = (K^-1)_ii, about 1/m2 for m2 >> 4.
  for (const auto& c : std::vector<std::pair<double, std::vector<std::string>>>{
           {1e6, {"--samples", "200"}}, {1000.0, {"--thermalise", "200", "--samples", "2000"}}}) {
    // Not a structured binding: clang before 16 cannot capture one in a lambda.
    const auto& m2 = c.first;
    const auto& extra = c.second;
    CAPTURE(m2);
    std::vector<std::string> args = {
        "sample", "phi4", "--lattice", "4", "--m2", fmt::format("{}", m2), "-o", dir / "s.npy"};
    args.insert(args.end(), extra.begin(), extra.end());
    REQUIRE(run(args, out, err) == 0);
    const NpyArray a = read_npy(dir / "s.npy");
    const double expected = 1 / m2;  // within 1 % of (K^-1)_ii here
    CHECK(mean_square(a) > 0.8 * expected);
    CHECK(mean_square(a) < 1.25 * expected);
  }
}

TEST_CASE("trainer cli: sample --pilot 0 warns that no tau_int was measured") {
  TempDir dir("trainer_cli_pilot");
  std::string out, err;
  REQUIRE(run({"sample", "phi4", "--lattice", "2", "--m2", "1", "--samples", "300", "--pilot", "0",
               "-o", dir / "s.npy"},
              out, err) == 0);
  CHECK(has(err, "warning: --pilot 0: no integrated autocorrelation time was measured"));
  CHECK(has(out, "tau_int not measured"));
}

TEST_CASE("trainer cli: sample writes its two files together or not at all, and checks first") {
  TempDir dir("trainer_cli_pair");
  std::string out, err;
  const std::vector<std::string> args = {"sample",    "phi4", "--lattice", "3",
                                         "--samples", "100",  "-o",        dir / "p.npy"};
  // The sidecar cannot be written (a directory has its name): nothing runs, nothing changes.
  { std::ofstream(dir / "p.npy") << "old"; }
  fs::create_directory(dir / "p.truth.json");
  CHECK(run(args, out, err) == 1);
  CHECK(has(err, "p.truth.json"));
  CHECK_FALSE(has(err, "thermalised"));  // refused before the run
  CHECK(read_file(dir / "p.npy") == "old");
  // A missing folder is found before the run too (train likewise).
  CHECK(run({"sample", "phi4", "--lattice", "3", "-o", dir / "no/p.npy"}, out, err) == 1);
  CHECK_FALSE(has(err, "thermalised"));
  fs::remove(dir / "p.truth.json");
  { std::ofstream(dir / "x.csv") << "1,2\n3,1\n2,2\n"; }
  CHECK(run({"train", dir / "x.csv", "-o", dir / "no/m.json"}, out, err) == 1);
  CHECK_FALSE(has(err, "training a flow"));
  // A run that fails (the samples would be strongly autocorrelated: no pilot, no thinning, a
  // slow mode) writes neither file.
  fs::remove(dir / "p.npy");
  CHECK(run({"sample", "phi4", "--lattice", "4", "--m2", "0.001", "--pilot", "0", "--samples",
             "400", "-o", dir / "p.npy"},
            out, err) == 1);
  CHECK(has(err, "effective samples"));
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir.path)) left.push_back(e.path().filename());
  CHECK(left == std::vector<std::string>{"x.csv"});
}

TEST_CASE("trainer cli: default settings train stably at depth 1 to 16, and --lr 10 is tamed") {
  TempDir dir("trainer_cli_depth");
  const fs::path data = phi4_samples(dir);
  std::string out, err;
  for (const std::vector<std::string>& extra :
       std::vector<std::vector<std::string>>{{"--layers", "1"},
                                             {"--layers", "8"},
                                             {"--layers", "16"},
                                             {"--layers", "10", "--actnorm"},
                                             {"--lr", "10"}}) {
    CAPTURE(extra[0] + " " + extra[1]);
    std::vector<std::string> args = {"train", data.string(), "--epochs",
                                     "20",    "-o",          dir / "m.flow.json"};
    args.insert(args.end(), extra.begin(), extra.end());
    CHECK(run(args, out, err) == 0);
    CAPTURE(out);
    CHECK(has(out, "nats better"));
  }
}

TEST_CASE("trainer cli: a flow worse than the best Gaussian is an error unless --allow-worse") {
  TempDir dir("trainer_cli_worse");
  {
    std::mt19937_64 rng(3);
    std::normal_distribution<double> n;
    std::ofstream csv(dir / "x.csv");
    for (int i = 0; i < 400; ++i) csv << 5 + 3 * n(rng) << "," << -2 + 0.5 * n(rng) << "\n";
  }
  // No whitening and a tiny rate: the flow stays near the identity, far from N(mu, Sigma).
  const std::vector<std::string> args = {"train", dir / "x.csv", "--no-whiten",
                                         "--lr",  "1e-9",        "--epochs",
                                         "1",     "-o",          dir / "m.flow.json"};
  std::string out, err;
  CHECK(run(args, out, err) == 1);
  CHECK(has(err, "worse than the best Gaussian"));
  CHECK(has(err, "no model written"));
  CHECK_FALSE(fs::exists(dir / "m.flow.json"));
  std::vector<std::string> allow = args;
  allow.push_back("--allow-worse");
  CHECK(run(allow, out, err) == 0);
  CHECK(has(err, "warning: the trained flow is worse than the best Gaussian"));
  CHECK(fs::exists(dir / "m.flow.json"));
  // Without a validation split the verdict is on the training split alone.
  CHECK(run({"train", dir / "x.csv", "--val", "0", "--epochs", "3", "-o", dir / "v.json"}, out,
            err) == 0);
  // Zero epochs is no training.
  CHECK(run({"train", dir / "x.csv", "--epochs", "0", "-o", dir / "n.json"}, out, err) == 2);
  CHECK(has(err, "--epochs"));
}

TEST_CASE("trainer cli: SIGINT or SIGTERM with --checkpoint keeps the best model, exit 130/143") {
  TempDir dir("trainer_cli_signal");
  const fs::path data = phi4_samples(dir);
  for (const auto& s : {std::pair{SIGINT, 130}, std::pair{SIGTERM, 143}}) {
    // Not a structured binding: clang before 16 cannot capture one in a lambda.
    const auto& sig = s.first;
    const auto& status = s.second;
    CAPTURE(sig);
    RaiseOnText buf("epoch 1/", sig);  // after the first epoch
    std::ostream err(&buf);
    std::ostringstream out;
    const int rc = run_cli({"train", data.string(), "--epochs", "50", "--checkpoint",
                            dir / "best.flow.json", "-o", dir / "m.flow.json"},
                           out, err);
    CHECK(buf.fired);
    CHECK(rc == status);
    CAPTURE(buf.str());
    CHECK(has(buf.str(), sig == SIGINT ? "interrupted by SIGINT" : "interrupted by SIGTERM"));
    CHECK(has(buf.str(), "best.flow.json"));
    CHECK_FALSE(has(buf.str(), "epoch 3/"));
    CHECK_FALSE(fs::exists(dir / "m.flow.json"));
    std::string o, e;
    CHECK(run({"generate", dir / "best.flow.json", "--samples", "10", "-o", dir / "g.npy"}, o, e) ==
          0);
    fs::remove(dir / "best.flow.json");
  }
}

TEST_CASE("trainer cli: an array with no units, and generate on a singular W, say what is wrong") {
  TempDir dir("trainer_cli_shapes");
  std::string out, err;
  { std::ofstream(dir / "e.npy", std::ios::binary) << npy_bytes(nullptr, 100, 0); }
  CHECK(run({"train", dir / "e.npy", "-o", dir / "m.json"}, out, err) == 1);
  CHECK(has(err, "e.npy: the samples have no units (columns): 100 x 0"));
  {
    std::ofstream(dir / "s.flow.json") << R"({"format": "flowaction/1", "dim": 2, "layers": [
      {"type": "affine", "W": [[1, 0], [0, 1]]}, {"type": "affine", "W": [[1, 2], [2, 4]]}]})";
  }
  CHECK(run({"generate", dir / "s.flow.json", "-o", dir / "g.npy"}, out, err) == 1);
  CAPTURE(err);
  CHECK(has(err, "s.flow.json: layer 2 (affine): field 'W' is singular"));
  CHECK_FALSE(fs::exists(dir / "g.npy"));
}
