// The one command-line front: the option parser alone, then every subcommand through run_cli —
// a wrong option exits 2 with one line naming the command and --help, --help exits 0 listing
// the options, an error exits 1 with one line "flowaction COMMAND: ...".
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "frontends/args.hpp"
#include "frontends/cli.hpp"
#include "tests/temp_dir.hpp"

using namespace flowaction;
namespace fs = std::filesystem;

namespace {

constexpr Option options[] = {{"--x", true}, {"--flag"}, output_option};

Args parse(std::vector<std::string> args) {
  return Args(args, options);
}

// The message of the Usage that parsing args throws, or "" if none.
std::string usage_of(std::vector<std::string> args) {
  try {
    parse(args);
  } catch (const Usage& e) {
    return e.what();
  }
  return "";
}

struct Run {
  int status;
  std::string out, err;
};

Run cli(std::vector<std::string> args, bool closed_stdout = false) {
  std::ostringstream out, err;
  if (closed_stdout) out.setstate(std::ios::badbit);
  const int status = run_cli(args, out, err);
  return {status, out.str(), err.str()};
}

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Exactly one line on stderr, "flowaction COMMAND: ...".
bool one_line_from(const std::string& err, std::string_view command) {
  return std::count(err.begin(), err.end(), '\n') == 1 && err.back() == '\n' &&
         err.starts_with(fmt::format("flowaction {}: ", command));
}

}  // namespace

TEST_CASE("args: --x=v, --x v, values starting with '-', aliases, positionals") {
  const Args a = parse({"in.npy", "--x=-0.5,0,1", "-", "--flag", "-o", "out.npy"});
  CHECK(a.value("--x") == "-0.5,0,1");
  CHECK(a.has("--flag"));
  CHECK(a.value("--output") == "out.npy");
  CHECK(a.positional() == std::vector<std::string>{"in.npy", "-"});
  CHECK_FALSE(a.help());
  CHECK(parse({"--x", "-3"}).value("--x") == "-3");
  CHECK(parse({"--x", "--flag"}).value("--x") == "--flag");  // a value is taken as it is
  CHECK(parse({"--output=a", "-o=b"}).value("--output") == "b");
  CHECK(parse({"--x=", "y"}).value("--x") == "");
  CHECK(parse({"--x", "1", "--x=2"}).value("--x") == "2");  // the last one wins
  CHECK(parse({"--", "--x", "-o"}).positional() == std::vector<std::string>{"--x", "-o"});
  const Args none = parse({});
  CHECK_FALSE(none.has("--x"));
  CHECK_FALSE(none.has("--flag"));
  CHECK(none.value("--x") == std::nullopt);
  CHECK(none.string("--x", "fallback") == "fallback");
}

TEST_CASE("args: usage errors") {
  CHECK(usage_of({"--flag=1"}) == "--flag takes no value");
  CHECK(usage_of({"--x"}) == "--x needs a value");
  CHECK(usage_of({"in", "-o"}) == "-o needs a value");
  CHECK(usage_of({"--frobnicate"}) == "unknown option --frobnicate");
  CHECK(usage_of({"--frobnicate=3"}) == "unknown option --frobnicate");
  CHECK(usage_of({"-z"}) == "unknown option -z");
  CHECK(usage_of({"--frobnicate", "--x"}) == "unknown option --frobnicate");  // the first one
}

TEST_CASE("args: -h and --help win over every other mistake") {
  CHECK(parse({"-h"}).help());
  CHECK(parse({"--help"}).help());
  CHECK(parse({"--frobnicate", "--flag=1", "--help", "--x"}).help());
  CHECK_FALSE(parse({"--x", "--help"}).help());  // there --help is the value of --x
}

