#include "frontends/cli.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <functional>
#include <iostream>
#include <optional>
#include <span>
#include <sstream>

#include "diagrams/diagram.hpp"
#include "diagrams/feynman_print.hpp"
#include "engine/action_print.hpp"
#include "engine/architecture.hpp"
#include "engine/closed_form.hpp"
#include "engine/closed_form_print.hpp"
#include "engine/cumulants_print.hpp"
#include "engine/diagram_listing.hpp"
#include "engine/error.hpp"
#include "engine/extract.hpp"
#include "engine/jet.hpp"
#include "engine/latex_document.hpp"
#include "engine/parallel.hpp"
#include "engine/simplify.hpp"
#include "frontends/action_reader.hpp"
#include "frontends/action_tensors.hpp"
#include "frontends/exact_json.hpp"
#include "frontends/inspect.hpp"
#include "frontends/latex_compile.hpp"
#include "frontends/manifest.hpp"
#include "frontends/npz.hpp"
#include "frontends/output_file.hpp"
#include "frontends/trainer_commands.hpp"

namespace flowaction {

namespace {

#define LATEX_OPTIONS_HELP                                                                      \
  "  --standalone       with latex: a complete document (preamble included) instead of a "      \
  "fragment\n"                                                                                  \
  "  --pdf              with latex: also compile the document (needs -o FILE.tex); the PDF is " \
  "put\n"                                                                                       \
  "                     beside it\n"                                                            \
  "  --engine E         pdflatex (default) or lualatex, for --pdf\n"

constexpr const char* extract_help =
    R"(usage: flowaction extract MODEL [--order K] [--field F] [--at X] [--symbols S] [--simplify M] [--per-layer] [--format json|text|latex|npz|safetensors] [--dense] [-o FILE] [--threads N] [--standalone] [--pdf] [--engine E]

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
  --simplify M       symbolic values: factor (default; factored where that is not longer than
                     collected), collect (a polynomial nested by symbol), expand (expanded numerator
                     over denominator)
  --per-layer        the action after each layer of the pullback, from the latent Gaussian to the
                     data (JSON format "flowaction-stages/1", or one table or section per stage;
                     npz, safetensors: stage{s}_gamma{k}_... and stage{s}_at for s = 0 ... L)
  --format F         json (format "flowaction-action/1", default), text (a table) or latex (the
                     vertices by order as formulas, a fragment to \input); default latex for -o *.tex
                     npz, safetensors: binary tensors for NumPy and PyTorch, float field only (the
                     default field with them): for each order k, gamma{k}_index (n x k int32, the
                     sorted 0-based indices in the order of the JSON vertices) and gamma{k}_value
                     (n float64); default for -o *.npz, *.safetensors
  --dense            with npz or safetensors: gamma{k} of shape (d,)*k instead, a full symmetric
                     array (refused up front when it would not fit in memory)
  -o, --output FILE  write to FILE (whole or not at all) instead of standard output
  --threads N        threads for the float field's contractions and writers (default: the
                     machine's cores); results are the same for every N
  --progress         the memory estimate and each layer's progress on stderr, one line each
                     (shown anyway, on one line, when stderr is a terminal)
)" LATEX_OPTIONS_HELP;

constexpr const char* diagrams_help =
    R"(usage: flowaction diagrams [MODEL] [--order N] [--layer affine|activation|coupling|actnorm] [--at X] [--format text|json|latex] [-o FILE] [--standalone] [--pdf] [--engine E]

Lists the diagram classes that pull one layer's action back, for every order 0..N (default 4):
trees (an old vertex whose legs fan out through the layer's derivatives G^(m)) and rings (the
Jacobian: layer vertices joined in a cycle by G^(1)^-1 lines), each with its number of labelled
copies n!/|Aut|, its sign and its term in index notation. With MODEL, the classes of each of its
layers that the layer's degree lets contribute; without, those of every layer type.

options:
  --order N          highest order listed, at most 12 (default 4)
  --layer L          only layers of this type (default: every type, or every layer of MODEL)
  --at X             expansion point of MODEL, comma-separated (default: the origin)
  --format F         text (default), json (format "flowaction-diagrams/1": each class with its
                     nodes, edges, factors, multiplicity, |Aut| and sign) or latex (a TikZ picture
                     and the term of each class, a fragment to \input); default latex for -o *.tex
  -o, --output FILE  write to FILE (whole or not at all) instead of standard output
)" LATEX_OPTIONS_HELP;

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
    R"(usage: flowaction cumulants ACTION --loops L [--order N] [--list] [--format json|text|latex] [-o FILE] [--standalone] [--pdf] [--engine E]

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
                     --list), text, or latex: ln(Z/Z0) and W^(n) by order as formulas (exact
                     rationals as fractions, symbols by TeX name); with --list, section by
                     section, each diagram as a TikZ picture (legs x_i, vertices as dots,
                     sources -Gamma^(1) as crossed circles) beside its factor 1/S, |Aut|, loops
                     and its term in index notation; a fragment to \input unless --standalone;
                     default latex for -o *.tex
  -o, --output FILE  write to FILE (whole or not at all) instead of standard output
)" LATEX_OPTIONS_HELP;

