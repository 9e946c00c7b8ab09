#include "frontends/output_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <mutex>
#include <ostream>
#include <random>
#include <vector>

#include "engine/error.hpp"
#include "engine/signal_mask.hpp"
#include "frontends/args.hpp"
#include "frontends/input_file.hpp"

namespace flowaction {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void cannot_write(std::string_view name, int err) {
  throw Error(fmt::format("{}: cannot write: {}", name, std::strerror(err)));
}

std::function<void(detail::write_stage, const fs::path&)>& write_hook() {
  static std::function<void(detail::write_stage, const fs::path&)> hook;
  return hook;
}

void call_hook(detail::write_stage stage, const fs::path& target) {
  if (write_hook()) write_hook()(stage, target);
}

// --- Removing temporary files on SIGINT/SIGTERM -------------------------------------------------
// The handler may only touch what is async-signal-safe: a fixed table of C strings and unlink.

constexpr std::size_t max_temporaries = 8;
char temporary_names[max_temporaries][PATH_MAX];
std::atomic<std::size_t> temporary_count{0};
constexpr std::array<int, 2> cleanup_signals = {SIGINT, SIGTERM};
struct sigaction previous_actions[cleanup_signals.size()];
std::mutex write_mutex;  // one write at a time owns the table

extern "C" void remove_temporaries(int sig) {
  const int saved_errno = errno;
  const std::size_t n = temporary_count.load();
  for (std::size_t i = 0; i < n; ++i) ::unlink(temporary_names[i]);
  // Back to what was there before (normally the default), then the same signal again: it is
  // delivered when this handler returns, so the exit status says "killed by signal".
  for (std::size_t i = 0; i < cleanup_signals.size(); ++i)
    if (cleanup_signals[i] == sig) ::sigaction(sig, &previous_actions[i], nullptr);
  ::raise(sig);
  errno = saved_errno;
}

// Installs the handler for the lifetime of one write (not for the whole run: a command's own
// handling of signals, such as train's --checkpoint, stays untouched outside it). A signal the
// process ignores stays ignored.
class SignalCleanup {
 public:
  SignalCleanup() {
    struct sigaction action {};
    action.sa_handler = remove_temporaries;
    sigemptyset(&action.sa_mask);
    for (std::size_t i = 0; i < cleanup_signals.size(); ++i) {
      ::sigaction(cleanup_signals[i], nullptr, &previous_actions[i]);
      installed_[i] = previous_actions[i].sa_handler != SIG_IGN;
      if (installed_[i]) ::sigaction(cleanup_signals[i], &action, nullptr);
    }
  }
  ~SignalCleanup() {
    temporary_count = 0;
    for (std::size_t i = 0; i < cleanup_signals.size(); ++i)
      if (installed_[i]) ::sigaction(cleanup_signals[i], &previous_actions[i], nullptr);
  }
  SignalCleanup(const SignalCleanup&) = delete;
  SignalCleanup& operator=(const SignalCleanup&) = delete;

  // Registered before the file is created, so that no moment leaves it unlisted. False if the
  // table is full or the path too long to be opened anyway.
  bool add(const fs::path& path) {
    const std::string& s = path.native();
    const std::size_t n = temporary_count.load();
    if (n == max_temporaries || s.size() >= PATH_MAX) return false;
    std::memcpy(temporary_names[n], s.c_str(), s.size() + 1);
    temporary_count = n + 1;
    return true;
  }
  // For a name that turned out to be another's (O_EXCL failed): not ours to remove.
  void drop_last() { --temporary_count; }
  void clear() { temporary_count = 0; }

 private:
  std::array<bool, cleanup_signals.size()> installed_{};
};

// --- Files ---------------------------------------------------------------------------------------

// A fresh name in dir. It does not depend on the target's name, so that a target name of any
// legal length (up to NAME_MAX) still leaves room for it.
fs::path temporary_name(const fs::path& dir) {
  static std::mt19937_64 rng(std::random_device{}() ^ static_cast<std::uint64_t>(::getpid()));
  return dir / fmt::format(".flowaction-{:012x}.tmp", rng() & 0xffffffffffff);
}

fs::path directory_of(const fs::path& target) {
  return target.has_parent_path() ? target.parent_path() : fs::path(".");
}

// Creates a new temporary file beside target (registered with cleanup first, if given); returns
// its descriptor and name. Mode 0666 less the umask, as any new file.
std::pair<int, fs::path> create_temporary(const fs::path& target, std::string_view name,
                                          SignalCleanup* cleanup) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path tmp = temporary_name(directory_of(target));
    const bool listed = cleanup && cleanup->add(tmp);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return {fd, std::move(tmp)};
    const int err = errno;
    if (listed) cleanup->drop_last();
    if (err != EEXIST) cannot_write(name, err);
  }
  cannot_write(name, EEXIST);
}