TEST_CASE("args: typed values") {
  CHECK(parse({"--x", "7"}).integer("--x", 0, 0, 10) == 7);
  CHECK(parse({}).integer("--x", 3, 0, 10) == 3);
  CHECK_THROWS_WITH_AS(parse({"--x", "11"}).integer("--x", 0, 0, 10),
                       "--x '11': expected an integer in [0, 10]", Usage);
  CHECK_THROWS_AS(parse({"--x", "1.5"}).integer("--x", 0, 0, 10), Usage);
  CHECK_THROWS_AS(parse({"--x", ""}).integer("--x", 0, 0, 10), Usage);
  CHECK_THROWS_AS(parse({"--x", "99999999999999999999"}).integer("--x", 0, 0, 10), Usage);
  CHECK(parse({}).one_of("--x", {"a", "b", "c"}) == "a");
  CHECK(parse({"--x=c"}).one_of("--x", {"a", "b", "c"}) == "c");
  CHECK_THROWS_WITH_AS(parse({"--x=d"}).one_of("--x", {"a", "b", "c"}),
                       "--x 'd': expected a, b or c", Usage);
  CHECK_THROWS_WITH_AS(parse({"--x=d"}).one_of("--x", {"a", "b"}), "--x 'd': expected a or b",
                       Usage);
  CHECK(parse({"--x", "-2.5e-3"}).real("--x", 0) == -2.5e-3);
  CHECK(parse({}).real("--x", 1.5) == 1.5);
  for (const char* bad : {"nan", "inf", "1e400", "1,5", "x", ""})
    CHECK_THROWS_WITH_AS(parse({"--x", bad}).real("--x", 0),
                         fmt::format("--x '{}': expected a number", bad).c_str(), Usage);
  CHECK(parse({"--x", "20"}).order("--x", 4) == 20);
  CHECK(parse({"--x", "+3"}).order("--x", 4) == 3);
  CHECK(parse({}).order("--x", 4) == 4);
  CHECK_THROWS_WITH_AS(parse({"--x", "21"}).order("--x", 4),
                       "--x 21 is beyond the largest supported order, 20 (diagram multiplicities "
                       "are counted in 64 bits)",
                       Usage);
  CHECK_THROWS_WITH_AS(parse({"--x", "-1"}).order("--x", 4), "--x must be >= 0, got -1", Usage);
  CHECK_THROWS_WITH_AS(parse({"--x", "four"}).order("--x", 4), "--x expects an integer, got 'four'",
                       Usage);
  // Asking for an option the command did not declare is a bug, not a user's mistake.
  CHECK_THROWS_AS(parse({}).has("--undeclared"), std::logic_error);
  CHECK_THROWS_AS(parse({}).value("--flag"), std::logic_error);
}

TEST_CASE("split_commas keeps empty entries") {
  CHECK(split_commas("a,b,,c") == std::vector<std::string>{"a", "b", "", "c"});
  CHECK(split_commas("") == std::vector<std::string>{""});
  CHECK(split_commas("-0.5,") == std::vector<std::string>{"-0.5", ""});
}

TEST_CASE("every subcommand: wrong option, --help, and an error, each the same way") {
  TempDir dir("cli");
  std::ofstream(dir / "bad.npy") << "not numpy";
  // For each command, a command line that fails at run time (status 1), and a part of the message.
  struct Failure {
    std::vector<std::string> args;
    std::string part;
    bool closed_stdout = false;
  };
  const std::map<std::string, Failure> failures = {
      {"extract", {{dir / "absent.flow.json"}, "absent.flow.json: cannot open"}},
      {"diagrams", {{"--order", "1"}, "cannot write to standard output", true}},
      {"cumulants", {{dir / "absent.json", "--loops", "1"}, "absent.json: cannot open"}},
      {"sample", {{"phi4", "--lattice", "0", "-o", dir / "x.npy"}, "--lattice '0'"}},
      {"train", {{dir / "bad.npy", "-o", dir / "m.flow.json"}, "bad.npy"}},
      {"generate", {{dir / "absent.flow.json", "-o", dir / "g.npy"}, "absent.flow.json"}},
      {"inspect", {{dir / "absent.flow.json"}, "absent.flow.json: cannot open"}},
      {"closed-form", {{"--arch", "affine,bogus"}, "'bogus': unknown layer type"}},
      {"verify", {{"--lattice", "0", "-o", dir / "v"}, "--lattice '0'"}},
  };
  CHECK(commands().size() == failures.size());
  for (const Command* c : commands()) {
    const std::string name(c->name);
    CAPTURE(name);

    const Run wrong = cli({name, "--frobnicate"});
    CHECK(wrong.status == 2);
    CHECK(wrong.out.empty());
    CHECK(one_line_from(wrong.err, name));
    CHECK(has(wrong.err, "unknown option --frobnicate"));
    CHECK(has(wrong.err, fmt::format("(see flowaction {} --help)", name)));

    for (const char* help : {"--help", "-h"}) {
      const Run h = cli({name, help});
      CHECK(h.status == 0);
      CHECK(h.err.empty());
      CHECK(h.out == c->help);
      for (const Option& o : c->options) {
        CHECK_MESSAGE(has(h.out, std::string(o.name)), o.name);
        if (!o.alias.empty()) CHECK(has(h.out, fmt::format("{}, {}", o.alias, o.name)));
      }
    }
    CHECK(cli({name, "--frobnicate", "--help"}).status == 0);

    REQUIRE(failures.count(name) == 1);
    const Failure& f = failures.at(name);
    std::vector<std::string> args = {name};
    args.insert(args.end(), f.args.begin(), f.args.end());
    const Run failed = cli(args, f.closed_stdout);
    CHECK(failed.status == 1);
    CHECK(one_line_from(failed.err, name));
    CHECK_MESSAGE(has(failed.err, f.part), failed.err);
  }
  CHECK_FALSE(fs::exists(dir / "x.npy"));
  CHECK_FALSE(fs::exists(dir / "m.flow.json"));
  CHECK_FALSE(fs::exists(dir / "g.npy"));
  CHECK_FALSE(fs::exists(dir / "v"));
}

