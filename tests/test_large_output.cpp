// Large models end to end: the float writers (JSON numbers, the same output on any number of
// threads), the binary tensors of --format npz and safetensors read back by flowaction's own
// readers and by Python, and --threads.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "bench/models.hpp"
#include "cli_run.hpp"
#include "engine/action_print.hpp"
#include "engine/component_print.hpp"
#include "engine/extract.hpp"
#include "engine/parallel.hpp"
#include "frontends/action_tensors.hpp"
#include "frontends/manifest.hpp"
#include "frontends/npz.hpp"
#include "frontends/tensor_file.hpp"
#include "oracle.hpp"
#include "skip.hpp"
#include "temp_dir.hpp"
#include "thread_count.hpp"

using namespace flowaction;
using testing_support::cli;
using testing_support::ThreadCount;
namespace fs = std::filesystem;

namespace {

// A random model of every layer type, d units.
std::string random_manifest(int d, int L, unsigned seed) {
  std::mt19937 rng(seed);
  const std::vector<GiNaC::numeric> x0(static_cast<std::size_t>(d), 0);
  return oracle::manifest(oracle::random_model(rng, d, L, x0, true, true));
}

Action<double> float_action(const std::string& manifest, int K) {
  ExtractRequest req;
  req.order = K;
  req.field = field_kind::float64;
  return std::get<Action<double>>(extract(parse_manifest(manifest, "m.json"), req).action);
}

std::string printed(const Action<double>& a, const char* format) {
  ActionInfo info;
  info.field = field_kind::float64;
  std::ostringstream out;
  print(a, info, *make_print_context(format, out));
  return out.str();
}

}  // namespace

TEST_CASE("JSON numbers of the float field: shortest round trip, read back as doubles") {
  const double values[] = {0.0,    -0.0,  1.0,       -3.0,    0.1,
                           1e15,   1e16,  1.5e17,    1e-4,    1e-5,
                           5e-324, 1e308, -2.5e-300, 1.0 / 3, 123456789012345678.0};
  for (double x : values) {
    fmt::memory_buffer b;
    append_json_number(b, x);
    const std::string s(b.data(), b.size());
    CAPTURE(s);
    const auto j = nlohmann::json::parse(s);
    CHECK(j.is_number_float());
    CHECK(std::memcmp(&x, &j.get_ref<const double&>(), sizeof x) == 0);
  }
  fmt::memory_buffer b;
  append_json_number(b, std::numeric_limits<double>::quiet_NaN());
  CHECK(std::string(b.data(), b.size()) == "null");
}

TEST_CASE("float JSON written directly holds what component_json holds, entry by entry") {
  const Action<double> a = float_action(random_manifest(5, 4, 11), 4);
  const auto j = nlohmann::json::parse(printed(a, "json"));
  std::size_t n = 0;
  for_each_nonzero(a.vertices, 0, a.dim, [&](int k, const multi_index& index, double v) {
    REQUIRE(n < j["vertices"].size());
    CHECK(j["vertices"][n] == nlohmann::json(component_json(k, index, v)));
    ++n;
  });
  CHECK(n == j["vertices"].size());
}

