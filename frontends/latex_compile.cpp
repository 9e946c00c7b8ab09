#include "frontends/latex_compile.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "engine/error.hpp"

namespace flowaction {

namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The first line of a TeX log that reports an error ("! Undefined control sequence."), with the
// line after it that says where.
std::string first_error(const std::string& log) {
  std::istringstream in(log);
  std::string line, next;
  while (std::getline(in, line))
    if (line.starts_with("!")) {
      std::getline(in, next);
      return line + " " + next;
    }
  return "no error line in the log";
}

// Runs engine on name.tex in dir, quietly, with no input; returns the exit status.
int run_engine(std::string_view engine, const fs::path& dir, const std::string& name) {
  const pid_t pid = ::fork();
  if (pid < 0) throw Error(fmt::format("cannot start {}: fork failed", engine));
  if (pid == 0) {
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open((dir / "engine.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || ::chdir(dir.c_str()) != 0) ::_exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    const std::string program(engine);
    std::vector<std::string> args{program, "-interaction=nonstopmode", "-halt-on-error",
                                  "-no-shell-escape", name + ".tex"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(program.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw Error(fmt::format("cannot wait for {}", engine));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// A fresh directory removed with its contents when it goes out of scope.
struct TempDirectory {
  fs::path path;
  TempDirectory() {
    std::string pattern = (fs::temp_directory_path() / "flowaction-tex-XXXXXX").string();
    if (!::mkdtemp(pattern.data()))
      throw Error("cannot create a temporary directory for the TeX run");
    path = pattern;
  }
  ~TempDirectory() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

std::string tex_packages(std::string_view engine) {
  return fmt::format("texlive-latex-base texlive-pictures{}",
                     engine == "lualatex" ? " texlive-luatex" : "");
}

bool tex_available(std::string_view engine) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const fs::path p = fs::path(dir.empty() ? "." : dir) / std::string(engine);
    if (::access(p.c_str(), X_OK) == 0) return true;
  }
  return false;
}

fs::path compile_pdf(const fs::path& tex, std::string_view engine) {
  if (!tex_available(engine))
    throw Error(fmt::format(
        "{} is not installed, so no PDF was made ({} is kept); on Debian: apt-get install {}",
        engine, tex.string(), tex_packages(engine)));
  const TempDirectory dir;
  const std::string name = "document";
  fs::copy_file(tex, dir.path / (name + ".tex"));
  // A second run when LaTeX asks for it (longtable column widths).
  for (int run = 0; run < 2; ++run) {
    if (run_engine(engine, dir.path, name) != 0 || !fs::exists(dir.path / (name + ".pdf"))) {
      const std::string log = read_all(dir.path / (name + ".log"));
      throw Error(fmt::format("{} failed on {} (kept): {}", engine, tex.string(),
                              log.empty() ? read_all(dir.path / "engine.out") : first_error(log)));
    }
    if (read_all(dir.path / (name + ".log")).find("Rerun") == std::string::npos) break;
  }
  fs::path pdf = tex;
  pdf.replace_extension(".pdf");
  // Beside the .tex, whole or not at all.
  const fs::path partial =
      pdf.parent_path() / fmt::format(".{}.{}.tmp", pdf.filename().string(), ::getpid());
  std::error_code ec;
  fs::copy_file(dir.path / (name + ".pdf"), partial, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::rename(partial, pdf, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(partial, ignored);
    throw Error(fmt::format("{}: cannot write: {}", pdf.string(), ec.message()));
  }
  return pdf;
}

}  // namespace flowaction
