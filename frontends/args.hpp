// The one command-line parser of every subcommand: a command declares its options, the parser
// reads `--name VALUE`, `--name=VALUE`, bare flags, `-h/--help` and positional arguments, and
// typed getters turn values into numbers. Anything wrong throws Usage, which run_cli prints as
// one line pointing to `flowaction COMMAND --help` with exit status 2.
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace flowaction {

// A wrong command line (as opposed to flowaction::Error, a wrong input or a failed run).
struct Usage : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A run ended by SIGINT or SIGTERM after saving what it could: run_cli prints the message and
// exits 128 + signal, as a shell reports a process killed by it.
struct Interrupted : std::runtime_error {
  Interrupted(int signal, const std::string& message)
      : std::runtime_error(message), signal(signal) {}
  int signal;
};

struct Option {
  std::string_view name;        // "--output"
  bool takes_value = false;     // false: a flag such as "--no-whiten"
  std::string_view alias = {};  // "-o", or empty
};

// -o/--output FILE, the same for every command that writes a file.
inline constexpr Option output_option{"--output", true, "-o"};

class Args {
 public:
  // Reads args against options. A value may start with '-' (`--at -0.5,0,1`); the last of a
  // repeated option wins; after "--" everything is positional. -h or --help anywhere (not as a
  // value) makes help() true and excuses every other mistake, so that help is always reachable.
  Args(std::span<const std::string> args, std::span<const Option> options);

  bool help() const { return help_; }
  const std::vector<std::string>& positional() const { return positional_; }

  // Whether the option was given (a flag, or an option with a value).
  bool has(std::string_view name) const;
  std::optional<std::string> value(std::string_view name) const;
  std::string string(std::string_view name, std::string fallback) const;
  // An integer in [lo, hi]: "--samples 'x': expected an integer in [1, 1099511627776]".
  long integer(std::string_view name, long fallback, long lo, long hi) const;
  // One of choices, the first being the default: "--arch 'x': expected activation or coupling".
  std::string one_of(std::string_view name, std::initializer_list<std::string_view> choices) const;
  // A finite number: "--lr 'x': expected a number".
  double real(std::string_view name, double fallback) const;
  // A Taylor or diagram order, 0 to diagrams::max_order, with the reason for the limit.
  int order(std::string_view name, int fallback) const;

 private:
  // The declared option named name; a getter asking for an undeclared one is a bug.
  const Option& declared(std::string_view name) const;

  std::span<const Option> options_;
  std::map<std::string, std::string, std::less<>> values_;  // by long name; "" for flags
  std::vector<std::string> positional_;
  bool help_ = false;
};

// "a,b,,c" -> {"a", "b", "", "c"}: the comma lists of --at and --symbols.
std::vector<std::string> split_commas(std::string_view text);

}  // namespace flowaction