// --at: comma-separated exact decimals.
std::vector<GiNaC::numeric> parse_point(const std::string& text) {
  std::vector<GiNaC::numeric> point;
  for (const std::string& x : split_commas(text)) {
    try {
      point.push_back(parse_decimal(x));
    } catch (const std::invalid_argument&) {
      throw Usage(fmt::format("--at: '{}' is not a decimal number", excerpt(x)));
    }
  }
  return point;
}

// How a command renders its result: --format (default by the extension of -o, then the
// command's own), and for LaTeX --standalone, --pdf and --engine.
struct Rendering {
  std::string format;
  bool standalone = false;
  bool pdf = false;
  std::string engine;
  OutputTarget output;  // decided before any work (frontends/output_file.hpp)
};

// The format and the target of a command's output; inputs are the files it reads (-o must not
// name one of them).
// binary: the command also writes --format npz and safetensors (the default for -o *.npz,
// *.safetensors).
Rendering rendering(const Args& args, std::string_view fallback,
                    std::span<const std::filesystem::path> inputs = {}, bool binary = false) {
  Rendering r;
  const std::optional<std::string> output = args.value("--output");
  std::string by_name(fallback);
  if (output && output->ends_with(".tex")) by_name = "latex";
  if (binary && output && output->ends_with(".npz")) by_name = "npz";
  if (binary && output && output->ends_with(".safetensors")) by_name = "safetensors";
  r.format = args.string("--format", by_name);
  std::ostringstream probe;
  if (!make_print_context(r.format, probe) && !(binary && is_binary_format(r.format)))
    throw Usage(fmt::format("unknown --format '{}' ({}{})", r.format, print_context_names(),
                            binary ? ", npz, safetensors" : ""));
  r.pdf = args.has("--pdf");
  r.standalone = args.has("--standalone") || r.pdf;
  r.engine = args.one_of("--engine", {tex_engines[0], tex_engines[1]});
  if (r.standalone && r.format != "latex")
    throw Usage(fmt::format("--{} needs --format latex", r.pdf ? "pdf" : "standalone"));
  r.output = resolve_output(output, inputs);
  if (r.pdf && r.output.how != OutputTarget::kind::file)
    throw Usage("--pdf needs -o FILE.tex, a regular file (the PDF is put beside it)");
  return r;
}

// Writes the rendered text to -o (whole or not at all) or to out: a complete document with
// --standalone, compiled beside the .tex with --pdf.
void emit(const Rendering& r, std::string text, std::string_view title, std::ostream& out) {
  if (r.standalone) text = latex_standalone(text, title);
  write_output(r.output, text, out);  // run_cli reports a standard output that cannot be written
  if (r.pdf) compile_pdf(r.output.target, r.engine);
}

// The same for output printed into a context: streamed to the target as it is printed, except
// a LaTeX document, which is assembled first.
void emit(const Rendering& r, const std::function<void(const print_context&)>& print_to,
          std::string_view title, std::ostream& out) {
  if (r.standalone) {
    std::ostringstream text;
    print_to(*make_print_context(r.format, text));
    emit(r, std::move(text).str(), title, out);
    return;
  }
  write_output(
      r.output, [&](std::ostream& s) { print_to(*make_print_context(r.format, s)); }, out);
}

