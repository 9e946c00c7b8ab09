// Every kind of bad input gets one clear line naming file, layer and field, a non-zero exit,
// and leaves the output file as it was.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "frontends/cli.hpp"

namespace fs = std::filesystem;

namespace {

struct Run {
  int status;
  std::string out, err;
};

struct Workdir {
  fs::path dir;
  Workdir() {
    dir = fs::temp_directory_path() / ("flowaction_bad_input_" + std::to_string(::getpid()));
    fs::create_directories(dir);
  }
  ~Workdir() { fs::remove_all(dir); }
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name) << text;
    return dir / name;
  }
  std::string read(const std::string& name) const {
    std::ifstream in(dir / name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::size_t files() const {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
  }
};

Run cli(std::vector<std::string> args) {
  std::ostringstream out, err;
  const int status = flowaction::run_cli(args, out, err);
  return {status, out.str(), err.str()};
}

std::string model(const std::string& layers, int dim = 2) {
  return R"({"format": "flowaction/1", "dim": )" + std::to_string(dim) + R"(, "layers": [)" +
         layers + "]}";
}

// Runs extract on a manifest with an existing output file; checks the contract and returns stderr.
std::string rejects(const std::string& manifest, std::vector<std::string> extra, int status = 1) {
  Workdir w;
  const fs::path m = w.write("model.flow.json", manifest);
  w.write("out.json", "keep me\n");
  std::vector<std::string> args = {"extract", m.string(), "-o", (w.dir / "out.json").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  const Run r = cli(args);
  CHECK(r.status == status);
  CHECK(r.out.empty());
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);  // one line
  CHECK(w.read("out.json") == "keep me\n");                  // not truncated
  CHECK(w.files() == 2);                                     // no temporary left behind
  if (status == 1) CHECK(r.err.find("model.flow.json") != std::string::npos);
  return r.err;
}

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

const std::string affine = R"({"type": "affine", "W": [[1, 0.5], [0, 2]], "b": [0.1, 0]})";

}  // namespace

TEST_CASE("a good run writes the output file whole") {
  Workdir w;
  const fs::path m = w.write("model.flow.json", model(affine));
  const Run r = cli({"extract", m.string(), "--order", "2", "-o", (w.dir / "out.json").string()});
  CHECK(r.status == 0);
  CHECK(has(w.read("out.json"), "\"format\": \"flowaction-action/1\""));
  CHECK(w.files() == 2);
}

TEST_CASE("a standard output that cannot be written is an error, not a silent success") {
  Workdir w;
  const fs::path m = w.write("model.flow.json", model(affine));
  std::ostringstream out, err;
  out.setstate(std::ios::badbit);
  CHECK(flowaction::run_cli({"extract", m.string()}, out, err) == 1);
  CHECK(has(err.str(), "cannot write to standard output"));
}

TEST_CASE("malformed manifests") {
  CHECK(has(rejects(R"({"format": "flowaction/1", "dim": 2, "layers": [)", {}), "not valid JSON"));
  CHECK(
      has(rejects("{\"format\": \"flowaction/1\", \"dim\": 2, \"layers\": [], \"x\": \"\xff\xfe\"}",
                  {}),
          "not valid JSON"));
  CHECK(has(rejects(R"([1, 2])", {}), "expected a JSON object"));
  CHECK(has(rejects(R"({"format": "flowaction/2", "dim": 2, "layers": []})", {}), "format"));
  CHECK(has(rejects(model(R"({"type": "relu"})"), {}), "unknown layer type \"relu\""));
  CHECK(has(rejects(model(R"({"type": "affine", "W": [[1, 0], [0, 1]], "bias": [0, 0]})"), {}),
            "'bias'"));
  CHECK(has(
      rejects(R"({"format": "flowaction/1", "dim": 2, "layers": [], "tensors": "w.safetensors"})",
              {}),
      "tensors"));
}

