#include "frontends/npz.hpp"

#include <fmt/format.h>
#include <zip.h>

#include <cstdint>
#include <memory>

#include "engine/error.hpp"
#include "frontends/npy.hpp"

namespace flowaction {

namespace {

// No weight tensor of a flow comes near this; a member declaring more is refused unread.
constexpr std::uint64_t max_member = std::uint64_t{1} << 30;
// Deflate cannot compress better than about 1032:1 (258-byte matches in 2-bit codes), so a larger
// declared ratio is a lie, whatever the absolute size.
constexpr std::uint64_t max_deflate_ratio = 1032;

struct ArchiveCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct FileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

}  // namespace

TensorFile parse_npz(std::span<const std::byte> bytes, std::string_view name) {
  const std::string file(name);
  // libzip takes zero bytes for an empty archive; a file that short is no archive at all.
  if (bytes.size() < 22)
    throw Error(fmt::format("{}: not a .npz (zip) archive: {} bytes, shorter than any zip", file,
                            bytes.size()));
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (!source) {
    const std::string what = zip_error_strerror(&error);
    zip_error_fini(&error);
    throw Error(fmt::format("{}: cannot read as a zip archive: {}", file, what));
  }
  std::unique_ptr<zip_t, ArchiveCloser> archive(
      zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error));
  if (!archive) {
    zip_source_free(source);
    const std::string what = zip_error_strerror(&error);
    zip_error_fini(&error);
    throw Error(fmt::format("{}: not a valid .npz (zip) archive: {}", file, what));
  }
  zip_error_fini(&error);

  TensorFile out;
  out.name = file;
  const zip_int64_t members = zip_get_num_entries(archive.get(), 0);
  std::uint64_t total = 0;
  for (zip_int64_t i = 0; i < members; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0 ||
        !(st.valid & ZIP_STAT_NAME))
      throw Error(
          fmt::format("{}: member {}: unreadable entry: {}", file, i, zip_strerror(archive.get())));
    const std::string member = st.name;
    if (member.size() < 5 || member.compare(member.size() - 4, 4, ".npy") != 0)
      throw Error(fmt::format(
          "{}: member '{}' is not a .npy array (an .npz holds NAME.npy members)", file, member));
    const std::string key = member.substr(0, member.size() - 4);
    const std::string where = fmt::format("{}: tensor '{}'", file, key);
    if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE) ||
        !(st.valid & ZIP_STAT_COMP_METHOD))
      throw Error(fmt::format("{}: the archive does not declare the member's sizes", where));
    if (st.size > max_member || total + st.size > max_member)
      throw Error(fmt::format("{}: declared size {} bytes is absurd for a weight tensor (limit {})",
                              where, st.size, max_member));
    if (st.comp_method == ZIP_CM_STORE && st.size != st.comp_size)
      throw Error(fmt::format("{}: stored member declares {} bytes but occupies {}", where, st.size,
                              st.comp_size));
    if (st.comp_method != ZIP_CM_STORE && st.size > max_deflate_ratio * st.comp_size + 1024)
      throw Error(fmt::format(
          "{}: declares {} bytes from {} compressed: a ratio no deflate stream reaches (zip bomb?)",
          where, st.size, st.comp_size));
    total += st.size;
    std::unique_ptr<zip_file_t, FileCloser> f(
        zip_fopen_index(archive.get(), static_cast<zip_uint64_t>(i), 0));
    if (!f)
      throw Error(
          fmt::format("{}: cannot open the member: {}", where, zip_strerror(archive.get())));
    // One byte more than declared, to notice a member that inflates to more than it says.
    std::string data(static_cast<std::size_t>(st.size) + 1, '\0');
    std::size_t got = 0;
    while (got < data.size()) {
      const zip_int64_t r = zip_fread(f.get(), data.data() + got, data.size() - got);
      if (r < 0)
        throw Error(fmt::format("{}: corrupt member: {}", where, zip_file_strerror(f.get())));
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    if (got != st.size)
      throw Error(fmt::format("{}: member inflates to {}{} bytes, declared {}", where, got,
                              got > st.size ? "+" : "", st.size));
    data.resize(got);
    NpyTensor t = parse_npy_tensor(std::as_bytes(std::span(data.data(), data.size())), where);
    StoredTensor s{std::move(t.shape), std::move(t.dtype), std::move(t.data)};
    if (!out.tensors.emplace(key, std::move(s)).second)
      throw Error(fmt::format("{}: appears twice in the archive", where));
  }
  return out;
}

}  // namespace flowaction
