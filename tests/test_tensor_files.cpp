// Tensor files (.safetensors, .npz): exact values, manifests that name their tensors, and bad
// files refused with one message naming file and tensor.
#include <doctest/doctest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/error.hpp"
#include "frontends/input_file.hpp"
#include "frontends/manifest.hpp"
#include "frontends/npz.hpp"
#include "frontends/safetensors.hpp"
#include "frontends/tensor_file.hpp"
#include "frontends/train_flow.hpp"
#include "tests/temp_dir.hpp"

using namespace flowaction;
namespace fs = std::filesystem;

namespace {

const fs::path data_dir = fs::path(FLOWACTION_SOURCE_DIR) / "tests" / "data";

GiNaC::numeric q(long p, long r) {
  return GiNaC::numeric(p) / GiNaC::numeric(r);
}

template <class T>
std::string raw(std::initializer_list<T> values) {
  std::string s;
  for (T v : values) s.append(reinterpret_cast<const char*>(&v), sizeof v);  // little-endian host
  return s;
}
std::string raw16(std::initializer_list<std::uint16_t> bits) {
  return raw<std::uint16_t>(bits);
}

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

TensorFile safetensors(const std::string& s) {
  return parse_safetensors(bytes_of(s), "t.safetensors");
}

// A file with an 8-byte length, the given header text and data bytes.
std::string with_header(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

}  // namespace

TEST_CASE("tensor files: binary values convert to their exact dyadic rationals") {
  CHECK(exact_value(static_cast<double>(0.1f)) == q(13421773, 134217728));
  CHECK(exact_value(0.1) == GiNaC::numeric(3602879701896397L) / GiNaC::pow(GiNaC::numeric(2), 55));
  CHECK(exact_value(-2.5) == q(-5, 2));
  CHECK(exact_value(0.0) == 0);
  CHECK(exact_value(std::ldexp(1.0, -1074)) ==
        GiNaC::pow(GiNaC::numeric(2), -1074));  // smallest subnormal
  CHECK(exact_value(std::ldexp(1.0, 1000)) == GiNaC::pow(GiNaC::numeric(2), 1000));
}

TEST_CASE("tensor files: safetensors F64, F32, F16 and BF16 read back exactly, shapes row-major") {
  // F16 0x2e66 = 819/8192, 0x8001 = -2^-24 (subnormal); BF16 0x3dcd = 205/2048, 0xc040 = -3.
  const std::string file =
      safetensors_bytes({{"a", "F64", {2}, raw<double>({0.1, -7.0})},
                         {"m", "F32", {2, 3}, raw<float>({1, 2, 3, 4, 5, 0.1f})},
                         {"h", "F16", {2}, raw16({0x2e66, 0x8001})},
                         {"s", "BF16", {}, raw16({0x3dcd})},
                         {"b", "BF16", {1}, raw16({0xc040})}});
  const TensorFile t = safetensors(file);
  REQUIRE(t.tensors.size() == 5);
  const Tensor m = t.get("m", "W");
  CHECK(m.shape == std::vector<int>{2, 3});
  CHECK(m.dtype == "F32");
  CHECK(m.stored_as == "m");
  CHECK(m.values[2] == 3);
  CHECK(m.values[5] == q(13421773, 134217728));
  CHECK(t.get("a", "b").values[0] == exact_value(0.1));
  CHECK(t.get("h", "alpha").values[0] == q(819, 8192));
  CHECK(t.get("h", "alpha").values[1] == -GiNaC::pow(GiNaC::numeric(2), -24));
  CHECK(t.get("s", "alpha").shape.empty());
  CHECK(t.get("s", "alpha").values[0] == q(205, 2048));
  CHECK(t.get("b", "alpha").values[0] == -3);
}

TEST_CASE("tensor files: bad safetensors files are refused naming file and tensor") {
  const std::string good = safetensors_bytes({{"W", "F32", {2}, raw<float>({1, 2})}});
  auto refused = [](const std::string& file, const std::string& part) {
    CAPTURE(part);
    std::string message;
    try {
      safetensors(file);
    } catch (const Error& e) {
      message = e.what();
    }
    CHECK(message.find("t.safetensors") == 0);
    CHECK(message.find(part) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  };
  refused("", "shorter than the 8-byte header length");
  refused(good.substr(0, 6), "shorter than the 8-byte header length");
  refused(good.substr(0, 20), "header length");
  refused(good.substr(0, good.size() - 1),
          "tensor 'W': data_offsets [0, 8] reach beyond the 7 bytes of data");
  refused(good + "xx", "2 bytes of data after the last tensor");
  std::string huge = good;
  huge[7] = '\x7f';
  refused(huge, "larger than the");
  const std::string d16(16, '\0');
  refused(
      with_header(
          R"({"W": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "V": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
          d16.substr(0, 12)),
      "overlap");
  refused(with_header(R"({"W": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                      d16.substr(0, 8)),
          "tensor 'W': data_offsets [4, 8] leave bytes 0..4");
  refused(with_header(R"({"W": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})",
                      d16.substr(0, 8)),
          "tensor 'W': shape [3] of F32 needs 12 bytes, data_offsets [0, 8] give 8");
  refused(with_header(R"({"W": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})",
                      d16.substr(0, 8)),
          "end before they begin");
  refused(
      with_header(
          R"({"W": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}})",
          d16.substr(0, 8)),
      "tensor 'W'");
  refused(with_header(R"({"W": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}})",
                      d16.substr(0, 8)),
          "tensor 'W': dtype 'I64' is not a floating-point type flowaction reads");
  refused(with_header(R"({"W": {"dtype": "F128", "shape": [1], "data_offsets": [0, 8]}})",
                      d16.substr(0, 8)),
          "dtype 'F128' is unknown");
  refused(with_header(R"({"W": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})",
                      d16.substr(0, 8)),
          "shape must hold non-negative integers");
  refused(with_header(R"({"W": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8.0]}})",
                      d16.substr(0, 8)),
          "data_offsets must hold non-negative integers");
  refused(with_header(R"({"W": {"dtype": "F32", "shape": [2]}})", d16.substr(0, 8)),
          "needs dtype, shape and data_offsets");
  refused(
      with_header(
          R"({"W": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "W": {"dtype": "F32", "shape": [0], "data_offsets": [8, 8]}})",
          d16.substr(0, 8)),
      "appears twice");
  refused(with_header(R"({"W": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})",
                      d16.substr(0, 8)),
          "not valid JSON");
  refused(with_header("{\"W\xff\": 1}", ""), "ill-formed UTF-8");
  refused(with_header(R"({"__metadata__": {"a": 1}})", ""), "__metadata__ entry 'a'");
  refused(with_header(R"([1, 2])", ""), "does not start with '{'");
}

TEST_CASE("tensor files: non-finite values and names missing from the file are refused on use") {
  const TensorFile t =
      safetensors(safetensors_bytes({{"W", "F32", {2}, raw<float>({1, std::nanf("")})},
                                     {"b", "F64", {1}, raw<double>({-HUGE_VAL})}}));
  CHECK_THROWS_WITH_AS(t.get("W", "W"), "t.safetensors: tensor 'W': element 1 is NaN", Error);
  CHECK_THROWS_WITH_AS(t.get("b", "b"), "t.safetensors: tensor 'b': element 0 is infinite", Error);
  CHECK_THROWS_WITH_AS(t.get("V", "W"),
                       "t.safetensors: tensor 'V': not in the file (it holds W, b)", Error);
}

TEST_CASE(
    "tensor files: .npz from savez and savez_compressed (Fortran order, big-endian) read exactly") {
  for (const char* name : {"weights.npz", "weights_fortran.npz"}) {
    CAPTURE(name);
    const TensorFile t = read_tensor_file(data_dir / name);
    const Tensor W = t.get("W", "W");
    CHECK(W.shape == std::vector<int>{2, 2});
    // Row-major [[0.5, 0.1], [0.2, 0.1]] in float32 (the Fortran file stores them as >f8).
    CHECK(W.values[0] == q(1, 2));
    CHECK(W.values[1] == q(13421773, 134217728));
    CHECK(W.values[2] == q(13421773, 67108864));
    CHECK(W.dtype == (std::string(name) == "weights.npz" ? "<f4" : ">f8"));
    const Tensor a = t.get("alpha", "alpha");
    CHECK(a.dtype == "<f2");
    CHECK(a.values[0] == q(1, 4));
    CHECK(a.values[1] == q(819, 8192));  // float16 nearest to 0.1: 1638.4/16384 rounds down
  }
}

TEST_CASE("tensor files: zip bombs and broken archives are refused before inflating") {
  CHECK_THROWS_WITH_AS(
      read_tensor_file(data_dir / "bomb.npz"),
      doctest::Contains("bomb.npz: tensor 'W': declared size 1073741825 bytes is absurd"), Error);
  CHECK_THROWS_WITH_AS(read_tensor_file(data_dir / "ratio_bomb.npz"),
                       doctest::Contains("ratio_bomb.npz: tensor 'W': declares"), Error);
  const std::string good =
      read_input_file(data_dir / "weights.npz", "a test file", max_tensor_file_bytes);
  for (std::size_t cut : {std::size_t{0}, std::size_t{30}, good.size() / 2, good.size() - 1}) {
    CAPTURE(cut);
    CHECK_THROWS_WITH_AS(parse_npz(bytes_of(good.substr(0, cut)), "w.npz"),
                         doctest::Contains("w.npz: "), Error);
  }
  // Flip a data byte of the stored member: the CRC check fails.
  std::string corrupt = good;
  corrupt[good.find("\x93NUMPY") + 140] ^= 0x01;
  CHECK_THROWS_WITH_AS(parse_npz(bytes_of(corrupt), "w.npz"), doctest::Contains("w.npz: "), Error);
}

TEST_CASE(
    "tensor files: a manifest naming tensors gives exactly the model of the same values inline") {
  const std::string inline_text = R"({"format": "flowaction/1", "dim": 2, "layers": [
      {"type": "affine", "W": [[0.5, 0.100000001490116119384765625], [0.20000000298023223876953125, 0.100000001490116119384765625]]},
      {"type": "activation", "alpha": [0.25, 0.0999755859375]}]})";
  const Model expected = parse_manifest(inline_text, "inline.flow.json");
  for (const char* name : {"weights.flow.json", "weights_npz.flow.json"}) {
    CAPTURE(name);
    const Model m = read_manifest(data_dir / name);
    REQUIRE(m.layers.size() == 2);
    const auto& W = std::get<AffineLayer>(m.layers[0]).W;
    CHECK(W.values == std::get<AffineLayer>(expected.layers[0]).W.values);
    CHECK(W.shape == std::vector<int>{2, 2});
    CHECK(W.stored_as == "W");
    const auto& a = std::get<ActivationLayer>(m.layers[1]).phi();
    CHECK(a.values == std::get<ActivationLayer>(expected.layers[1]).phi().values);
    CHECK(a.dtype == (std::string(name) == "weights.flow.json" ? "F16" : "<f2"));
    // generate's double flow holds the same numbers.
    const train::Flow f = read_train_flow(data_dir / name);
    CHECK(std::get<train::AffineLayer>(f.layers[0]).W(1, 0) == static_cast<double>(0.2f));
  }
}