TEST_CASE("missing and mis-shaped tensors, wrong dim") {
  const std::string e1 = rejects(model(R"({"type": "affine", "b": [0, 0]})"), {});
  CHECK(has(e1, "layer 1 (affine)"));
  CHECK(has(e1, "field 'W': missing"));
  const std::string e2 = rejects(model(R"({"type": "affine", "W": [[1, 0, 0], [0, 1, 0]]})"), {});
  CHECK(has(e2, "field 'W'"));
  CHECK(has(e2, "expected a 2x2 matrix, got a 2x3 matrix"));
  CHECK(
      has(rejects(model(R"({"type": "affine", "W": [[1, 0], [0]]})"), {}), "row 1 has 1 entries"));
  CHECK(has(rejects(model(affine, 3), {}), "expected a 3x3 matrix"));
  CHECK(has(rejects(R"({"format": "flowaction/1", "dim": 0, "layers": []})", {}), "'dim'"));
  CHECK(has(rejects(R"({"format": "flowaction/1", "dim": 2.5, "layers": []})", {}), "'dim'"));
  CHECK(has(rejects(R"({"format": "flowaction/1", "dim": "two", "layers": []})", {}), "'dim'"));
  CHECK(has(rejects(model(R"({"type": "activation", "alpha": [0.1, 0.2, 0.3]})"), {}),
            "field 'alpha'"));
  CHECK(has(rejects(model(R"({"type": "activation", "alpha": 0.1, "coeffs": [1, 0.1]})"), {}),
            "exactly one of"));
  CHECK(has(rejects(model(R"({"type": "activation", "coeffs": [0, 0.1]})"), {}), "c1 = 0"));
  CHECK(has(rejects(model(R"({"type": "affine", "W": [[1, "a"], [0, 1]]})"), {}), "field 'W'"));
}

TEST_CASE("coupling masks") {
  const std::string tail = R"(, "W1": [[0.5]], "alpha": 0.1, "W2": [[1]]})";
  CHECK(has(rejects(model(R"({"type": "coupling", "mask": [0, 2])" + tail), {}),
            "field 'mask': entries must be 0 or 1"));
  CHECK(
      has(rejects(model(R"({"type": "coupling", "mask": [0, 1, 1])" + tail), {}), "field 'mask'"));
  CHECK(has(rejects(model(R"({"type": "coupling", "mask": [1, 1])" + tail), {}), "passing (0)"));
  CHECK(has(rejects(model(R"({"type": "coupling", "mask": [0, 0])" + tail), {}), "shifted (1)"));
  CHECK(has(
      rejects(
          model(
              R"({"type": "coupling", "mask": [0, 1], "W1": [[0.5, 1]], "alpha": 0.1, "W2": [[1]]})"),
          {}),
      "field 'W1'"));
}

TEST_CASE("non-finite values") {
  CHECK(
      has(rejects(model(R"({"type": "affine", "W": [[NaN, 0], [0, 1]]})"), {}), "not valid JSON"));
  CHECK(has(rejects(model(R"({"type": "affine", "W": [[Infinity, 0], [0, 1]]})"), {}),
            "not valid JSON"));
  CHECK(has(rejects(model(R"({"type": "affine", "W": [[1e999, 0], [0, 1]]})"), {}),
            "number overflow"));
}

TEST_CASE("a singular W and an activation that is not invertible at the point") {
  const std::string e1 =
      rejects(model(affine + R"(, {"type": "affine", "W": [[1, 2], [0.5, 1]]})"), {});
  CHECK(has(e1, "layer 2 (affine)"));
  CHECK(has(e1, "'W'"));
  CHECK(has(e1, "singular"));
  // φ(u) = u + u²/2: φ′(u) = 1 + u ≤ 0 for u ≤ −1.
  const std::string e2 = rejects(model(R"({"type": "activation", "alpha": 0.5})"), {"--at=0,-1.5"});
  CHECK(has(e2, "layer 1 (activation), unit 1"));
  CHECK(has(e2, "not invertible"));
}

