#include "frontends/cli.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <span>
#include <sstream>

#include "diagrams/diagram.hpp"
#include "engine/error.hpp"
#include "engine/extract.hpp"
#include "diagrams/diagram_print.hpp"
#include "engine/action_print.hpp"
#include "engine/jet.hpp"
#include "frontends/exact_json.hpp"
#include "frontends/inspect.hpp"
#include "frontends/manifest.hpp"
#include "frontends/output_file.hpp"
#include "frontends/trainer_commands.hpp"

namespace flowaction {

namespace {

constexpr const char* main_help =
    R"(flowaction — the action S(x) = -ln p(x) of a trained normalizing flow, vertex by vertex

usage: flowaction COMMAND [options]

commands:
  extract MODEL     exact (or float, or symbolic) Taylor vertices of the data's action
  diagrams          the diagram classes of a layer's pullback, with multiplicities and signs
  sample phi4       lattice phi^4 samples by Hybrid Monte Carlo, with the true vertices
  train DATA        train a flow on samples (.npy or CSV) by maximum likelihood
  generate MODEL    samples from a trained flow through its exact inverse
  inspect MODEL     layers, shapes, dtypes, det W, invertibility (of samples, with --data)

Run `flowaction COMMAND --help` for the options of a command.
)";

constexpr const char* extract_help =
    R"(usage: flowaction extract MODEL [--order K] [--field F] [--at X] [--symbols S] [--format json|text] [-o FILE]

Pulls the standard-normal latent action back through the layers of MODEL (a "flowaction/1"
manifest, layers listed data -> latent) and prints the vertices Gamma^(k), k = 0..K, of
  S(x) = -ln p(x) = sum_k (1/k!) Gamma^(k)_{i1..ik} d_i1 ... d_ik,   d = x - x0.
Every vertex of order <= K is the exact Taylor coefficient at x0 (no truncation error).
A component is named by its sorted 0-based multi-index; the coefficient of the monomial d^a is
Gamma_a / a!. Gamma^(0) holds the normalisation (with logarithms).

options:
  --order K        highest vertex order (default 4)
  --field F        exact     rationals (JSON decimals in the model are exact: 0.1 = 1/10) [default]
                   float     double precision, for large models
                   symbolic  keep the weights named by --symbols as symbols, the rest exact
  --at X           expansion point x0, comma-separated (default: the origin); --at=-0.5,0,1
  --symbols S      comma-separated layerN.FIELD (layers numbered from 1), e.g. layer2.alpha,layer1.W;
                   symbol names: FIELD_N then _i per index (alpha_2, alpha_2_0, W_1_0_1)
  --format F       json (format "flowaction-action/1", default) or text (a table)
  -o FILE          write to FILE (whole or not at all) instead of standard output
)";

constexpr const char* diagrams_help =
    R"(usage: flowaction diagrams [--order N] [--layer affine|activation|coupling|actnorm]

Lists the diagram classes that pull one layer's action back, for every order 0..N (default 4):
trees (an old vertex whose legs fan out through the layer's derivatives G^(m)) and rings (the
Jacobian: layer vertices joined in a cycle by G^(1)^-1 lines), each with its number of labelled
copies n!/|Aut| and its sign.
)";

constexpr const char* inspect_help = R"(usage: flowaction inspect MODEL [--data SAMPLES.npy|.csv] [--at X]

Prints what MODEL holds: every layer with its tensors (shape, dtype, and the tensor file entry or
"inline"), the parameter count, det W of every affine layer, and the smallest phi'(u) over the
units at the expansion point x0 (an activation layer is invertible only where phi' > 0). With
--data, every sample is passed through the layers and those leaving the invertible domain of an
activation layer are counted by layer and unit. Values are shown in double precision.

options:
  --data FILE      samples x units (.npy or CSV)
  --at X           expansion point x0, comma-separated (default: the origin)
)";