bool write_all(int fd, std::string_view content) {
  while (!content.empty()) {
    const ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// A stream buffer over a file descriptor: a megabyte at a time through write_all; the first
// failure is kept (errno in error()) and every later write fails.
class FdBuffer : public std::streambuf {
 public:
  explicit FdBuffer(int fd) : fd_(fd), buffer_(1 << 20) {
    setp(buffer_.data(), buffer_.data() + buffer_.size());
  }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (n <= epptr() - pptr()) {
      std::copy_n(s, n, pptr());
      pbump(static_cast<int>(n));
      return n;
    }
    if (!drain() || !put(std::string_view(s, static_cast<std::size_t>(n)))) return 0;
    return n;
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool put(std::string_view bytes) {
    if (error_ == 0 && !write_all(fd_, bytes)) error_ = errno ? errno : EIO;
    return error_ == 0;
  }
  bool drain() {
    const bool ok = put(std::string_view(pbase(), static_cast<std::size_t>(pptr() - pbase())));
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return ok;
  }
  int fd_;
  std::vector<char> buffer_;
  int error_ = 0;
};

// Writes f's content to fd; false with errno set when it cannot.
bool write_content(int fd, const OutputFile& f) {
  if (!f.write) return write_all(fd, f.content);
  FdBuffer buffer(fd);
  std::ostream s(&buffer);
  f.write(s);
  s.flush();
  if (buffer.error() == 0 && s.good()) return true;
  errno = buffer.error() ? buffer.error() : EIO;
  return false;
}

// The path the chain of symbolic links starting at name ends in (which may not exist yet).
fs::path final_target(const std::string& name) {
  fs::path p = name;
  for (int hops = 0;; ++hops) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    if (hops == 40) cannot_write(name, ELOOP);
    std::error_code ec;
    const fs::path to = fs::read_symlink(p, ec);
    if (ec) cannot_write(name, ec.value());
    p = to.is_absolute() ? to : directory_of(p) / to;
  }
}

bool names_standard_output(const std::string& name) {
  if (name == "-" || name == "/dev/stdout" || name == "/dev/fd/1" || name == "/proc/self/fd/1")
    return true;
  // A path to the very file (or pipe) standard output already writes to.
  struct stat a, b;
  return ::stat(name.c_str(), &a) == 0 && ::fstat(STDOUT_FILENO, &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

void write_in_place(const OutputTarget& t, const OutputFile& content) {
  // No O_CREAT, no O_TRUNC: the target exists and is not a regular file (a FIFO or a device).
  const int fd = ::open(t.target.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) cannot_write(t.name, errno);
  bool ok = false;
  try {
    ok = write_content(fd, content);
  } catch (...) {
    ::close(fd);
    throw;
  }
  const int err = errno;
  if (::close(fd) != 0 && ok) cannot_write(t.name, errno);
  if (!ok) cannot_write(t.name, err);
}

void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // durability only; the rename itself has succeeded
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void check_not_input(const OutputTarget& target, const fs::path& input, std::string_view option) {
  if (target.is_standard_output()) return;
  std::error_code ec;
  if (fs::equivalent(input, target.name, ec))
    throw Usage(fmt::format("{} {} is the input file {}: writing it would destroy the input",
                            option, target.name, input.string()));
}

OutputTarget resolve_output(const std::optional<std::string>& name,
                            std::span<const fs::path> inputs, std::string_view option) {
  OutputTarget t;
  if (!name) return t;
  if (name->empty()) throw Usage(fmt::format("{} needs a file name, got \"\"", option));
  t.name = *name;
  if (names_standard_output(*name)) return t;
  t.how = OutputTarget::kind::file;
  for (const fs::path& input : inputs) check_not_input(t, input, option);
  struct stat st;
  if (::stat(name->c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode) || S_ISSOCK(st.st_mode))
      throw Error(fmt::format("{}: cannot write: it is {}", *name, file_type_name(st.st_mode)));
    if (!S_ISREG(st.st_mode)) {
      // Opening a FIFO here would wait for a reader: only the permission is checked.
      if (::access(name->c_str(), W_OK) != 0) cannot_write(*name, errno);
      t.how = OutputTarget::kind::in_place;
      t.target = *name;
      return t;
    }
  } else if (errno != ENOENT) {
    cannot_write(*name, errno);
  }
  t.target = final_target(*name);
  if (!t.target.has_filename()) cannot_write(*name, EISDIR);
  // Whether a file can be created beside the target, before the run rather than after it.
  const auto [fd, probe] = create_temporary(t.target, t.name, nullptr);
  ::close(fd);
  ::unlink(probe.c_str());
  return t;
}

void write_outputs_together(std::span<const OutputFile> files) {
  const std::lock_guard lock(write_mutex);
  struct Pending {
    const OutputTarget& target;
    fs::path temporary;
    bool replaces = false;  // an existing file: its content must not be lost to a crash
    std::string backup;     // a second link to the old target, to restore it
    bool renamed = false;
  };
  std::vector<Pending> pending;
  SignalCleanup cleanup;
  const auto remove_temporaries_and_backups = [&] {
    for (const Pending& p : pending) {
      if (!p.renamed) ::unlink(p.temporary.c_str());
      if (!p.backup.empty()) ::unlink(p.backup.c_str());
    }
  };
  try {
    for (const OutputFile& f : files) {
      if (f.target.how != OutputTarget::kind::file)
        throw std::logic_error("write_outputs_together: every target must be a regular file");
      auto [fd, tmp] = create_temporary(f.target.target, f.target.name, &cleanup);
      pending.push_back({f.target, std::move(tmp), false, {}, false});
      // The existing file's owner and permission bits (fchown first: it clears set-id bits).
      // Changing the owner needs privileges; without them the file is ours, as any new file.
      struct stat st;
      bool ok = true;
      if (::stat(f.target.target.c_str(), &st) == 0) {
        pending.back().replaces = true;
        if (st.st_uid != ::geteuid() || st.st_gid != ::getegid())
          (void)!::fchown(fd, st.st_uid, st.st_gid);
        ok = ::fchmod(fd, st.st_mode & 07777) == 0;
      }
      // Synced before the rename only when it replaces a file: a crash (power loss) between the
      // rename and the kernel's write-back could otherwise leave neither the old content nor the
      // new. A new file has nothing to lose, and syncing it would cost about as long as writing
      // it (10 ms for 19 MB here) — as with cp, numpy.save or torch.save, it reaches the disk
      // with the kernel's write-back.
      try {
        ok = ok && write_content(fd, f) && (!pending.back().replaces || ::fsync(fd) == 0);
      } catch (...) {
        ::close(fd);
        throw;
      }
      const int err = errno;
      if (::close(fd) != 0 && ok) cannot_write(f.target.name, errno);
      if (!ok) cannot_write(f.target.name, err);
      if (pending.back().replaces) call_hook(detail::write_stage::synced, f.target.target);
      call_hook(detail::write_stage::temporary_written, f.target.target);
    }
  } catch (...) {
    remove_temporaries_and_backups();
    throw;
  }

  // SIGINT and SIGTERM held back while the renames make the files change together.
  const SignalMask block(cleanup_signals);
  for (std::size_t k = 0; k < pending.size(); ++k) {
    Pending& p = pending[k];
    call_hook(detail::write_stage::before_rename, p.target.target);
    if (pending.size() > 1) {
      const fs::path backup = temporary_name(directory_of(p.target.target));
      if (::link(p.target.target.c_str(), backup.c_str()) == 0) p.backup = backup;
    }
    if (::rename(p.temporary.c_str(), p.target.target.c_str()) == 0) {
      p.renamed = true;
      continue;
    }
    const int err = errno;
    // Put back what was renamed before: the old file from its backup link, or no file at all.
    std::string lost;
    for (std::size_t j = 0; j < k; ++j) {
      Pending& q = pending[j];
      const bool restored = q.backup.empty()
                                ? ::unlink(q.target.target.c_str()) == 0
                                : ::rename(q.backup.c_str(), q.target.target.c_str()) == 0;
      if (!restored)
        lost += q.backup.empty()
                    ? fmt::format("; {} was already written", q.target.name)
                    : fmt::format("; {} was already replaced (its old content is in {})",
                                  q.target.name, q.backup);
      q.backup.clear();  // restored, or kept as the only copy of the old content
    }
    remove_temporaries_and_backups();
    throw Error(fmt::format(
        "{}: cannot write: {}{}", p.target.name, std::strerror(err),
        lost.empty() && k > 0 ? "; the other output files were left as they were" : lost));
  }
  cleanup.clear();
  remove_temporaries_and_backups();
  for (const Pending& p : pending)
    if (p.replaces) sync_directory(directory_of(p.target.target));
}

namespace {

void write_output(const OutputFile& file, std::ostream& out) {
  switch (file.target.how) {
    case OutputTarget::kind::standard_output:
      // run_cli reports a standard output that cannot be written
      if (file.write)
        file.write(out);
      else
        out << file.content;
      return;
    case OutputTarget::kind::in_place:
      write_in_place(file.target, file);
      return;
    case OutputTarget::kind::file:
      write_outputs_together(std::span(&file, 1));
      return;
  }
}

}  // namespace

void write_output(const OutputTarget& target, std::string_view content, std::ostream& out) {
  write_output(OutputFile{target, content}, out);
}

void write_output(const OutputTarget& target, const write_fn& write, std::ostream& out) {
  write_output(OutputFile{target, {}, write}, out);
}

namespace detail {

void set_write_hook(std::function<void(write_stage, const fs::path&)> hook) {
  write_hook() = std::move(hook);
}

}  // namespace detail

}  // namespace flowaction