constexpr Option extract_options[] = {{"--order", true},   {"--field", true},    {"--at", true},
                                      {"--symbols", true}, {"--simplify", true}, {"--per-layer"},
                                      {"--format", true},  output_option,        {"--standalone"},
                                      {"--pdf"},           {"--engine", true},   {"--dense"},
                                      {"--threads", true}, {"--progress"}};

// --threads N: at least 1; the machine's cores without it.
void set_threads_from(const Args& args) {
  const std::optional<std::string> v = args.value("--threads");
  if (!v) return set_threads(0);
  int n = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || n < 1 || n > 1024)
    throw Usage(
        fmt::format("--threads: expected a whole number from 1 to 1024, got '{}'", excerpt(*v)));
  set_threads(static_cast<unsigned>(n));
}

// The float-field vertices as binary tensors (frontends/action_tensors.hpp).
void emit_binary(const Rendering& r, const Extraction& result, bool dense, std::ostream& out) {
  std::vector<RawTensor> tensors =
      result.stages.empty() ? action_tensors(std::get<Action<double>>(result.action), dense)
                            : stage_tensors(result.stages, dense);
  write_output(
      r.output,
      [&](std::ostream& s) {
        if (r.format == "npz")
          write_npz(s, tensors);
        else
          write_safetensors(s, tensors);
      },
      out);
}

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
  const std::string simplify_name = args.one_of("--simplify", {"factor", "collect", "expand"});
  const simplify_mode simplify = *parse_simplify(simplify_name);
  req.per_layer = args.has("--per-layer");
  const std::vector<std::string>& files = args.positional();
  if (files.size() != 1)
    throw Usage(files.empty() ? "give the model manifest" : "give exactly one model manifest");
  if (!req.symbols.empty() && req.field != field_kind::symbolic)
    throw Usage("--symbols needs --field symbolic");
  set_threads_from(args);
  const std::filesystem::path manifest = files[0];
  const Rendering r = rendering(args, "json", std::span(&manifest, 1), true);
  const bool binary = is_binary_format(r.format), dense = args.has("--dense");
  if (dense && !binary) throw Usage("--dense needs --format npz or safetensors");
  if (binary) {
    // Binary tensors hold doubles: the float field is their default, and the only one.
    if (!args.value("--field")) req.field = field_kind::float64;
    if (req.field != field_kind::float64)
      throw Usage(fmt::format(
          "--format {} writes the float field only (tensors of doubles); the exact and symbolic "
          "values are written by --format json",
          r.format));
    if (r.output.is_standard_output() && &out == &std::cout && ::isatty(1))
      throw Usage(fmt::format("--format {} is binary: give -o FILE", r.format));
  }

  const Model model = read_manifest(manifest);
  if (!model.tensor_file.empty()) check_not_input(r.output, model.tensor_file);
  if (binary) {
    req.output_bytes = binary_output_bytes(
        model.dim, req.order, dense, req.per_layer ? static_cast<int>(model.layers.size()) + 1 : 1);
    req.output_what = fmt::format("the {}tensors of --format {}", dense ? "dense " : "", r.format);
  }
  const bool terminal = &err == &std::cerr && ::isatty(2);
  const bool show_progress = terminal || args.has("--progress");
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  if (show_progress)
    err << fmt::format(
               "flowaction: dim {}, order {}, {} layers, {} threads: about {:.3g} GiB of "
               "memory estimated\n",
               model.dim, req.order, model.layers.size(), threads(),
               extraction_estimate(model, req) / (1 << 30))
        << std::flush;
  Extraction result = extract(model, req, [&](int done, int all) {
    if (!show_progress) return;
    err << fmt::format("{}flowaction: pulled back {}/{} layers, {:.1f} s", terminal ? "\r" : "",
                       done, all, elapsed())
        << (done == all || !terminal ? "\n" : "") << std::flush;
  });
  const auto wrote = [&] {
    if (show_progress)
      err << fmt::format("flowaction: written, {:.1f} s\n", elapsed()) << std::flush;
  };
  if (binary) {
    emit_binary(r, result, dense, out);
    wrote();
    return 0;
  }
  std::visit([&](auto& a) { simplify_vertices(a, simplify); }, result.action);
  for (ActionStage& s : result.stages)
    std::visit([&](auto& a) { simplify_vertices(a, simplify); }, s.action);
  emit(
      r,
      [&](const print_context& context) {
        if (req.per_layer)
          print(result.stages, result.info, context);
        else
          std::visit([&](const auto& a) { print(a, result.info, context); }, result.action);
      },
      fmt::format("The action of {}{}", model.source, req.per_layer ? ", layer by layer" : ""),
      out);
  wrote();
  return 0;
}

