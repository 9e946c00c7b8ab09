#include "frontends/cli.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <span>
#include <sstream>

#include "diagrams/diagram.hpp"
#include "diagrams/diagram_print.hpp"
#include "diagrams/feynman_print.hpp"
#include "engine/action_print.hpp"
#include "engine/cumulants_print.hpp"
#include "engine/error.hpp"
#include "engine/extract.hpp"
#include "engine/jet.hpp"
#include "frontends/action_reader.hpp"
#include "frontends/exact_json.hpp"
#include "frontends/inspect.hpp"
#include "frontends/manifest.hpp"
#include "frontends/output_file.hpp"
#include "frontends/trainer_commands.hpp"

namespace flowaction {

namespace {

constexpr const char* extract_help =
    R"(usage: flowaction extract MODEL [--order K] [--field F] [--at X] [--symbols S] [--format json|text] [-o FILE]

Pulls the standard-normal latent action back through the layers of MODEL (a "flowaction/1"
manifest, layers listed data -> latent) and prints the vertices Gamma^(k), k = 0..K, of
  S(x) = -ln p(x) = sum_k (1/k!) Gamma^(k)_{i1..ik} d_i1 ... d_ik,   d = x - x0.
Every vertex of order <= K is the exact Taylor coefficient at x0 (no truncation error).
A component is named by its sorted 0-based multi-index; the coefficient of the monomial d^a is
Gamma_a / a!. Gamma^(0) holds the normalisation (with logarithms).

options:
  --order K          highest vertex order (default 4)
  --field F          exact     rationals (JSON decimals in the model are exact: 0.1 = 1/10) [default]
                     float     double precision, for large models
                     symbolic  keep the weights named by --symbols as symbols, the rest exact
  --at X             expansion point x0, comma-separated (default: the origin); --at=-0.5,0,1
  --symbols S        comma-separated layerN.FIELD (layers numbered from 1), e.g. layer2.alpha,layer1.W;
                     symbol names: FIELD_N then _i per index (alpha_2, alpha_2_0, W_1_0_1)
  --format F         json (format "flowaction-action/1", default) or text (a table)
  -o, --output FILE  write to FILE (whole or not at all) instead of standard output
)";

constexpr const char* diagrams_help =
    R"(usage: flowaction diagrams [--order N] [--layer affine|activation|coupling|actnorm]

Lists the diagram classes that pull one layer's action back, for every order 0..N (default 4):
trees (an old vertex whose legs fan out through the layer's derivatives G^(m)) and rings (the
Jacobian: layer vertices joined in a cycle by G^(1)^-1 lines), each with its number of labelled
copies n!/|Aut| and its sign.

options:
  --order N        highest order listed, at most 12 (default 4)
  --layer L        only this layer type (default: every type)
)";

constexpr const char* inspect_help =
    R"(usage: flowaction inspect MODEL [--data SAMPLES.npy|.csv] [--at X]

Prints what MODEL holds: every layer with its tensors (shape, dtype, and the tensor file entry or
"inline"), the parameter count, det W of every affine layer, and the smallest phi'(u) over the
units at the expansion point x0 (an activation layer is invertible only where phi' > 0). With
--data, every sample is passed through the layers and those leaving the invertible domain of an
activation layer are counted by layer and unit. Values are shown in double precision.

options:
  --data FILE      samples x units (.npy or CSV)
  --at X           expansion point x0, comma-separated (default: the origin)
)";

constexpr const char* cumulants_help =
    R"(usage: flowaction cumulants ACTION --loops L [--order N] [--list] [--format json|text] [-o FILE]

Perturbative cumulants of the action in ACTION, a "flowaction-action/1" file (extract's output, the
sampler's .truth.json, or one written by hand; values exact, float, or expressions: a value "g"
stays the symbol g), from Feynman diagrams: propagator G = (Gamma^(2))^-1, vertices -Gamma^(k)
(k >= 3) and -Gamma^(1), every connected diagram weighted by 1/|Aut|. Prints ln(Z/Z0) (Z0 the
Gaussian integral of the quadratic part; Gamma^(0) is left out) and the connected n-point
functions of x, W^(n)_{i1..in} = <x_i1 ... x_in>_c, n = 1..N, W^(1) including the expansion point.
A diagram's loops are its independent cycles, plus one for each -Gamma^(1) vertex (a source the
size of a one-loop term: without that, trees with cubic vertices would have no bound). The n-th
order vacuum diagrams of quartic phi^4 have n + 1 loops, its n-th order 2-point diagrams n.
Exact input gives exact output; a singular or indefinite Gamma^(2) is an error.

