#include "frontends/input_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/error.hpp"

namespace flowaction {

namespace {

std::string bytes_text(std::uint64_t n) {
  if (n >= (std::uint64_t{1} << 30) && n % (std::uint64_t{1} << 30) == 0)
    return fmt::format("{} GiB", n >> 30);
  if (n >= (std::uint64_t{1} << 20) && n % (std::uint64_t{1} << 20) == 0)
    return fmt::format("{} MiB", n >> 20);
  return fmt::format("{} bytes", n);
}

}  // namespace

std::string_view file_type_name(unsigned mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

std::string read_input_file(const std::filesystem::path& path, std::string_view what,
                            std::uint64_t cap) {
  const std::string name = path.string();
  const auto not_regular = [&](unsigned mode) {
    return Error(fmt::format("{}: is {}, not a regular file ({} expected)", name,
                             file_type_name(mode), what));
  };
  const auto too_large = [&](std::uint64_t size, std::string_view at_least) {
    return Error(fmt::format("{}: {}{} bytes, more than the {} {} may hold", name, at_least, size,
                             bytes_text(cap), what));
  };
  // stat before open: opening a FIFO would wait for a writer, opening a device may act on it.
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    throw Error(fmt::format("{}: cannot open: {}", name, std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) throw not_regular(st.st_mode);
  if (static_cast<std::uint64_t>(st.st_size) > cap)
    throw too_large(static_cast<std::uint64_t>(st.st_size), "");
  // O_NONBLOCK: should the path have become a FIFO since, open must not wait; fstat says so.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) throw Error(fmt::format("{}: cannot open: {}", name, std::strerror(errno)));
  std::string bytes;
  try {
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) throw not_regular(st.st_mode);
    // Read to the end, but never more than the cap (a file may grow while it is read).
    bytes.resize(static_cast<std::size_t>(st.st_size) + 1);
    std::size_t got = 0;
    while (true) {
      if (got == bytes.size()) {
        if (got > cap) throw too_large(got, "at least ");
        bytes.resize(std::min<std::uint64_t>(cap + 1, 2 * bytes.size() + 4096));
      }
      const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw Error(fmt::format("{}: read error: {}", name, std::strerror(errno)));
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    if (got > cap) throw too_large(got, "at least ");
    bytes.resize(got);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return bytes;
}

}  // namespace flowaction