constexpr Option cumulants_options[] = {{"--loops", true},  {"--order", true}, {"--list"},
                                        {"--format", true}, output_option,     {"--standalone"},
                                        {"--pdf"},          {"--engine", true}};

int run_cumulants(const Args& args, std::ostream& out, std::ostream&) {
  if (!args.has("--loops")) throw Usage("missing --loops L");
  CumulantRequest req;
  req.loops = static_cast<int>(args.integer("--loops", 0, 0, 10));
  req.order = args.order("--order", req.order);
  const bool list = args.has("--list");
  const std::vector<std::string>& files = args.positional();
  if (files.size() != 1)
    throw Usage(files.empty() ? "give the action file" : "give exactly one action file");
  const std::filesystem::path action_file = files[0];
  const Rendering r = rendering(args, "json", std::span(&action_file, 1));

  ActionFile file = read_action(action_file);
  file.info.source = files[0];
  std::ostringstream text;
  const print_context context = *make_print_context(r.format, text);
  std::visit(
      [&]<class T>(const Action<T>& action) {
        try {
          if (list) {
            diagrams::FeynmanListing listing{req.loops, feynman_rules(action), {}};
            for (int n = 0; n <= req.order; ++n)
              listing.by_legs.push_back(diagrams::feynman_diagrams(n, req.loops, listing.rules));
            diagrams::print(listing, context);
            return;
          }
          std::vector<T> x0;
          for (const GiNaC::numeric& x : file.at) x0.push_back(from_rational<T>(x));
          print(cumulants(action, x0, req), file.info, context);
        } catch (const Error& e) {
          throw Error(fmt::format("{}: {}", files[0], e.what()));
        }
      },
      file.action);
  emit(r, text.str(),
       fmt::format("{} of {}, {} loops", list ? "Feynman diagrams" : "Cumulants", files[0],
                   req.loops),
       out);
  return 0;
}

constexpr Option diagrams_options[] = {{"--order", true},  {"--layer", true}, {"--at", true},
                                       {"--format", true}, output_option,     {"--standalone"},
                                       {"--pdf"},          {"--engine", true}};

int run_diagrams(const Args& args, std::ostream& out, std::ostream&) {
  const int order = args.order("--order", 4);
  if (order > 12) throw Usage("--order: at most 12 for a listing");
  const std::vector<std::filesystem::path> inputs(args.positional().begin(),
                                                  args.positional().end());
  const Rendering r = rendering(args, "text", inputs);
  std::vector<const LayerSpec*> types(layer_specs().begin(), layer_specs().end());
  const std::optional<std::string> only = args.value("--layer");
  if (only) {
    std::string names;
    for (const LayerSpec* l : types) names += (names.empty() ? "" : ", ") + std::string(l->type);
    std::erase_if(types, [&](const LayerSpec* l) { return *only != l->type; });
    if (types.empty()) throw Usage(fmt::format("unknown --layer '{}' ({})", *only, names));
  }
  const std::vector<std::string>& files = args.positional();
  if (files.size() > 1) throw Usage("give at most one model manifest");
  if (files.empty() && args.has("--at")) throw Usage("--at needs a model");
  DiagramListing listing;
  if (files.empty()) {
    listing = diagram_listing(types, order);
  } else {
    const Model model = read_manifest(files[0]);
    if (!model.tensor_file.empty()) check_not_input(r.output, model.tensor_file);
    std::vector<GiNaC::numeric> x0;
    if (auto v = args.value("--at")) x0 = parse_point(*v);
    if (!x0.empty() && static_cast<int>(x0.size()) != model.dim)
      throw Error(fmt::format("{}: the expansion point has {} entries, the model has dim {}",
                              model.source, x0.size(), model.dim));
    listing = diagram_listing(model, order, x0);
    if (only)
      std::erase_if(listing.layers, [&](const LayerDiagrams& l) { return l.spec->type != *only; });
  }
  std::ostringstream text;
  print(listing, *make_print_context(r.format, text));
  emit(r, text.str(),
       listing.source.empty() ? std::string("Diagram classes of the pullback")
                              : "Diagram classes of " + listing.source,
       out);
  return 0;
}