TEST_CASE("wrong command lines exit 2") {
  CHECK(has(rejects(model(affine), {"--order", "-1"}, 2), "--order"));
  CHECK(has(rejects(model(affine), {"--order", "four"}, 2), "--order"));
  CHECK(has(rejects(model(affine), {"--order", "21"}, 2), "largest supported order, 20"));
  CHECK(has(rejects(model(affine), {"--field", "quad"}, 2), "--field"));
  CHECK(has(rejects(model(affine), {"--format", "xml"}, 2), "--format"));
  CHECK(has(rejects(model(affine), {"--frobnicate"}, 2), "unknown option"));
  CHECK(has(rejects(model(affine), {"--at", "1,x"}, 2), "--at"));
  CHECK(has(rejects(model(affine), {"--symbols", "layer1.W"}, 2), "--field symbolic"));
  CHECK(cli({}).status == 2);
  CHECK(cli({"frobnicate"}).status == 2);
}

TEST_CASE("requests that do not fit the model or the machine") {
  CHECK(has(rejects(model(affine), {"--at", "1,2,3"}), "3 entries"));
  CHECK(has(rejects(model(affine), {"--at=1e400,0"}), "not finite in double precision"));
  // Squaring 1e200 overflows a double: the float field says so instead of printing inf.
  const std::string square = R"({"type": "activation", "coeffs": [1, 1]})";
  CHECK(has(rejects(model(square), {"--at=1e200,0", "--field", "float"}),
            "overflows double precision"));
  CHECK(has(rejects(model(affine), {"--field", "symbolic", "--symbols", "layer2.W"}),
            "layers 1 to 1"));
  CHECK(has(rejects(model(affine), {"--field", "symbolic", "--symbols", "layer1.alpha"}),
            "no field 'alpha'"));
  // Dim 64 at order 20: the vertex tensors alone would need far more memory than any machine.
  std::string W = "[";
  for (int i = 0; i < 64; ++i) {
    W += i ? ",[" : "[";
    for (int j = 0; j < 64; ++j) W += (j ? "," : "") + std::string(i == j ? "1" : "0");
    W += "]";
  }
  W += "]";
  const std::string e = rejects(model(R"({"type": "affine", "W": )" + W + "}", 64),
                                {"--order", "20", "--field", "float"});
  CHECK(has(e, "would need about"));
  CHECK(has(e, "of memory"));
  Workdir w;
  const Run r = cli({"extract", (w.dir / "absent.flow.json").string()});
  CHECK(r.status == 1);
  CHECK(has(r.err, "absent.flow.json: cannot open"));
}

TEST_CASE("readers: a directory, a FIFO or an oversized file where a file is expected") {
  Workdir w;
  fs::create_directories(w.dir / "d.npz");
  REQUIRE(::mkfifo((w.dir / "f.npz").c_str(), 0600) == 0);
  // The manifest itself: named, with what was expected.
  fs::create_directories(w.dir / "m.flow.json");
  const Run m = cli({"extract", (w.dir / "m.flow.json").string()});
  CHECK(m.status == 1);
  CHECK(has(m.err, "m.flow.json: is a directory, not a regular file (a flowaction/1 manifest"));
  // "tensors" naming a directory or a FIFO (which is never opened: it would wait for a writer):
  // the manifest, the field and the tensor file are named.
  for (const std::string name : {"d.npz", "f.npz"}) {
    CAPTURE(name);
    const fs::path t = w.write(
        "t.flow.json",
        R"({"format": "flowaction/1", "dim": 1, "layers": [], "tensors": ")" + name + "\"}");
    const Run e = cli({"extract", t.string()});
    CHECK(e.status == 1);
    CHECK(has(e.err, "t.flow.json: manifest: field 'tensors': "));
    CHECK(has(e.err, name + ": is a " + (name == "d.npz" ? "directory" : "FIFO")));
  }
  // Samples for train and inspect --data.
  fs::create_directories(w.dir / "x.npy");
  const Run t = cli({"train", (w.dir / "x.npy").string(), "-o", (w.dir / "m.json").string()});
  CHECK(t.status == 1);
  CHECK(has(t.err, "x.npy: is a directory"));
  REQUIRE(::mkfifo((w.dir / "x.csv").c_str(), 0600) == 0);
  const fs::path model_file = w.write("ok.flow.json", model(affine));
  const Run i = cli({"inspect", model_file.string(), "--data", (w.dir / "x.csv").string()});
  CHECK(i.status == 1);
  CHECK(has(i.err, "x.csv: is a FIFO"));
  // A regular file beyond the cap of its format is refused unread, saying the cap (a sparse
  // file: it takes no disk space).
  const fs::path big = w.dir / "big.flow.json";
  { std::ofstream(big) << "{"; }
  fs::resize_file(big, (std::uintmax_t{256} << 20) + 1);
  const Run b = cli({"extract", big.string()});
  CHECK(b.status == 1);
  CHECK(
      has(b.err, "big.flow.json: 268435457 bytes, more than the 256 MiB a flowaction/1 manifest"));
}