TEST_CASE("float entries written through a raw pointer: the bytes fmt's format strings give") {
  // Reference: the formats the exact and symbolic fields print with, and nlohmann's reading.
  const double values[] = {0.0,
                           -0.0,
                           1.0,
                           -3.0,
                           1e16,
                           5e-324,
                           -2.2250738585072014e-308,
                           -1.2345678901234567e-300,
                           -1234567890123456.7,
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN()};
  const multi_index indices[] = {{},
                                 {7},
                                 {0, 10, 99},
                                 {2147483647, 2147483647, 2147483647, 2147483647},
                                 multi_index(12, 123456)};
  for (const multi_index& index : indices) {
    for (double v : values) {
      const int order = static_cast<int>(index.size());
      CAPTURE(order);
      CAPTURE(v);
      fmt::memory_buffer line;
      line.append(std::string_view("(before)"));
      append_component_line(line, index, v, field_kind::float64);
      CHECK(std::string(line.data(), line.size()) ==
            "(before)" + fmt::format("  {:<16} {}\n", fmt::format("[{}]", fmt::join(index, ",")),
                                     value_string(v)));
      fmt::memory_buffer entry;
      append_component_json(entry, order, index, v);
      const std::string text(entry.data(), entry.size());
      CAPTURE(text);
      const auto j = nlohmann::json::parse(text);
      CHECK(j["order"] == order);
      CHECK(j["index"] == nlohmann::json(index));
      CHECK(j["value"] == value_string(v));
      if (std::isfinite(v)) {
        REQUIRE(j["float"].is_number_float());
        CHECK(std::memcmp(&v, &j["float"].get_ref<const double&>(), sizeof v) == 0);
      } else {
        CHECK(j["float"].is_null());
      }
    }
  }
}

namespace {

// Every vertex of every action has the bits of the first's.
void check_same_bits(const std::vector<Action<double>>& actions) {
  for (std::size_t i = 1; i < actions.size(); ++i) {
    CAPTURE(i);
    for (int k = 0; k <= actions[0].order(); ++k) {
      const auto& x = actions[0].vertices[k].data();
      const auto& y = actions[i].vertices[k].data();
      REQUIRE(x.size() == y.size());
      CHECK(std::memcmp(x.data(), y.data(), 8 * x.size()) == 0);
    }
  }
}

}  // namespace

TEST_CASE(
    "--threads: the coupling kernel's threaded passes give the same bits on 1, 2 and 3 threads") {
  // d = 50 is large enough for the kernel's passes over its blocks to go to threads (below a
  // size they stay on one); small couplings are checked against the dense reference elsewhere.
  const std::string m = oracle::manifest(bench::coupling_model(50, 2, 4, 5));
  std::vector<Action<double>> actions;
  for (unsigned t : {1u, 2u, 3u}) {
    const ThreadCount threads(t);
    actions.push_back(float_action(m, 4));
  }
  check_same_bits(actions);
  // Not a trivially zero action: the couplings give the output a quartic vertex.
  double largest = 0;
  for (double v : actions[0].vertices[4].data()) largest = std::max(largest, std::fabs(v));
  CHECK(largest > 1e-6);
}

TEST_CASE("--threads: the pullback and the writers give the same bits on 1, 2 and 3 threads") {
  const std::string m = random_manifest(9, 6, 12);
  std::vector<Action<double>> actions;
  std::vector<std::string> json, text;
  for (unsigned t : {1u, 2u, 3u}) {
    const ThreadCount threads(t);
    actions.push_back(float_action(m, 4));
    json.push_back(printed(actions.back(), "json"));
    text.push_back(printed(actions.back(), "text"));
  }
  check_same_bits(actions);
  for (std::size_t i = 1; i < actions.size(); ++i) {
    CAPTURE(i);
    CHECK(json[i] == json[0]);
    CHECK(text[i] == text[0]);
  }
  CHECK(cli({"extract", "x.json", "--threads", "0"}).status == 2);
  CHECK(cli({"extract", "x.json", "--threads", "two"}).status == 2);
}

namespace {

// extract -o a.json (float field), a.npz, a.safetensors and their --dense forms into dir, and
// z.npz: a.npz's tensors written with Zip64 records throughout (the path of archives over 4 GiB).
void write_all_formats(const fs::path& dir, int d, int K) {
  { std::ofstream(dir / "m.json") << random_manifest(d, 4, 13); }
  const std::string m = (dir / "m.json").string(), order = std::to_string(K);
  for (const auto& [file, extra] :
       std::vector<std::pair<std::string, std::string>>{{"a.json", "--field=float"},
                                                        {"a.npz", ""},
                                                        {"a.safetensors", ""},
                                                        {"d.npz", "--dense"},
                                                        {"d.safetensors", "--dense"}}) {
    std::vector<std::string> args = {"extract", m, "--order", order, "-o", (dir / file).string()};
    if (!extra.empty()) args.push_back(extra);
    const auto r = cli(args);
    REQUIRE_MESSAGE(r.status == 0, r.err);
  }
  std::ofstream z(dir / "z.npz", std::ios::binary);
  write_npz(z, action_tensors(float_action(random_manifest(d, 4, 13), K), false), true);
}

}  // namespace

