// What -o does with its target (issue 8): standard output for "-" and for the file standard
// output already writes to, in place for a FIFO, through symbolic links, keeping permissions and
// owner, never onto an input, never leaving a temporary file behind (not even on SIGTERM), and
// with a temporary name that fits beside any legal file name. Nothing here touches /dev.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "engine/error.hpp"
#include "frontends/cli.hpp"
#include "frontends/output_file.hpp"
#include "tests/cli_run.hpp"
#include "tests/temp_dir.hpp"

using namespace flowaction;
using namespace testing_support;  // cli, has, Run
namespace fs = std::filesystem;

namespace {

const std::string model =
    R"({"format": "flowaction/1", "dim": 2, "layers": [{"type": "affine", "W": [[1, 0.5], [0, 2]]}]})";

// The names in dir, sorted (hidden temporary files included).
std::vector<std::string> names(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Standard output (fd 1) sent to a file for the lifetime of the object.
struct RedirectStdout {
  int saved;
  explicit RedirectStdout(const fs::path& file) {
    std::fflush(stdout);
    saved = ::dup(STDOUT_FILENO);
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, STDOUT_FILENO);
    ::close(fd);
  }
  ~RedirectStdout() {
    std::fflush(stdout);
    ::dup2(saved, STDOUT_FILENO);
    ::close(saved);
  }
};

}  // namespace

TEST_CASE("output: -o -, -o /dev/stdout and a path that is standard output write to it") {
  TempDir dir("out_stdout");
  const fs::path m = dir.write("m.flow.json", model);
  // /dev/stdout is recognised by its name, never opened (a test must not touch the real /dev).
  // With standard output redirected to a file, -o naming that file goes through standard
  // output too (appended where the stream stands), not to a new file renamed over it.
  const fs::path log = dir.path / "log.txt";
  for (const std::string& target : {std::string("-"), std::string("/dev/stdout"), log.string()}) {
    CAPTURE(target);
    Run r;
    {
      RedirectStdout redirect(log);
      r = cli({"extract", m.string(), "--order", "1", "-o", target});
    }
    CHECK(r.status == 0);
    CHECK(has(r.out, "\"format\": \"flowaction-action/1\""));
    CHECK(names(dir.path) == std::vector<std::string>{"log.txt", "m.flow.json"});
  }
  CHECK_FALSE(fs::exists("-"));
}