constexpr const char* closed_form_help =
    R"(usage: flowaction closed-form --arch SPEC [--order K] [--at 0|x] [--simplify M] [--format text|json|latex] [-o FILE] [--standalone] [--pdf] [--engine E]

Derives the vertices Gamma^(n), n = 0..K, of an architecture whose weights are all symbolic
tensors, for any dimension d: each vertex a sum of terms, a coefficient in per-unit quantities
(alpha, the units' values u at the expansion point) times weight tensors, summed over internal
unit indices. Built by the pullback of the diagram classes that each layer admits, on index
expressions; terms equal up to index names are merged.

options:
  --arch SPEC        layers data -> latent, comma-separated: affine, activation, coupling or
                     actnorm, each optionally with :quadratic (phi(u) = u + alpha u^2, the default),
                     :cubic (u + alpha u^3), :degreeP (u + c_2 u^2 + ... + c_P u^P), :bias
                     (affine, coupling, actnorm); e.g. affine,activation:cubic,affine,activation:cubic
  --order K          highest vertex order, at most 6 (default 4)
  --at P             0 (default: x0 = 0) or x (a symbolic expansion point x0; the units' values
                     there are named and defined once)
  --simplify M       coefficients: factor (default), collect or expand
  --format F         text (default), json (format "flowaction-closed-form/1") or latex (a fragment
                     to \input); default latex for -o *.tex
  -o, --output FILE  write to FILE (whole or not at all) instead of standard output
)" LATEX_OPTIONS_HELP;

constexpr Option closed_form_options[] = {
    {"--arch", true}, {"--order", true}, {"--at", true}, {"--simplify", true}, {"--format", true},
    output_option,    {"--standalone"},  {"--pdf"},      {"--engine", true}};

int run_closed_form(const Args& args, std::ostream& out, std::ostream&) {
  const std::optional<std::string> spec = args.value("--arch");
  if (!spec) throw Usage("give the architecture with --arch SPEC");
  if (!args.positional().empty()) throw Usage("closed-form takes no file");
  const int order = args.order("--order", 4);
  if (order > 6) throw Usage("--order: at most 6 for a closed form");
  const std::string at = args.string("--at", "0");
  if (at != "0" && at != "x") throw Usage(fmt::format("--at '{}': expected 0 or x", at));
  const simplify_mode mode =
      *parse_simplify(args.one_of("--simplify", {"factor", "collect", "expand"}));
  const Rendering r = rendering(args, "text");
  const Architecture arch = parse_architecture(*spec);
  const ClosedForm form = closed_form(arch, order, at == "x");
  std::ostringstream text;
  print(form, *make_print_context(r.format, text), mode);
  emit(r, text.str(), "Closed form of the vertices of " + *spec, out);
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
    "[MODEL]",
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

const Command closed_form_command{
    "closed-form",
    "--arch SPEC",
    "the vertices of an architecture in index notation, every weight symbolic, any dimension",
    closed_form_help,
    closed_form_options,
    run_closed_form};

const Command* const command_table[] = {&extract_command, &diagrams_command,    &cumulants_command,
                                        &sample_command,  &train_command,       &generate_command,
                                        &inspect_command, &closed_form_command, &verify_command};

// The main help, its command list made from the table.
std::string main_help() {
  std::string text =
      "flowaction — the action S(x) = -ln p(x) of a trained normalizing flow, vertex by vertex\n\n"
      "usage: flowaction COMMAND [options]\n\ncommands:\n";
  auto synopsis = [](const Command* c) {
    return c->arguments.empty() ? std::string(c->name)
                                : fmt::format("{} {}", c->name, c->arguments);
  };
  std::size_t width = 0;  // the summaries in one column, after the longest synopsis
  for (const Command* c : command_table) width = std::max(width, synopsis(c).size());
  for (const Command* c : command_table)
    text += fmt::format("  {:<{}}  {}\n", synopsis(c), width, c->summary);
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
  } catch (const Interrupted& e) {
    return fail(e.what(), 128 + e.signal);
  } catch (const Error& e) {
    return fail(e.what(), 1);
  } catch (const std::bad_alloc&) {
    return fail("out of memory", 1);
  } catch (const std::exception& e) {
    return fail(e.what(), 1);
  }
}

}  // namespace flowaction
