// Where a command's output goes, decided once, before any work, from the -o value:
//  - no -o, "-", or a path that is the process's standard output (/dev/stdout, or the file
//    standard output is redirected to): the command's output stream;
//  - an existing target that is not a regular file (a FIFO, a device): opened and written in
//    place, never replaced;
//  - otherwise a regular file, whole or not at all: a temporary file beside the final target
//    (symbolic links followed) is written, given the existing file's permission bits and owner,
//    and renamed over the target; when it replaces a file, it is synced before the rename and the
//    directory after it, so that not even a power loss can take the old content without the new.
//    SIGINT or SIGTERM during the write removes the temporary file and then ends the process as the
//    signal would have.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

namespace flowaction {

struct OutputTarget {
  enum class kind { standard_output, in_place, file };
  kind how = kind::standard_output;
  std::string name;              // as given on the command line, for messages
  std::filesystem::path target;  // in_place: name; file: the final target, links followed

  bool is_standard_output() const { return how == kind::standard_output; }
};

// The target of -o NAME (nullopt: standard output). Usage for "" and for a NAME that is the same
// file as one of inputs; Error for a directory, a socket, or a target that cannot be written
// (checked by creating and removing a temporary file beside it).
// option names the option in messages.
OutputTarget resolve_output(const std::optional<std::string>& name,
                            std::span<const std::filesystem::path> inputs = {},
                            std::string_view option = "-o");

// Usage if target is the same file as input (for inputs known only after reading another, such
// as the tensor file a manifest names).
void check_not_input(const OutputTarget& target, const std::filesystem::path& input,
                     std::string_view option = "-o");

// Writes content to target (standard output: to out). Throws flowaction::Error naming the file if
// it cannot be written; a regular file is then left as it was.
void write_output(const OutputTarget& target, std::string_view content, std::ostream& out);

// Content written to a stream as it is produced (large outputs are never held whole in memory):
// to out, to the device in place, or to the temporary file that becomes the target — whole or
// not at all as above, also when write throws.
using write_fn = std::function<void(std::ostream&)>;
void write_output(const OutputTarget& target, const write_fn& write, std::ostream& out);

// Regular files that must change together (sample's .npy and its .truth.json): every temporary
// file is written first, then all are renamed; if a rename fails, the targets renamed before it
// are restored (or removed if they did not exist) and Error is thrown. Every target must be of
// kind file.
struct OutputFile {
  const OutputTarget& target;
  std::string_view content;
  write_fn write = {};  // when set, writes the content instead
};
void write_outputs_together(std::span<const OutputFile> files);

namespace detail {

// A test seam: called with the target when its temporary file is complete and again just
// before it is renamed, so that a test can raise a signal or make the rename fail there; and
// when the temporary file has been synced to disk (only if it replaces a file).
enum class write_stage { temporary_written, before_rename, synced };
void set_write_hook(std::function<void(write_stage, const std::filesystem::path&)> hook);

}  // namespace detail

}  // namespace flowaction