TEST_CASE("output: a FIFO is written in place, not replaced") {
  TempDir dir("out_fifo");
  const fs::path m = dir.write("m.flow.json", model);
  const fs::path fifo = dir.path / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Both ends are opened here, before the command runs: the read end (without waiting), and a
  // write end that keeps reads waiting for data until it is closed after the command, whatever
  // the command did.
  const int hold = ::open(fifo.c_str(), O_RDWR);
  const int rfd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  REQUIRE(hold >= 0);
  REQUIRE(rfd >= 0);
  REQUIRE(::fcntl(rfd, F_SETFL, 0) == 0);
  std::string received;
  std::thread reader([&] {
    char buf[4096];
    for (ssize_t n; (n = ::read(rfd, buf, sizeof buf)) > 0;) received.append(buf, n);
    ::close(rfd);
  });
  const Run r = cli({"extract", m.string(), "--order", "2", "-o", fifo.string()});
  ::close(hold);
  reader.join();
  CHECK(r.status == 0);
  CHECK(has(received, "\"format\": \"flowaction-action/1\""));
  struct stat st;
  REQUIRE(::lstat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  CHECK(names(dir.path) == std::vector<std::string>{"m.flow.json", "pipe"});
}

TEST_CASE("output: a symbolic link is followed and its target replaced; mode and owner are kept") {
  TempDir dir("out_link");
  const fs::path m = dir.write("m.flow.json", model);
  fs::create_directories(dir.path / "real");
  const fs::path target = dir.write("real/action.json", "old\n");
  fs::create_symlink("real/action.json", dir.path / "link.json");
  REQUIRE(::chmod(target.c_str(), 0600) == 0);
  const bool root = ::geteuid() == 0;
  if (root) REQUIRE(::chown(target.c_str(), 4321, 4322) == 0);

  const Run r = cli({"extract", m.string(), "--order", "1", "-o", dir / "link.json"});
  CHECK(r.status == 0);
  CHECK(fs::is_symlink(dir.path / "link.json"));
  CHECK(fs::read_symlink(dir.path / "link.json") == "real/action.json");
  CHECK(has(read_file(target), "\"format\": \"flowaction-action/1\""));
  struct stat st;
  REQUIRE(::stat(target.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  if (root) {
    CHECK(st.st_uid == 4321u);
    CHECK(st.st_gid == 4322u);
  }
  CHECK(names(dir.path / "real") == std::vector<std::string>{"action.json"});
}

TEST_CASE(
    "output: a hard-linked target is replaced atomically; its other name keeps the old file") {
  // The chosen behaviour: whole-or-nothing wins over keeping the link (see README, Bad input).
  TempDir dir("out_hardlink");
  const fs::path m = dir.write("m.flow.json", model);
  const fs::path target = dir.write("action.json", "old\n");
  fs::create_hard_link(target, dir.path / "other.json");
  CHECK(cli({"extract", m.string(), "--order", "1", "-o", target.string()}).status == 0);
  CHECK(has(read_file(target), "flowaction-action/1"));
  CHECK(read_file(dir.path / "other.json") == "old\n");
}

TEST_CASE("output: -o naming an input, or empty, is wrong usage, before any work") {
  TempDir dir("out_input");
  const fs::path m = dir.write("m.flow.json", model);
  fs::create_symlink("m.flow.json", dir.path / "alias.json");
  const std::string data = "1,2\n3,4\n5,7\n6,5\n";
  const fs::path csv = dir.write("x.csv", data);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"extract", m.string(), "-o", m.string()},
           {"extract", m.string(), "-o", dir / "alias.json"},
           {"generate", m.string(), "-o", m.string()},
           {"train", csv.string(), "--epochs", "1", "-o", csv.string()},
           {"extract", m.string(), "-o", ""},
           {"train", csv.string(), "-o", ""},
       }) {
    CAPTURE(args[0]);
    CAPTURE(args.back());
    const Run r = cli(args);
    CHECK(r.status == 2);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_FALSE(has(r.err, "training"));  // refused before the run
  }
  CHECK(read_file(m) == model);
  CHECK(read_file(csv) == data);
  // The tensor file a manifest names is an input too.
  const fs::path test_data = fs::path(FLOWACTION_SOURCE_DIR) / "tests" / "data";
  fs::copy_file(test_data / "weights_npz.flow.json", dir.path / "w.flow.json");
  fs::copy_file(test_data / "weights.npz", dir.path / "weights.npz");
  const std::string npz = read_file(dir.path / "weights.npz");
  for (const char* command : {"extract", "generate"}) {
    const Run t = cli({command, dir / "w.flow.json", "-o", dir / "weights.npz"});
    CHECK(t.status == 2);
    CHECK(has(t.err, "weights.npz"));
    CHECK(read_file(dir.path / "weights.npz") == npz);
  }
}

TEST_CASE("output: a legal 250-character file name works (the temporary name is short)") {
  TempDir dir("out_long");
  const fs::path m = dir.write("m.flow.json", model);
  const std::string name = std::string(245, 'a') + ".json";
  const Run r = cli({"extract", m.string(), "--order", "1", "-o", dir / name});
  CHECK(r.status == 0);
  CHECK(has(read_file(dir.path / name), "flowaction-action/1"));
  CHECK(names(dir.path).size() == 2);
}