TEST_CASE("tensor files: manifest errors name the manifest, layer, field, tensor and file") {
  TempDir dir("tensor_files");
  dir.write("w.safetensors",
            safetensors_bytes({{"W", "F32", {2, 2}, raw<float>({1, 0, 0, 1})},
                               {"v", "F32", {3}, raw<float>({1, 2, 3})},
                               {"nan", "F64", {2}, raw<double>({1, std::nan("")})}}));
  auto message = [&](const std::string& layer, const std::string& tensors = "w.safetensors") {
    const fs::path p =
        dir.write("m.flow.json", R"({"format": "flowaction/1", "dim": 2, "tensors": ")" + tensors +
                                     R"(", "layers": [)" + layer + "]}");
    try {
      read_manifest(p);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message(R"({"type": "affine", "W": "W", "b": "v"})") ==
        (dir.path / "m.flow.json").string() + ": layer 1 (affine): field 'b' (tensor 'v' of " +
            (dir.path / "w.safetensors").string() +
            "): expected a vector of length 2, got a vector of length 3");
  CHECK(message(R"({"type": "affine", "W": "V"})")
            .find("field 'W': " + (dir.path / "w.safetensors").string() +
                  ": tensor 'V': not in the file") != std::string::npos);
  CHECK(message(R"({"type": "affine", "W": "nan"})").find("tensor 'nan': element 1 is NaN") !=
        std::string::npos);
  CHECK(message(R"({"type": "affine", "W": "W"})", "missing.safetensors")
            .find("missing.safetensors: cannot open") != std::string::npos);
  CHECK(message(R"({"type": "affine", "W": "W"})", "w.h5").find("unknown tensor file type '.h5'") !=
        std::string::npos);
  CHECK_THROWS_WITH_AS(
      parse_manifest(
          R"({"format": "flowaction/1", "dim": 1, "layers": [{"type": "activation", "alpha": "a"}]})",
          "x.json"),
      "x.json: layer 1 (activation): field 'alpha': names tensor \"a\", but the manifest gives no "
      "\"tensors\" file",
      Error);
  // Not UTF-8, and not JSON at all: one clean line naming the manifest.
  CHECK_THROWS_WITH_AS(parse_manifest("{\"format\": \"flowaction/1\xff\"}", "x.json"),
                       doctest::Contains("x.json: not valid JSON (byte"), Error);
  CHECK_THROWS_WITH_AS(parse_manifest(std::string("PK\x03\x04\x00", 5), "x.json"),
                       doctest::Contains("x.json: not valid JSON"), Error);
}