options:
  --loops L          keep the connected diagrams with at most L loops, 0 to 10 (required)
  --order N          highest n-point function (default 4)
  --list             list the diagrams (factor, |Aut|, loops, vertices, edges) instead of values
  --format F         json (default; "flowaction-cumulants/1", or "flowaction-feynman/1" with
                     --list) or text
  -o, --output FILE  write to FILE (whole or not at all) instead of standard output
)";

// --at: comma-separated exact decimals.
std::vector<GiNaC::numeric> parse_point(const std::string& text) {
  std::vector<GiNaC::numeric> point;
  for (const std::string& x : split_commas(text)) {
    try {
      point.push_back(parse_decimal(x));
    } catch (const std::invalid_argument&) {
      throw Usage(fmt::format("--at: '{}' is not a decimal number", x));
    }
  }
  return point;
}

constexpr Option extract_options[] = {{"--order", true},   {"--field", true},  {"--at", true},
                                      {"--symbols", true}, {"--format", true}, output_option};

int run_extract(const Args& args, std::ostream& out, std::ostream& err) {
  ExtractRequest req;
  req.order = args.order("--order", req.order);
  if (auto v = args.value("--field")) {
    auto f = parse_field(*v);
    if (!f) throw Usage(fmt::format("unknown --field '{}' (exact, float or symbolic)", *v));
    req.field = *f;
  }
  if (auto v = args.value("--at")) req.at = parse_point(*v);
  if (auto v = args.value("--symbols"))
    for (const std::string& s : split_commas(*v))
      if (!s.empty()) req.symbols.insert(s);
  std::ostringstream text;
  std::optional<print_context> context = make_print_context("json", text);
  if (auto v = args.value("--format")) {
    context = make_print_context(*v, text);
    if (!context) throw Usage(fmt::format("unknown --format '{}' ({})", *v, print_context_names()));
  }
  const std::optional<std::string> output = args.value("--output");
  const std::vector<std::string>& files = args.positional();
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
  if (output)
    write_file_atomically(*output, text.str());
  else
    out << text.str();  // run_cli reports a standard output that cannot be written
  return 0;
}

constexpr Option cumulants_options[] = {
    {"--loops", true}, {"--order", true}, {"--list"}, {"--format", true}, output_option};

int run_cumulants(const Args& args, std::ostream& out, std::ostream&) {
  if (!args.has("--loops")) throw Usage("missing --loops L");
  CumulantRequest req;
  req.loops = static_cast<int>(args.integer("--loops", 0, 0, 10));
  req.order = args.order("--order", req.order);
  std::ostringstream text;
  const std::string format = args.string("--format", "json");
  const std::optional<print_context> context = make_print_context(format, text);
  if (!context)
    throw Usage(fmt::format("unknown --format '{}' ({})", format, print_context_names()));
  const std::vector<std::string>& files = args.positional();
  if (files.size() != 1)
    throw Usage(files.empty() ? "give the action file" : "give exactly one action file");

  ActionFile file = read_action(files[0]);
  file.info.source = files[0];
  std::visit(
      [&]<class T>(const Action<T>& action) {
        try {
          if (args.has("--list")) {
            diagrams::FeynmanListing listing{req.loops, feynman_rules(action), {}};
            for (int n = 0; n <= req.order; ++n)
              listing.by_legs.push_back(diagrams::feynman_diagrams(n, req.loops, listing.rules));
            diagrams::print(listing, *context);
            return;
          }
          std::vector<T> x0;
          for (const GiNaC::numeric& x : file.at) x0.push_back(from_rational<T>(x));
          print(cumulants(action, x0, req), file.info, *context);
        } catch (const Error& e) {
          throw Error(fmt::format("{}: {}", files[0], e.what()));
        }
      },
      file.action);
  if (auto output = args.value("--output"))
    write_file_atomically(*output, text.str());
  else
    out << text.str();
  return 0;
}

