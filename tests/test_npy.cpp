// .npy and CSV reading: every supported header version, dtype and order against hand-made bytes,
// the writer round trip, and one clear error for each kind of malformed input.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "engine/error.hpp"
#include "frontends/npy.hpp"

using namespace flowaction;

namespace {

// An .npy file built by hand: magic, version, little-endian header length, header, data.
std::string make_npy(int major, std::string header, const std::string& data) {
  const std::size_t prefix = major == 1 ? 10 : 12;
  header += std::string((64 - (prefix + header.size() + 1) % 64) % 64, ' ') + "\n";
  std::string s("\x93NUMPY", 6);
  s.push_back(static_cast<char>(major));
  s.push_back('\0');
  const std::size_t n = header.size();
  for (std::size_t i = 0; i < (major == 1 ? 2u : 4u); ++i)
    s.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return s + header + data;
}

template <class T>
std::string raw(std::initializer_list<T> values, bool big_endian = false) {
  std::string s;
  for (T v : values) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    if (big_endian) std::reverse(b, b + sizeof(T));
    s.append(b, sizeof(T));
  }
  return s;
}

NpyArray parse(const std::string& s) {
  return parse_npy(std::as_bytes(std::span(s.data(), s.size())), "x.npy");
}

}  // namespace

TEST_CASE("npy: writer output reads back exactly") {
  const double v[6] = {1.5, -0.1, 1e-300, 3.0, 0.0, -7.25};
  const std::string bytes = npy_bytes(v, 2, 3);
  CHECK(bytes.size() % 16 == 0);  // header padded to 64, data 48 bytes
  const NpyArray a = parse(bytes);
  CHECK(a.rows == 2);
  CHECK(a.cols == 3);
  for (int i = 0; i < 6; ++i) CHECK(a.data[i] == v[i]);
}

TEST_CASE("npy: versions, dtypes, byte order, fortran order, 1-D") {
  const std::string c_header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }";
  const std::string data = raw<double>({1, 2, 3, 4});
  for (int major : {1, 2, 3}) {
    const NpyArray a = parse(make_npy(major, c_header, data));
    CHECK(a.rows == 2);
    CHECK(a(0, 1) == 2);
    CHECK(a(1, 0) == 3);
  }
  // Fortran order stores columns: bytes 1 2 3 4 are a(0,0) a(1,0) a(0,1) a(1,1).
  const NpyArray f =
      parse(make_npy(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", data));
  CHECK(f(0, 1) == 3);
  CHECK(f(1, 0) == 2);
  const NpyArray big =
      parse(make_npy(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }",
                     raw<double>({0.1, -2.5}, true)));
  CHECK(big.ndim == 1);
  CHECK(big.rows == 2);
  CHECK(big.cols == 1);
  CHECK(big.data[0] == 0.1);
  CHECK(big.data[1] == -2.5);
  const NpyArray f4 = parse(make_npy(
      1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", raw<float>({0.1f, 3.0f})));
  CHECK(f4.data[0] == static_cast<double>(0.1f));
  // float16: 0x3c00 = 1, 0xc000 = −2, 0x0001 = 2⁻²⁴ (subnormal), 0x7bff = 65504.
  const NpyArray f2 = parse(make_npy(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (4,), }",
                                     raw<std::uint16_t>({0x3c00, 0xc000, 0x0001, 0x7bff})));
  CHECK(f2.data[0] == 1.0);
  CHECK(f2.data[1] == -2.0);
  CHECK(f2.data[2] == std::ldexp(1.0, -24));
  CHECK(f2.data[3] == 65504.0);
}

TEST_CASE("npy: malformed files get one clear error naming the file") {
  const std::string h = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }";
  const std::string data = raw<double>({1, 2, 3, 4});
  auto fails_with = [](const std::string& bytes, const char* what) {
    CAPTURE(what);
    CHECK_THROWS_WITH_AS(parse(bytes), doctest::Contains(what), flowaction::Error);
    CHECK_THROWS_WITH_AS(parse(bytes), doctest::Contains("x.npy"), flowaction::Error);
  };
  fails_with("hello", "magic");
  fails_with(make_npy(1, h, data).substr(0, 20), "truncated");
  fails_with(make_npy(1, h, data.substr(0, 24)), "truncated");
  fails_with(make_npy(1, h, data + "xx"), "trailing");
  fails_with(make_npy(4, h, data), "version");
  fails_with(make_npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }", data),
             "dtype");
  fails_with(make_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 2), }", data),
             "dimensions");
  fails_with(make_npy(1, "{'descr': '<f8', 'shape': (2, 2), }", data), "fortran_order");
  fails_with(make_npy(1, "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2, 2), }", data),
             "fortran_order");
  fails_with(make_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (-2, 2), }", data),
             "shape");
  fails_with(
      make_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999), }",
               data),
      "too large");
  CHECK_THROWS_WITH_AS(read_npy("/nonexistent/file.npy"), doctest::Contains("cannot open"),
                       flowaction::Error);
}

TEST_CASE("csv: header line, spaces, comments, and errors with line numbers") {
  const NpyArray a = parse_csv("x0, x1,x2\n1, 2.5 ,-3e-2\n\n# comment\n4,5,6\r\n", "d.csv");
  CHECK(a.rows == 2);
  CHECK(a.cols == 3);
  CHECK(a(0, 1) == 2.5);
  CHECK(a(0, 2) == -3e-2);
  CHECK(a(1, 2) == 6);
  const NpyArray b = parse_csv("1,2\n3,4", "d.csv");
  CHECK(b.rows == 2);
  CHECK_THROWS_WITH_AS(parse_csv("1,2\n3\n", "d.csv"), doctest::Contains("line 2 has 1 fields"),
                       flowaction::Error);
  CHECK_THROWS_WITH_AS(parse_csv("1,2\n3,abc\n", "d.csv"), doctest::Contains("line 2, field 2"),
                       flowaction::Error);
  CHECK_THROWS_WITH_AS(parse_csv("a,b\n", "d.csv"), doctest::Contains("no data rows"),
                       flowaction::Error);
}