TEST_CASE("--format npz and safetensors read back with flowaction's readers as the JSON holds") {
  TempDir dir("binary");
  const int d = 4, K = 4;
  write_all_formats(dir.path, d, K);
  {
    // Zip64 records, and the archive written to standard output (a stream that cannot seek):
    // the same tensors as a.npz.
    const TensorFile a = read_tensor_file(dir.path / "a.npz");
    const TensorFile z = read_tensor_file(dir.path / "z.npz");
    const auto r =
        cli({"extract", (dir.path / "m.json").string(), "--order", "4", "--format", "npz"});
    REQUIRE(r.status == 0);
    const TensorFile piped = parse_npz(std::as_bytes(std::span(r.out.data(), r.out.size())), "-");
    REQUIRE(a.tensors.size() == 2 * (K + 1));
    for (const TensorFile* other : {&z, &piped}) {
      REQUIRE(other->tensors.size() == a.tensors.size());
      for (const auto& entry : a.tensors) {
        // Not a structured binding: clang before 16 cannot capture one in a lambda.
        const auto& name = entry.first;
        const auto& t = entry.second;
        CAPTURE(name);
        CHECK(other->tensors.at(name).values == t.values);
        CHECK(other->tensors.at(name).shape == t.shape);
        CHECK(other->tensors.at(name).dtype == t.dtype);
      }
    }
  }
  const auto j = nlohmann::json::parse(read_file(dir.path / "a.json"));
  for (const char* file : {"a.npz", "a.safetensors", "d.npz", "d.safetensors"}) {
    CAPTURE(file);
    const bool dense = file[0] == 'd';
    const TensorFile t = read_tensor_file(dir.path / file);
    CHECK(t.tensors.size() == (dense ? 1u : 2u) * (K + 1));
    std::map<std::vector<int>, double> json_values;
    std::vector<std::size_t> seen(K + 1, 0);
    for (const auto& e : j["vertices"]) {
      const int k = e["order"];
      const auto index = e["index"].get<std::vector<int>>();
      const double v = e["float"];
      json_values[index] = v;
      if (dense) continue;
      const StoredTensor& ix = t.tensors.at(fmt::format("gamma{}_index", k));
      const StoredTensor& val = t.tensors.at(fmt::format("gamma{}_value", k));
      CHECK(ix.dtype == (file[2] == 'n' ? "<i4" : "I32"));
      const std::size_t n = seen[k]++;
      REQUIRE(n < val.values.size());
      for (int p = 0; p < k; ++p) CHECK(ix.values[n * k + p] == index[p]);
      CHECK(val.values[n] == v);
    }
    for (int k = 0; k <= K; ++k) {
      if (!dense) {
        CHECK(t.tensors.at(fmt::format("gamma{}_value", k)).values.size() == seen[k]);
        continue;
      }
      const StoredTensor& g = t.tensors.at(fmt::format("gamma{}", k));
      CHECK(g.shape == std::vector<std::size_t>(k, d));
      multi_index full(k, 0);
      for (double x : g.values) {
        multi_index sorted = full;
        std::sort(sorted.begin(), sorted.end());
        const auto it = json_values.find(sorted);
        CHECK(x == (it == json_values.end() ? 0.0 : it->second));
        for (int p = k - 1; p >= 0 && ++full[p] == d; --p) full[p] = 0;
      }
    }
  }
}

