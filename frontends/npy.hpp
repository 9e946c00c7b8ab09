// NumPy .npy arrays (format versions 1.0, 2.0, 3.0) and plain CSV tables, read into doubles.
//
// The reader is strict: every header field, the dtype, the shape and the data length are checked
// against the bytes, and any problem is one flowaction::Error naming the file. parse_npy works on
// bytes in memory so that an .npz member can be handed to it unchanged.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace flowaction {

// A 1-D or 2-D array of doubles in C (row-major) order. A 1-D array of n values has rows = n,
// cols = 1 and ndim = 1.
struct NpyArray {
  std::size_t rows = 0;
  std::size_t cols = 0;
  int ndim = 2;
  std::vector<double> data;  // rows * cols values, row-major

  double operator()(std::size_t r, std::size_t c) const { return data[r * cols + c]; }
};

// An array of any rank as a .npy file stores it: shape as in the header, values in C order as
// doubles (exact: float16 and float32 are subsets of double), dtype as written ("<f4").
struct NpyTensor {
  std::vector<std::size_t> shape;
  std::string dtype;
  std::vector<double> data;
};
NpyTensor parse_npy_tensor(std::span<const std::byte> bytes, std::string_view name);

// Supported dtypes: <f8, >f8, <f4, >f4, <f2, <i4, >i4 (converted exactly to double); fortran_order
// True or False; shapes (n,) and (n, m).
NpyArray parse_npy(std::span<const std::byte> bytes, std::string_view name);
NpyArray read_npy(const std::filesystem::path& path);

// The header of a version 1.0 .npy file (magic to padded '\n') for an array of dtype descr ("<f8",
// "<i4") and the given shape in C order; the raw little-endian data follows it.
std::string npy_header(std::string_view descr, std::span<const std::size_t> shape);

// The bytes of a version 1.0 .npy file holding rows x cols float64 values (<f8, C order) taken
// from data in row-major order.
std::string npy_bytes(const double* data, std::size_t rows, std::size_t cols);

// A CSV table of numbers separated by commas (spaces around them allowed). A first line that
// does not parse as numbers is taken as a header and skipped; empty lines and lines starting
// with '#' are skipped. Every row must have the same number of fields.
NpyArray parse_csv(std::string_view text, std::string_view name);
NpyArray read_csv(const std::filesystem::path& path);

// Reads .npy or .csv by extension (anything not ending in .csv is read as .npy).
NpyArray read_table(const std::filesystem::path& path);

}  // namespace flowaction