constexpr Option diagrams_options[] = {{"--order", true}, {"--layer", true}};

int run_diagrams(const Args& args, std::ostream& out, std::ostream&) {
  const int order = args.order("--order", 4);
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

constexpr Option inspect_options[] = {{"--data", true}, {"--at", true}};

int run_inspect(const Args& args, std::ostream& out, std::ostream&) {
  InspectRequest req;
  if (auto v = args.value("--at"))
    for (const GiNaC::numeric& x : parse_point(*v)) req.at.push_back(x.to_double());
  const std::optional<std::string> data = args.value("--data");
  const std::vector<std::string>& files = args.positional();
  if (files.size() != 1)
    throw Usage(files.empty() ? "give the model manifest" : "give exactly one model manifest");
  const Model model = read_manifest(files[0]);
  if (data) {
    req.data = read_table(*data);
    req.data_name = *data;
  }
  inspect(model, req, out);
  return 0;
}

const Command extract_command{"extract",
                              "MODEL",
                              "exact (or float, or symbolic) Taylor vertices of the data's action",
                              extract_help,
                              extract_options,
                              run_extract};
const Command diagrams_command{
    "diagrams",
    "",
    "the diagram classes of a layer's pullback, with multiplicities and signs",
    diagrams_help,
    diagrams_options,
    run_diagrams};
const Command cumulants_command{
    "cumulants",
    "ACTION",
    "connected n-point functions and ln(Z/Z0) of an action, from Feynman diagrams",
    cumulants_help,
    cumulants_options,
    run_cumulants};
const Command inspect_command{
    "inspect",
    "MODEL",
    "layers, shapes, dtypes, det W, invertibility (of samples, with --data)",
    inspect_help,
    inspect_options,
    run_inspect};

const Command* const command_table[] = {&extract_command, &diagrams_command, &cumulants_command,
                                        &sample_command,  &train_command,    &generate_command,
                                        &inspect_command};

// The main help, its command list made from the table.
std::string main_help() {
  std::string text =
      "flowaction — the action S(x) = -ln p(x) of a trained normalizing flow, vertex by vertex\n\n"
      "usage: flowaction COMMAND [options]\n\ncommands:\n";
  for (const Command* c : command_table) {
    const std::string synopsis =
        c->arguments.empty() ? std::string(c->name) : fmt::format("{} {}", c->name, c->arguments);
    text += fmt::format("  {:<18}{}\n", synopsis, c->summary);
  }
  return text + "\nRun `flowaction COMMAND --help` for the options of a command.\n";
}

// A message as one line of err: a message with newlines (from a library) would break the
// one-line-per-error contract scripts rely on.
std::string one_line(std::string_view message) {
  std::string line(message);
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

}  // namespace

std::span<const Command* const> commands() {
  return command_table;
}

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    (args.empty() ? err : out) << main_help();
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    out << "flowaction 0.1.0\n";
    return 0;
  }
  const auto found = std::find_if(std::begin(command_table), std::end(command_table),
                                  [&](const Command* c) { return c->name == args[0]; });
  if (found == std::end(command_table)) {
    err << fmt::format("flowaction: unknown command '{}'\n{}", args[0], main_help());
    return 2;
  }
  const Command& command = **found;
  // The one place where failures become exit statuses and lines on err.
  const auto fail = [&](std::string_view message, int status) {
    err << fmt::format("flowaction {}: {}\n", command.name, one_line(message)) << std::flush;
    return status;
  };
  try {
    const Args parsed(std::span<const std::string>(args).subspan(1), command.options);
    int status = 0;
    if (parsed.help())
      out << command.help;
    else
      status = command.run(parsed, out, err);
    // A full disk or closed pipe must not pass for success.
    if (!(out << std::flush)) throw Error("cannot write to standard output");
    return status;
  } catch (const Usage& e) {
    return fail(fmt::format("{} (see flowaction {} --help)", e.what(), command.name), 2);
  } catch (const Error& e) {
    return fail(e.what(), 1);
  } catch (const std::bad_alloc&) {
    return fail("out of memory", 1);
  } catch (const std::exception& e) {
    return fail(e.what(), 1);
  }
}

}  // namespace flowaction
