#include "frontends/npz.hpp"

#include <dlfcn.h>
#include <fmt/format.h>
#include <zip.h>
#include <zlib.h>

#include <concepts>
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

// libzip is loaded when the first archive is read, not at start-up: binding it and the libcrypto
// it needs was a millisecond of every run, also of the many that never read an .npz.
#define FLOWACTION_ZIP_FUNCTIONS(X)                                                                \
  X(error_init)                                                                                    \
  X(error_fini) X(error_strerror) X(source_buffer_create) X(source_free) X(open_from_source)       \
      X(discard) X(strerror) X(get_num_entries) X(stat_init) X(stat_index) X(fopen_index) X(fread) \
          X(fclose) X(file_strerror)

struct ZipLibrary {
#define FLOWACTION_ZIP_POINTER(f) decltype(&::zip_##f) f = nullptr;
  FLOWACTION_ZIP_FUNCTIONS(FLOWACTION_ZIP_POINTER)
#undef FLOWACTION_ZIP_POINTER
};

const ZipLibrary& libzip(const std::string& file) {
  static const ZipLibrary library = [&] {
    void* handle = ::dlopen(FLOWACTION_LIBZIP, RTLD_NOW | RTLD_LOCAL);
    if (!handle)
      throw Error(fmt::format("{}: reading an .npz archive needs libzip ({}): {}", file,
                              FLOWACTION_LIBZIP, ::dlerror()));
    ZipLibrary z;
#define FLOWACTION_ZIP_BIND(f)                                       \
  z.f = reinterpret_cast<decltype(z.f)>(::dlsym(handle, "zip_" #f)); \
  if (!z.f)                                                          \
    throw Error(fmt::format("{}: {} has no zip_" #f ": {}", file, FLOWACTION_LIBZIP, ::dlerror()));
    FLOWACTION_ZIP_FUNCTIONS(FLOWACTION_ZIP_BIND)
#undef FLOWACTION_ZIP_BIND
    return z;
  }();
  return library;
}

struct ArchiveCloser {
  const ZipLibrary* z;
  void operator()(zip_t* archive) const { z->discard(archive); }
};
struct FileCloser {
  const ZipLibrary* z;
  void operator()(zip_file_t* f) const { z->fclose(f); }
};

}  // namespace

TensorFile parse_npz(std::span<const std::byte> bytes, std::string_view name) {
  const std::string file(name);
  // libzip takes zero bytes for an empty archive; a file that short is no archive at all.
  if (bytes.size() < 22)
    throw Error(fmt::format("{}: not a .npz (zip) archive: {} bytes, shorter than any zip", file,
                            bytes.size()));
  const ZipLibrary& z = libzip(file);
  zip_error_t error;
  z.error_init(&error);
  zip_source_t* source = z.source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (!source) {
    const std::string what = z.error_strerror(&error);
    z.error_fini(&error);
    throw Error(fmt::format("{}: cannot read as a zip archive: {}", file, what));
  }
  std::unique_ptr<zip_t, ArchiveCloser> archive(
      z.open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error), ArchiveCloser{&z});
  if (!archive) {
    z.source_free(source);
    const std::string what = z.error_strerror(&error);
    z.error_fini(&error);
    throw Error(fmt::format("{}: not a valid .npz (zip) archive: {}", file, what));
  }
  z.error_fini(&error);

  TensorFile out;
  out.name = file;
  const zip_int64_t members = z.get_num_entries(archive.get(), 0);
  std::uint64_t total = 0;
  for (zip_int64_t i = 0; i < members; ++i) {
    zip_stat_t st;
    z.stat_init(&st);
    if (z.stat_index(archive.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0 ||
        !(st.valid & ZIP_STAT_NAME))
      throw Error(
          fmt::format("{}: member {}: unreadable entry: {}", file, i, z.strerror(archive.get())));
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
        z.fopen_index(archive.get(), static_cast<zip_uint64_t>(i), 0), FileCloser{&z});
    if (!f)
      throw Error(fmt::format("{}: cannot open the member: {}", where, z.strerror(archive.get())));
    // One byte more than declared, to notice a member that inflates to more than it says.
    std::string data(static_cast<std::size_t>(st.size) + 1, '\0');
    std::size_t got = 0;
    while (got < data.size()) {
      const zip_int64_t r = z.fread(f.get(), data.data() + got, data.size() - got);
      if (r < 0)
        throw Error(fmt::format("{}: corrupt member: {}", where, z.file_strerror(f.get())));
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

namespace {

// Little-endian integer fields of the zip records.
class Record {
 public:
  template <std::integral V>
  Record& put(V v) {
    for (std::size_t i = 0; i < sizeof(V); ++i)
      bytes_.push_back(static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff));
    return *this;
  }
  Record& put(std::string_view s) {
    bytes_.append(s);
    return *this;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

constexpr std::uint32_t no32 = 0xffffffff;  // "see the Zip64 extra field"

struct Member {
  std::string name;
  std::uint64_t size = 0, offset = 0;
  std::uint32_t crc = 0;
};

// The fields a member's local header and its central directory entry share, from "version
// needed" to the name's length; sizes that do not fit 32 bits are in the Zip64 extra field.
void put_member_fields(Record& r, const Member& m, bool zip64_size, std::uint16_t version) {
  constexpr std::uint16_t dos_date = (0 << 9) | (1 << 5) | 1;  // 1980-01-01, as zip's epoch
  const std::uint32_t size = zip64_size ? no32 : static_cast<std::uint32_t>(m.size);
  r.put(version).put<std::uint16_t>(0).put<std::uint16_t>(0);  // flags; stored
  r.put<std::uint16_t>(0).put(dos_date).put(m.crc).put(size).put(size);
  r.put<std::uint16_t>(static_cast<std::uint16_t>(m.name.size()));
}

std::uint32_t crc32_of(std::uint32_t crc, std::string_view bytes) {
  return static_cast<std::uint32_t>(
      crc32_z(crc, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

}  // namespace

void write_npz(std::ostream& out, const std::vector<RawTensor>& tensors, bool zip64) {
  std::uint64_t offset = 0;
  std::vector<Member> members;
  const auto write = [&](std::string_view bytes) {
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    offset += bytes.size();
  };
  for (const RawTensor& t : tensors) {
    if (t.dtype != "I32" && t.dtype != "F64")
      throw std::logic_error("write_npz: dtype " + t.dtype + " is not written");
    const std::string header = npy_header(t.dtype == "I32" ? "<i4" : "<f8", t.shape);
    Member m{t.name + ".npy", header.size() + t.data.size(), offset, 0};
    m.crc = crc32_of(crc32_of(0, header), t.data);
    const bool big = zip64 || m.size >= no32;
    Record local;
    local.put<std::uint32_t>(0x04034b50);
    put_member_fields(local, m, big, big ? 45 : 20);
    local.put<std::uint16_t>(big ? 20 : 0).put(m.name);
    if (big) local.put<std::uint16_t>(1).put<std::uint16_t>(16).put(m.size).put(m.size);
    write(local.bytes());
    write(header);
    write(t.data);
    members.push_back(std::move(m));
  }
  // The central directory, then (where needed) the Zip64 end records, then the end record.
  const std::uint64_t directory = offset;
  for (const Member& m : members) {
    const bool big_size = zip64 || m.size >= no32, big_offset = zip64 || m.offset >= no32;
    Record entry;
    entry.put<std::uint32_t>(0x02014b50).put<std::uint16_t>((3 << 8) | 45);
    put_member_fields(entry, m, big_size, big_size || big_offset ? 45 : 20);
    const std::uint16_t extra = (big_size ? 16 : 0) + (big_offset ? 8 : 0);
    entry.put<std::uint16_t>(extra ? extra + 4 : 0).put<std::uint16_t>(0);
    entry.put<std::uint16_t>(0).put<std::uint16_t>(0).put<std::uint32_t>(0100644u << 16);
    entry.put<std::uint32_t>(big_offset ? no32 : static_cast<std::uint32_t>(m.offset));
    entry.put(m.name);
    if (extra) {
      entry.put<std::uint16_t>(1).put<std::uint16_t>(extra);
      if (big_size) entry.put(m.size).put(m.size);
      if (big_offset) entry.put(m.offset);
    }
    write(entry.bytes());
  }
  const std::uint64_t directory_size = offset - directory, count = members.size();
  const bool big_end = zip64 || directory >= no32 || directory_size >= no32 || count >= 0xffff;
  Record end;
  if (big_end) {
    const std::uint64_t record = offset;
    end.put<std::uint32_t>(0x06064b50).put<std::uint64_t>(44).put<std::uint16_t>((3 << 8) | 45);
    end.put<std::uint16_t>(45).put<std::uint32_t>(0).put<std::uint32_t>(0);
    end.put(count).put(count).put(directory_size).put(directory);
    end.put<std::uint32_t>(0x07064b50).put<std::uint32_t>(0).put(record).put<std::uint32_t>(1);
  }
  const auto small = [&](std::uint64_t v, std::uint64_t limit) { return big_end ? limit : v; };
  end.put<std::uint32_t>(0x06054b50).put<std::uint16_t>(0).put<std::uint16_t>(0);
  end.put<std::uint16_t>(static_cast<std::uint16_t>(small(count, 0xffff)));
  end.put<std::uint16_t>(static_cast<std::uint16_t>(small(count, 0xffff)));
  end.put<std::uint32_t>(static_cast<std::uint32_t>(small(directory_size, no32)));
  end.put<std::uint32_t>(static_cast<std::uint32_t>(small(directory, no32)));
  end.put<std::uint16_t>(0);
  write(end.bytes());
}

}  // namespace flowaction