namespace {

int python(const fs::path& dir, const char* mode) {
  if (!fs::exists("/usr/bin/python3")) return 77;
  const std::string cmd =
      fmt::format("/usr/bin/python3 '{}/tests/python/read_action_tensors.py' '{}' {}",
                  FLOWACTION_SOURCE_DIR, dir.string(), mode);
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Writes every format and has Python check them in mode; a missing module is a skip.
void check_in_python(const char* mode, const char* missing) {
  TempDir dir(std::string("binary_") + mode);
  write_all_formats(dir.path, 3, 4);
  const int rc = python(dir.path, mode);
  if (rc == 77) {
    testing_support::skip(missing);
    return;
  }
  CHECK(rc == 0);
}

}  // namespace

TEST_CASE("python interop: numpy.load reads --format npz, and the safetensors bytes, as the JSON") {
  check_in_python("numpy",
                  "/usr/bin/python3 with NumPy is not installed (apt-get install python3-numpy)");
}

TEST_CASE("python interop: safetensors.numpy.load_file reads --format safetensors as the JSON") {
  check_in_python(
      "safetensors",
      "/usr/bin/python3 with the safetensors package is not installed (pip install safetensors)");
}

TEST_CASE("binary formats: the float field only, --dense refused up front when too large") {
  TempDir dir("binary_refused");
  const std::string m = (dir.path / "m.json").string();
  { std::ofstream(m) << random_manifest(3, 2, 14); }
  const std::string out = (dir.path / "a.npz").string();
  auto r = cli({"extract", m, "--field", "exact", "-o", out});
  CHECK(r.status == 2);
  CHECK(testing_support::has(r.err, "float field only"));
  r = cli({"extract", m, "--dense", "-o", (dir.path / "a.json").string()});
  CHECK(r.status == 2);
  CHECK(testing_support::has(r.err, "--dense needs --format npz or safetensors"));
  // Order 20 dense at d = 3: 3^k doubles for k = 0 … 20, about 39 GiB (the archive is written
  // from them as it goes).
  double dense = 0;
  for (int k = 0; k <= 20; ++k) dense += 8 * std::pow(3.0, k);
  r = cli({"extract", m, "--order", "20", "--dense", "-o", out});
  CHECK(r.status == 1);
  CHECK(testing_support::has(
      r.err, fmt::format("the dense tensors of --format npz ({:.1f} GiB)", dense / (1 << 30))));
  CHECK(!fs::exists(out));
  // --per-layer keeps one action per stage (2 layers and the latent one): three times as much.
  r = cli({"extract", m, "--order", "20", "--dense", "--per-layer", "-o", out});
  CHECK(r.status == 1);
  CHECK(testing_support::has(r.err, fmt::format("the dense tensors of --format npz ({:.1f} GiB)",
                                                (3 * dense + 3 * 8.0 * 3) / (1 << 30))));
  CHECK(!fs::exists(out));
}

TEST_CASE("--per-layer --format npz | safetensors: every stage as the JSON stages hold it") {
  TempDir dir("per_layer_binary");
  const int d = 4, K = 4, L = 3;
  const std::string m = (dir.path / "m.json").string();
  { std::ofstream(m) << random_manifest(d, L, 15); }
  for (const char* file : {"s.json", "s.npz", "s.safetensors", "sd.npz", "a.npz"}) {
    std::vector<std::string> args = {"extract", m,       "--order", "4",
                                     "--field", "float", "-o",      (dir.path / file).string()};
    if (file[0] == 's') args.push_back("--per-layer");
    if (file[1] == 'd') args.push_back("--dense");
    const auto r = cli(args);
    REQUIRE_MESSAGE(r.status == 0, r.err);
  }
  const auto j = nlohmann::json::parse(read_file(dir.path / "s.json"));
  REQUIRE(j["stages"].size() == L + 1);
  for (const char* file : {"s.npz", "s.safetensors", "sd.npz"}) {
    CAPTURE(file);
    const bool dense = file[1] == 'd';
    const TensorFile t = read_tensor_file(dir.path / file);
    CHECK(t.tensors.size() == (L + 1) * (1 + (dense ? 1u : 2u) * (K + 1)));
    for (std::size_t s = 0; s <= L; ++s) {
      CAPTURE(s);
      const auto& stage = j["stages"][s];
      const StoredTensor& at = t.tensors.at(fmt::format("stage{}_at", s));
      REQUIRE(at.values.size() == d);
      for (int i = 0; i < d; ++i)
        CHECK(at.values[i] == std::stod(stage["at"][i].get<std::string>()));
      std::vector<std::size_t> seen(K + 1, 0);
      for (const auto& e : stage["vertices"]) {
        const int k = e["order"];
        const auto index = e["index"].get<std::vector<int>>();
        const double v = e["float"];
        if (dense) {
          // The dense array at the sorted index and at its reverse (a permutation).
          const StoredTensor& g = t.tensors.at(fmt::format("stage{}_gamma{}", s, k));
          std::size_t flat = 0, reversed = 0;
          for (int p = 0; p < k; ++p)
            flat = flat * d + index[p], reversed = reversed * d + index[k - 1 - p];
          CHECK(g.values.at(flat) == v);
          CHECK(g.values.at(reversed) == v);
          continue;
        }
        const StoredTensor& ix = t.tensors.at(fmt::format("stage{}_gamma{}_index", s, k));
        const StoredTensor& val = t.tensors.at(fmt::format("stage{}_gamma{}_value", s, k));
        const std::size_t n = seen[k]++;
        REQUIRE(n < val.values.size());
        for (int p = 0; p < k; ++p) CHECK(ix.values[n * k + p] == index[p]);
        CHECK(val.values[n] == v);
      }
      if (!dense)
        for (int k = 0; k <= K; ++k)
          CHECK(t.tensors.at(fmt::format("stage{}_gamma{}_value", s, k)).values.size() == seen[k]);
    }
    // Stage 0 is the latent Gaussian around z₀: Γ⁽¹⁾ = z₀, Γ⁽²⁾ = 1 on the diagonal, no more.
    if (!dense) {
      const StoredTensor& z0 = t.tensors.at("stage0_at");
      const StoredTensor& g1 = t.tensors.at("stage0_gamma1_value");
      const StoredTensor& g1i = t.tensors.at("stage0_gamma1_index");
      for (std::size_t n = 0; n < g1.values.size(); ++n)
        CHECK(g1.values[n] == z0.values.at(static_cast<std::size_t>(g1i.values[n])));
      CHECK(t.tensors.at("stage0_gamma2_value").values == std::vector<double>(d, 1.0));
      CHECK(t.tensors.at("stage0_gamma3_value").values.empty());
      // The last stage is the data's action: the same tensors as without --per-layer.
      const TensorFile whole = read_tensor_file(dir.path / "a.npz");
      for (int k = 0; k <= K; ++k)
        CHECK(t.tensors.at(fmt::format("stage{}_gamma{}_value", L, k)).values ==
              whole.tensors.at(fmt::format("gamma{}_value", k)).values);
    }
  }
}

TEST_CASE("--progress: the memory estimate and each layer on stderr, a line each") {
  TempDir dir("progress");
  const std::string m = (dir.path / "m.json").string();
  { std::ofstream(m) << random_manifest(3, 2, 15); }
  const auto r = cli({"extract", m, "--field", "float", "--progress", "--threads", "2", "-o",
                      (dir.path / "a.json").string()});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(testing_support::has(r.err, "dim 3, order 4, 2 layers, 2 threads: about "));
  CHECK(testing_support::has(r.err, "GiB of memory estimated\n"));
  CHECK(testing_support::has(r.err, "pulled back 1/2 layers"));
  CHECK(testing_support::has(r.err, "pulled back 2/2 layers"));
  CHECK(testing_support::has(r.err, "written, "));
  CHECK(cli({"extract", m, "--field", "float", "-o", (dir.path / "b.json").string()}).err.empty());
}