TEST_CASE("output: a directory as target, or a missing folder, is an error and leaves nothing") {
  TempDir dir("out_dir");
  const fs::path m = dir.write("m.flow.json", model);
  fs::create_directories(dir.path / "d");
  const Run a = cli({"extract", m.string(), "-o", dir / "d"});
  CHECK(a.status == 1);
  CHECK(has(a.err, "is a directory"));
  const Run b = cli({"extract", m.string(), "-o", dir / "absent/x.json"});
  CHECK(b.status == 1);
  CHECK(has(b.err, "absent/x.json"));
  CHECK(names(dir.path) == std::vector<std::string>{"d", "m.flow.json"});
  CHECK(fs::is_empty(dir.path / "d"));
}

TEST_CASE("output: SIGTERM during the write removes the temporary file and ends by the signal") {
  TempDir dir("out_signal");
  const fs::path target = dir.write("out.json", "old\n");
  std::fflush(nullptr);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGTERM, SIG_DFL);  // as in the command-line tool (doctest installs its own)
    // The temporary file is complete, the rename not done: the moment a signal hurts most.
    detail::set_write_hook([](detail::write_stage stage, const fs::path&) {
      if (stage == detail::write_stage::temporary_written) ::raise(SIGTERM);
    });
    std::ostringstream out;
    try {
      write_output(resolve_output(target.string()), "new content\n", out);
    } catch (...) {
    }
    ::_exit(0);  // reached only if the signal did not end the process
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);
  CHECK(names(dir.path) == std::vector<std::string>{"out.json"});
  CHECK(read_file(target) == "old\n");
}

TEST_CASE("output: files written together change together, or not at all") {
  TempDir dir("out_together");
  const fs::path a = dir.write("a.npy", "old a\n");
  const fs::path b = dir.path / "a.truth.json";
  const OutputTarget ta = resolve_output(a.string()), tb = resolve_output(b.string());
  // The second rename fails (its target has become a directory): the first file is restored.
  detail::set_write_hook([&](detail::write_stage stage, const fs::path& t) {
    if (stage == detail::write_stage::before_rename && t == b) fs::create_directory(b);
  });
  const OutputFile files[] = {{ta, "new a\n"}, {tb, "new b\n"}};
  CHECK_THROWS_WITH_AS(write_outputs_together(files), doctest::Contains("a.truth.json"), Error);
  detail::set_write_hook({});
  CHECK(read_file(a) == "old a\n");
  CHECK(names(dir.path) == std::vector<std::string>{"a.npy", "a.truth.json"});
  // A first file that did not exist before is removed again.
  fs::remove(a);
  fs::remove(b);
  const OutputTarget na = resolve_output(a.string()), nb = resolve_output(b.string());
  detail::set_write_hook([&](detail::write_stage stage, const fs::path& t) {
    if (stage == detail::write_stage::before_rename && t == b) fs::create_directory(b);
  });
  const OutputFile fresh[] = {{na, "new a\n"}, {nb, "new b\n"}};
  CHECK_THROWS_AS(write_outputs_together(fresh), Error);
  detail::set_write_hook({});
  CHECK(names(dir.path) == std::vector<std::string>{"a.truth.json"});
  // And without a failure both are written.
  fs::remove(b);
  write_outputs_together(fresh);
  CHECK(read_file(a) == "new a\n");
  CHECK(read_file(b) == "new b\n");
}

TEST_CASE("output: a file that replaces another is synced before the rename, a new one is not") {
  TempDir dir("out_sync");
  const fs::path target = dir.path / "a.json";
  std::vector<fs::path> synced;
  detail::set_write_hook([&](detail::write_stage stage, const fs::path& t) {
    if (stage == detail::write_stage::synced) synced.push_back(t);
  });
  write_output(resolve_output(target.string()), std::string_view("first\n"), std::cout);
  CHECK(synced.empty());
  write_output(resolve_output(target.string()), std::string_view("second\n"), std::cout);
  detail::set_write_hook({});
  CHECK(synced == std::vector<fs::path>{target});
  CHECK(read_file(target) == "second\n");
}
