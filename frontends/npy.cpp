#include "frontends/npy.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>

#include "engine/error.hpp"
#include "frontends/float_bits.hpp"
#include "frontends/input_file.hpp"

namespace flowaction {

namespace {

[[noreturn]] void fail(std::string_view name, std::string_view what) {
  throw Error(fmt::format("{}: {}", name, what));
}

std::string read_samples_file(const std::filesystem::path& path, std::string_view what) {
  return read_input_file(path, what, max_samples_bytes);
}

// A tiny parser for the Python dict literal of the .npy header, e.g.
// {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::string_view name) : s_(text), name_(name) {}

  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
  }
  bool peek(char c) {
    skip_ws();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  bool accept(char c) {
    if (!peek(c)) return false;
    ++pos_;
    return true;
  }
  void expect(char c) {
    if (!peek(c))
      fail(name_, fmt::format("malformed .npy header: expected '{}' at offset {}", c, pos_));
    ++pos_;
  }
  std::string string_literal() {
    skip_ws();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"'))
      fail(name_, "malformed .npy header: expected a quoted string");
    const char q = s_[pos_++];
    const std::size_t end = s_.find(q, pos_);
    if (end == std::string_view::npos) fail(name_, "malformed .npy header: unterminated string");
    std::string out(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    skip_ws();
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail(name_, "malformed .npy header: fortran_order must be True or False");
  }
  std::vector<std::size_t> shape() {
    expect('(');
    std::vector<std::size_t> dims;
    while (!peek(')')) {
      skip_ws();
      std::size_t v = 0;
      auto [p, ec] = std::from_chars(s_.data() + pos_, s_.data() + s_.size(), v);
      if (ec != std::errc())
        fail(name_, "malformed .npy header: shape entries must be non-negative integers");
      pos_ = static_cast<std::size_t>(p - s_.data());
      // numpy may write 3L on Python 2
      if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;
      dims.push_back(v);
      if (peek(','))
        ++pos_;
      else if (!peek(')'))
        fail(name_, "malformed .npy header: bad shape tuple");
    }
    expect(')');
    return dims;
  }

 private:
  std::string_view s_;
  std::string_view name_;
  std::size_t pos_ = 0;
};

}  // namespace

NpyTensor parse_npy_tensor(std::span<const std::byte> bytes, std::string_view name) {
  static constexpr unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (bytes.size() < 10 || std::memcmp(bytes.data(), magic, 6) != 0)
    fail(name, "not a .npy file (missing the \\x93NUMPY magic)");
  const auto major = static_cast<unsigned>(bytes[6]);
  const auto minor = static_cast<unsigned>(bytes[7]);
  std::size_t header_len = 0;
  std::size_t offset = 0;
  if (major == 1) {
    header_len = static_cast<std::size_t>(bytes[8]) | (static_cast<std::size_t>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail(name, "truncated .npy header");
    for (int i = 0; i < 4; ++i) header_len |= static_cast<std::size_t>(bytes[8 + i]) << (8 * i);
    offset = 12;
  } else {
    fail(name, fmt::format(".npy format version {}.{} is not supported (1.0, 2.0, 3.0 are)", major,
                           minor));
  }
  if (minor != 0)
    fail(name, fmt::format(".npy format version {}.{} is not supported", major, minor));
  if (header_len > bytes.size() - offset) fail(name, "truncated .npy header");
  const std::string_view header(reinterpret_cast<const char*>(bytes.data()) + offset, header_len);
  const std::size_t data_offset = offset + header_len;

  std::optional<std::string> descr;
  std::optional<bool> fortran;
  std::optional<std::vector<std::size_t>> shape;
  HeaderParser p(header, name);
  p.expect('{');
  while (!p.peek('}')) {
    const std::string key = p.string_literal();
    p.expect(':');
    if (key == "descr")
      descr = p.string_literal();
    else if (key == "fortran_order")
      fortran = p.boolean();
    else if (key == "shape")
      shape = p.shape();
    else
      fail(name, fmt::format("malformed .npy header: unknown key '{}'", key));
    if (p.accept(',')) continue;
    if (!p.peek('}')) fail(name, "malformed .npy header: expected ',' or '}'");
  }
  if (!descr || !fortran || !shape)
    fail(name, "malformed .npy header: needs descr, fortran_order and shape");

  std::size_t item = 0;
  bool big = false;
  char kind = 0;
  const std::string& d = *descr;
  if (d.size() == 3 && (d[0] == '<' || d[0] == '>' || d[0] == '=' || d[0] == '|') && d[1] == 'f') {
    big = d[0] == '>';
    if (d[0] == '=') big = std::endian::native == std::endian::big;
    if (d[2] == '8')
      item = 8;
    else if (d[2] == '4')
      item = 4;
    else if (d[2] == '2')
      item = 2;
    kind = 'f';
  }
  if (d.size() == 3 && (d[0] == '<' || d[0] == '>' || d[0] == '=') && d[1] == 'i' && d[2] == '4') {
    big = d[0] == '>' || (d[0] == '=' && std::endian::native == std::endian::big);
    item = 4;
    kind = 'i';
  }
  if (kind == 0 || item == 0 || (d[0] == '|' && item != 1))
    fail(name, fmt::format("dtype '{}' is not supported (float16/32/64 and int32 are)", d));

  NpyTensor t;
  t.shape = *shape;
  t.dtype = d;
  std::size_t count = 1;
  for (const std::size_t n : t.shape) {
    if (n != 0 && count > std::numeric_limits<std::size_t>::max() / n / item)
      fail(name, "array shape is too large");
    count *= n;
  }
  const std::size_t available = bytes.size() - data_offset;
  if (available < count * item)
    fail(name, fmt::format("data is truncated: shape needs {} bytes, file has {}", count * item,
                           available));
  if (available > count * item)
    fail(name, fmt::format("{} trailing bytes after the array data", available - count * item));

  t.data.resize(count);
  const std::byte* src = bytes.data() + data_offset;
  // Fortran order stores the first index fastest: walk its multi-index and place each value at
  // its C (row-major) position.
  std::vector<std::size_t> index(t.shape.size(), 0), stride(t.shape.size(), 1);
  for (std::size_t a = t.shape.size(); a-- > 1;) stride[a - 1] = stride[a] * t.shape[a];
  for (std::size_t k = 0; k < count; ++k) {
    const double v =
        kind == 'i' ? load_int32(src + k * item, big) : load_float(src + k * item, item, big);
    if (!*fortran) {
      t.data[k] = v;
      continue;
    }
    std::size_t dst = 0;
    for (std::size_t a = 0; a < index.size(); ++a) dst += index[a] * stride[a];
    t.data[dst] = v;
    for (std::size_t a = 0; a < index.size() && ++index[a] == t.shape[a]; ++a) index[a] = 0;
  }
  return t;
}

NpyArray parse_npy(std::span<const std::byte> bytes, std::string_view name) {
  NpyTensor t = parse_npy_tensor(bytes, name);
  const auto& dims = t.shape;
  if (dims.empty() || dims.size() > 2)
    fail(name, fmt::format("array has {} dimensions; expected 1 (samples) or 2 (samples x units)",
                           dims.size()));
  NpyArray a;
  a.ndim = static_cast<int>(dims.size());
  a.rows = dims[0];
  a.cols = dims.size() == 2 ? dims[1] : 1;
  a.data = std::move(t.data);
  return a;
}

NpyArray read_npy(const std::filesystem::path& path) {
  const std::string s = read_samples_file(path, "a .npy array");
  return parse_npy(std::as_bytes(std::span(s.data(), s.size())), path.string());
}

std::string npy_header(std::string_view descr, std::span<const std::size_t> shape) {
  // As NumPy writes shapes: (), (n,), (n, m).
  const std::string dims =
      fmt::format("{}{}", fmt::join(shape, ", "), shape.size() == 1 ? "," : "");
  std::string header =
      fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr, dims);
  // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>((header.size() >> 8) & 0xff));
  return out + header;
}

std::string npy_bytes(const double* data, std::size_t rows, std::size_t cols) {
  const std::size_t shape[] = {rows, cols};
  std::string out = npy_header("<f8", shape);
  const std::size_t n = rows * cols;
  const std::size_t start = out.size();
  out.resize(start + 8 * n);
  for (std::size_t k = 0; k < n; ++k) {
    std::uint64_t u = std::bit_cast<std::uint64_t>(data[k]);
    if constexpr (std::endian::native == std::endian::big) u = swap_bytes(u);
    std::memcpy(out.data() + start + 8 * k, &u, 8);
  }
  return out;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Parses one line of numbers; returns false (and leaves out partially filled) if a field is not
// a number.
bool parse_numbers(std::string_view line, std::vector<double>& out, std::size_t& bad_field) {
  out.clear();
  std::size_t field = 0;
  while (true) {
    const std::size_t comma = line.find(',');
    std::string_view f = trim(line.substr(0, comma));
    if (!f.empty() && f.front() == '+') f.remove_prefix(1);
    double v = 0;
    auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
    if (f.empty() || ec != std::errc() || p != f.data() + f.size()) {
      bad_field = field;
      return false;
    }
    out.push_back(v);
    ++field;
    if (comma == std::string_view::npos) return true;
    line.remove_prefix(comma + 1);
  }
}

}  // namespace

NpyArray parse_csv(std::string_view text, std::string_view name) {
  NpyArray a;
  a.ndim = 2;
  std::vector<double> row;
  std::size_t line_no = 0;
  bool first_content = true;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    std::size_t bad = 0;
    const bool ok = parse_numbers(line, row, bad);
    if (first_content) {
      first_content = false;
      if (!ok) continue;  // a header line
    }
    if (!ok) fail(name, fmt::format("line {}, field {}: not a number", line_no, bad + 1));
    if (a.cols == 0)
      a.cols = row.size();
    else if (row.size() != a.cols)
      fail(name,
           fmt::format("line {} has {} fields; earlier rows have {}", line_no, row.size(), a.cols));
    a.data.insert(a.data.end(), row.begin(), row.end());
    ++a.rows;
  }
  if (a.rows == 0) fail(name, "no data rows");
  return a;
}

NpyArray read_csv(const std::filesystem::path& path) {
  return parse_csv(read_samples_file(path, "a CSV table"), path.string());
}

NpyArray read_table(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".csv" ? read_csv(path) : read_npy(path);
}

}  // namespace flowaction