struct Usage : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// --name VALUE or --name=VALUE; VALUE may start with '-' (a negative coordinate).
class Args {
 public:
  explicit Args(std::span<const std::string> a) : args_(a.begin(), a.end()) {}

  bool flag(std::string_view name) {
    for (std::size_t i = 0; i < args_.size(); ++i)
      if (args_[i] == name) {
        args_.erase(args_.begin() + static_cast<long>(i));
        return true;
      }
    return false;
  }
  std::optional<std::string> value(std::string_view name) {
    std::optional<std::string> v;
    for (std::size_t i = 0; i < args_.size();) {
      const std::string& a = args_[i];
      if (a == name) {
        if (i + 1 >= args_.size()) throw Usage(fmt::format("{} needs a value", name));
        v = args_[i + 1];
        args_.erase(args_.begin() + static_cast<long>(i), args_.begin() + static_cast<long>(i) + 2);
      } else if (a.size() > name.size() && a.compare(0, name.size(), name) == 0 &&
                 a[name.size()] == '=') {
        v = a.substr(name.size() + 1);
        args_.erase(args_.begin() + static_cast<long>(i));
      } else {
        ++i;
      }
    }
    return v;
  }
  std::vector<std::string> positional() {
    for (const std::string& a : args_)
      if (a.size() > 1 && a[0] == '-') throw Usage(fmt::format("unknown option {}", a));
    return args_;
  }

 private:
  std::vector<std::string> args_;
};