TEST_CASE("every command that writes a file takes -o and --output") {
  for (const Command* c : commands()) {
    const bool writes = c->name == "extract" || c->name == "cumulants" || c->name == "sample" ||
                        c->name == "train" || c->name == "generate" || c->name == "diagrams" ||
                        c->name == "closed-form" || c->name == "verify";
    const bool takes_output = std::any_of(
        c->options.begin(), c->options.end(),
        [](const Option& o) { return o.name == "--output" && o.alias == "-o" && o.takes_value; });
    CHECK_MESSAGE(writes == takes_output, c->name);
  }
  TempDir dir("cli");
  const std::string model =
      std::string(FLOWACTION_SOURCE_DIR) + "/examples/models/worked_example.flow.json";
  const Run r = cli({"extract", model, "--order", "2", "--output", dir / "a.json"});
  CHECK(r.status == 0);
  CHECK(r.out.empty());
  CHECK(fs::exists(dir / "a.json"));
  // Trainer commands need the file: their usage error says so.
  const Run missing = cli({"generate", model});
  CHECK(missing.status == 2);
  CHECK(one_line_from(missing.err, "generate"));
  CHECK(has(missing.err, "missing -o FILE"));
}

TEST_CASE("an error message with a newline still makes one line") {
  TempDir dir("cli");
  const Run r = cli({"inspect", dir / "two\nlines.flow.json"});
  CHECK(r.status == 1);
  CHECK(one_line_from(r.err, "inspect"));
  CHECK(has(r.err, "two lines.flow.json"));
}

TEST_CASE("the main help lists every command; an unknown command exits 2 with it") {
  const Run main = cli({"--help"});
  CHECK(main.status == 0);
  for (const Command* c : commands()) {
    CHECK(has(main.out, fmt::format("  {} ", c->name)));
    CHECK(has(main.out, std::string(c->summary)));
  }
  // The summaries start in one column, at least two spaces after every synopsis.
  std::set<std::size_t> columns;
  for (const Command* c : commands()) {
    const std::size_t at = main.out.find(std::string(c->summary));
    const std::size_t line = main.out.rfind('\n', at) + 1;
    columns.insert(at - line);
    CHECK(main.out.substr(at - 2, 2) == "  ");
    CHECK(main.out.substr(line + 2, std::string(c->name).size()) == c->name);
  }
  CHECK(columns.size() == 1);
  const Run none = cli({});
  CHECK(none.status == 2);
  CHECK(none.err == main.out);
  const Run unknown = cli({"frobnicate"});
  CHECK(unknown.status == 2);
  CHECK(unknown.err.starts_with("flowaction: unknown command 'frobnicate'\n"));
  CHECK(has(unknown.err, main.out));
}