TEST_CASE("small ones: trailing NUL, long values cut, a type that is not a string") {
  // Valid JSON, then a NUL byte and garbage: nlohmann would stop at the NUL.
  const std::string nul_at = std::to_string(model(affine).size() + 1);
  CHECK(has(rejects(model(affine) + std::string("\0garbage", 8), {}),
            "not valid JSON (byte " + nul_at + "): a NUL byte"));
  // A 200 kB number and a 1000-digit --at value are cut in the message.
  const std::string digits(200000, '7');
  const std::string e1 =
      rejects(model(R"({"type": "affine", "W": [[0.)" + digits + R"(, 0], [0, 1]]})"), {});
  CHECK(has(e1, "field 'W'"));
  CHECK(has(e1, "… (200002 characters)"));
  CHECK(e1.size() < 300);
  const std::string e2 = rejects(model(affine), {"--at", std::string(1000, '9') + "x,0"}, 2);
  CHECK(has(e2, "(1001 characters)"));
  CHECK(e2.size() < 300);
  const std::string e3 = rejects(model(affine), {"--at", std::string(1000, '9') + ",0"});
  CHECK(has(e3, "not finite in double precision"));
  CHECK(e3.size() < 300);
  // "type": 5 is there, but not a string.
  CHECK(has(rejects(model(R"({"type": 5})"), {}),
            "field 'type': expected a string naming the layer type"));
}

TEST_CASE("small ones: the float field names the layer and the order it leaves double precision") {
  // 4.9e-324 is the smallest subnormal: W rounds to 0 in double, the exact W is fine.
  CHECK(has(rejects(model(R"({"type": "affine", "W": [[4.9e-324]]})", 1), {"--field", "float"}),
            "layer 1 (affine): field 'W' is singular in double precision"));
  // Gamma^(1) = -2 alpha = -2e308 is the first vertex beyond double precision (Gamma^(0) is
  // fine).
  CHECK(has(rejects(model(R"({"type": "activation", "alpha": 1e308})", 1), {"--field", "float"}),
            "layer 1 (activation): the vertex of order 1 overflows double precision"));
  // Gamma^(2) = W^2 = 1e-400 underflows: an error, not a vertex silently missing.
  CHECK(has(rejects(model(R"({"type": "affine", "W": [[1e-200]]})", 1), {"--field", "float"}),
            "layer 1 (affine): a vertex underflows double precision"));
}

TEST_CASE("small ones: inspect refuses --at 1e400 and does not call a singular model invertible") {
  Workdir w;
  const fs::path m = w.write("m.flow.json", model(affine));
  const Run inf = cli({"inspect", m.string(), "--at", "1e400,0"});
  CHECK(inf.status == 1);
  CHECK(has(inf.err, "--at: coordinate 1 is not finite in double precision"));
  CHECK(inf.out.empty());
  const fs::path s =
      w.write("s.flow.json", model(affine + R"(, {"type": "affine", "W": [[1, 2], [2, 4]]})"));
  const Run sing = cli({"inspect", s.string()});
  CHECK(sing.status == 0);
  CHECK(has(sing.out, "SINGULAR"));
  CHECK_FALSE(has(sing.out, "inside the invertible domain"));
  CHECK(has(sing.out, "NOT INVERTIBLE anywhere: layer 2 (affine) is singular"));
}