int parse_int(const std::string& text, std::string_view what) {
  constexpr int max_order = diagrams::max_order;
  std::size_t used = 0;
  long v = 0;
  try {
    v = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty())
    throw Usage(fmt::format("{} expects an integer, got '{}'", what, text));
  if (v < 0) throw Usage(fmt::format("{} must be >= 0, got {}", what, v));
  if (v > max_order)
    throw Usage(fmt::format("{} {} is beyond the largest supported order, {} (diagram multiplicities "
                            "are counted in 64 bits)", what, v, max_order));
  return static_cast<int>(v);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// --at: comma-separated exact decimals.
std::vector<GiNaC::numeric> parse_point(const std::string& text) {
  std::vector<GiNaC::numeric> point;
  for (const std::string& x : split(text)) {
    try {
      point.push_back(parse_decimal(x));
    } catch (const std::invalid_argument&) {
      throw Usage(fmt::format("--at: '{}' is not a decimal number", x));
    }
  }
  return point;
}

int cmd_extract(std::span<const std::string> argv, std::ostream& out, std::ostream& err) {
  Args args(argv);
  if (args.flag("--help") || args.flag("-h")) {
    out << extract_help;
    return 0;
  }
  ExtractRequest req;
  if (auto v = args.value("--order")) req.order = parse_int(*v, "--order");
  if (auto v = args.value("--field")) {
    auto f = parse_field(*v);
    if (!f) throw Usage(fmt::format("unknown --field '{}' (exact, float or symbolic)", *v));
    req.field = *f;
  }
  if (auto v = args.value("--at")) req.at = parse_point(*v);
  if (auto v = args.value("--symbols"))
    for (const std::string& s : split(*v))
      if (!s.empty()) req.symbols.insert(s);
  std::ostringstream text;
  std::optional<print_context> context = make_print_context("json", text);
  if (auto v = args.value("--format")) {
    context = make_print_context(*v, text);
    if (!context)
      throw Usage(fmt::format("unknown --format '{}' ({})", *v, print_context_names()));
  }
  const std::optional<std::string> output = args.value("-o");
  const std::vector<std::string> files = args.positional();
  if (files.size() != 1)
    throw Usage(files.empty() ? "give the model manifest" : "give exactly one model manifest");
  if (!req.symbols.empty() && req.field != field_kind::symbolic)
    throw Usage("--symbols needs --field symbolic");

  const Model model = read_manifest(files[0]);
  const bool show_progress = &err == &std::cerr && ::isatty(2);
  const auto start = std::chrono::steady_clock::now();
  const Extraction result = extract(model, req, [&](int done, int all) {
    if (!show_progress) return;
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    err << fmt::format("\rflowaction: pulled back {}/{} layers, {:.1f} s", done, all, s)
        << (done == all ? "\n" : "") << std::flush;
  });
  std::visit([&](const auto& a) { print(a, result.info, *context); }, result.action);
  if (output) {
    write_file_atomically(*output, text.str());
  } else if (!(out << text.str() << std::flush)) {
    throw Error("cannot write to standard output");
  }
  return 0;
}

int cmd_diagrams(std::span<const std::string> argv, std::ostream& out, std::ostream&) {
  Args args(argv);
  if (args.flag("--help") || args.flag("-h")) {
    out << diagrams_help;
    return 0;
  }
  int order = 4;
  if (auto v = args.value("--order")) order = parse_int(*v, "--order");
  if (order > 12) throw Usage("--order: at most 12 for a listing");
  std::vector<const LayerSpec*> layers(layer_specs().begin(), layer_specs().end());
  if (auto v = args.value("--layer")) {
    std::string names;
    for (const LayerSpec* l : layers) names += (names.empty() ? "" : ", ") + std::string(l->type);
    std::erase_if(layers, [&](const LayerSpec* l) { return *v != l->type; });
    if (layers.empty()) throw Usage(fmt::format("unknown --layer '{}' ({})", *v, names));
  }
  if (!args.positional().empty()) throw Usage("diagrams takes no file");
  const text_context context{&out};
  for (const LayerSpec* layer : layers) {
    out << fmt::format("{} layer:\n", layer->type);
    const diagrams::ClassFilter filter = class_filter(*layer);
    for (int n = 0; n <= order; ++n) {
      out << fmt::format("  order {}:\n", n);
      diagrams::for_each_class(n, filter, [&](const diagrams::DiagramClass& c) {
        out << "    ";
        diagrams::print(c, context);
      });
    }
  }
  return 0;
}

int cmd_inspect(std::span<const std::string> argv, std::ostream& out, std::ostream&) {
  Args args(argv);
  if (args.flag("--help") || args.flag("-h")) {
    out << inspect_help;
    return 0;
  }
  InspectRequest req;
  if (auto v = args.value("--at"))
    for (const GiNaC::numeric& x : parse_point(*v)) req.at.push_back(x.to_double());
  const std::optional<std::string> data = args.value("--data");
  const std::vector<std::string> files = args.positional();
  if (files.size() != 1) throw Usage(files.empty() ? "give the model manifest" : "give exactly one model manifest");
  const Model model = read_manifest(files[0]);
  if (data) {
    req.data = read_table(*data);
    req.data_name = *data;
  }
  inspect(model, req, out);
  return 0;
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    (args.empty() ? err : out) << main_help;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    out << "flowaction 0.1.0\n";
    return 0;
  }
  const std::string& command = args[0];
  const std::span<const std::string> rest(args.begin() + 1, args.end());
  try {
    if (command == "extract") return cmd_extract(rest, out, err);
    if (command == "diagrams") return cmd_diagrams(rest, out, err);
    if (command == "sample") return cmd_sample(rest, out, err);
    if (command == "train") return cmd_train(rest, out, err);
    if (command == "generate") return cmd_generate(rest, out, err);
    if (command == "inspect") return cmd_inspect(rest, out, err);
    err << fmt::format("flowaction: unknown command '{}'\n{}", command, main_help);
    return 2;
  } catch (const Usage& e) {
    err << fmt::format("flowaction {}: {} (see flowaction {} --help)\n", command, e.what(),
                       command);
    return 2;
  } catch (const Error& e) {
    err << "flowaction: " << e.what() << '\n';
    return 1;
  } catch (const std::bad_alloc&) {
    err << "flowaction: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    err << "flowaction: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace flowaction
