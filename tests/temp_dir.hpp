// A fresh directory for one test case, removed with everything in it when the case ends. The
// process id in its name keeps concurrent test runs apart.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

// The bytes of a file ("" if it cannot be read).
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct TempDir {
  std::filesystem::path path;

  explicit TempDir(const std::string& tag)
      : path(std::filesystem::temp_directory_path() /
             ("flowaction_" + tag + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // The path of a file inside, as a command line wants it.
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  // Writes content (bytes as they are) to a file inside; returns its path.
  std::filesystem::path write(const std::string& name, const std::string& content) const {
    std::ofstream(path / name, std::ios::binary) << content;
    return path / name;
  }
};
