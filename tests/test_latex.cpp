// LaTeX output: the diagrams in a document are the engine's own classes (counted and parsed back),
// the action's exact values appear as fractions, and the documents compile with pdflatex and
// lualatex (skipped, not passed, where TeX is missing).
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "diagrams/diagram.hpp"
#include "engine/jet.hpp"
#include "engine/latex_document.hpp"
#include "engine/layer.hpp"
#include "frontends/cli.hpp"
#include "frontends/latex_compile.hpp"
#include "frontends/manifest.hpp"
#include "tests/latex_check.hpp"
#include "tests/temp_dir.hpp"

using namespace flowaction;
namespace fs = std::filesystem;

namespace {

const std::string example =
    std::string(FLOWACTION_SOURCE_DIR) + "/examples/models/worked_example.flow.json";
const std::string two_layer =
    std::string(FLOWACTION_SOURCE_DIR) + "/examples/models/two_layer.flow.json";

using testing_support::count;

std::string run(const std::vector<std::string>& args) {
  return testing_support::run_ok(args);
}

// The classes the engine evaluates for each layer of the model at the origin, order by order:
// computed here from the jets, independently of the listing code.
std::vector<std::vector<std::vector<diagrams::DiagramClass>>> engine_classes(
    const std::string& file, int K) {
  const Model model = read_manifest(file);
  const auto maps = instantiate<double>(model);
  std::vector<double> y(static_cast<std::size_t>(model.dim), 0.0);
  std::vector<std::vector<std::vector<diagrams::DiagramClass>>> out;
  for (const auto& m : maps) {
    const diagrams::ClassFilter f = class_filter(jet(m, y, K));
    out.emplace_back();
    for (int n = 0; n <= K; ++n) out.back().push_back(diagrams::classes(n, f));
    y = forward(m, y);
  }
  return out;
}

std::string class_line(const diagrams::DiagramClass& c) {
  return fmt::format("% class: {} ({}) multiplicity {} automorphisms {} sign {:+d}",
                     c.kind == diagrams::diagram_kind::tree ? "tree" : "ring",
                     fmt::join(c.sizes, ","), c.multiplicity, c.automorphisms, c.sign);
}

// The fragments of the test document: several layer types, a nonzero expansion point, the
// symbolic field, the stages of a pullback and a closed form.
std::string test_document() {
  std::string body;
  const auto section = [&](const std::string& title, const std::vector<std::string>& args) {
    body += "\\section*{" + title + "}\n" + run(args) + "\n\\clearpage\n";
  };
  section("Diagrams of a model", {"diagrams", two_layer, "--order", "4", "--format", "latex"});
  section("Worked example", {"extract", example, "--order", "4", "--format", "latex"});
  section("Nonzero expansion point",
          {"extract", two_layer, "--order", "3", "--at", "0.5,-0.25", "--format", "latex"});
  section("Symbolic field", {"extract", two_layer, "--order", "3", "--field", "symbolic",
                             "--symbols", "layer2.alpha", "--format", "latex"});
  section("Layer by layer",
          {"extract", two_layer, "--order", "4", "--per-layer", "--format", "latex"});
  section("Closed form",
          {"closed-form", "--arch", "affine,activation:cubic,affine,activation:cubic", "--order",
           "4", "--format", "latex"});
  return latex_standalone(body, "flowaction test document");
}

}  // namespace

TEST_CASE(
    "LaTeX diagrams of a model are the engine's classes, with their multiplicities and signs") {
  const int K = 4;
  const std::string tex = run({"diagrams", two_layer, "--order", "4", "--format", "latex"});
  const auto want = engine_classes(two_layer, K);
  // Split by layer sections, then by order, and read the class lines back.
  std::size_t at = 0, pictures = 0;
  for (std::size_t l = 0; l < want.size(); ++l) {
    at = tex.find("\\section*{layer " + std::to_string(l + 1), at);
    REQUIRE(at != std::string::npos);
    for (int n = 0; n <= K; ++n) {
      const std::size_t start = tex.find(fmt::format("\\subsection*{{Order {}}}", n), at);
      REQUIRE(start != std::string::npos);
      std::size_t end = tex.find("\\subsection*", start + 1);
      end = std::min(end, tex.find("\\section*", start));
      const std::string part = tex.substr(start, end == std::string::npos ? end : end - start);
      std::istringstream lines(part);
      std::vector<std::string> found;
      for (std::string line; std::getline(lines, line);)
        if (line.starts_with("% class:")) found.push_back(line);
      std::vector<std::string> expected;
      for (const auto& c : want[l][static_cast<std::size_t>(n)]) expected.push_back(class_line(c));
      CAPTURE(l);
      CAPTURE(n);
      CHECK(found == expected);
      CHECK(count(part, "\\begin{tikzpicture}") == expected.size());
      pictures += expected.size();
      at = start;
    }
  }
  CHECK(count(tex, "\\begin{tikzpicture}") == pictures);
  // Layout: no TikZ library that needs Lua.
  CHECK(tex.find("graphdrawing") == std::string::npos);
}

TEST_CASE("JSON diagrams: each class with nodes, edges, factors, multiplicity, |Aut| and sign") {
  const auto j =
      nlohmann::json::parse(run({"diagrams", two_layer, "--order", "3", "--format", "json"}));
  CHECK(j["format"] == "flowaction-diagrams/1");
  const auto want = engine_classes(two_layer, 3);
  REQUIRE(j["layers"].size() == want.size());
  for (std::size_t l = 0; l < want.size(); ++l)
    for (int n = 0; n <= 3; ++n) {
      const auto& classes = j["layers"][l]["orders"][static_cast<std::size_t>(n)]["classes"];
      const auto& expect = want[l][static_cast<std::size_t>(n)];
      REQUIRE(classes.size() == expect.size());
      for (std::size_t k = 0; k < expect.size(); ++k) {
        CHECK(classes[k]["multiplicity"] == expect[k].multiplicity);
        CHECK(classes[k]["automorphisms"] == expect[k].automorphisms);
        CHECK(classes[k]["sign"] == expect[k].sign);
        CHECK(classes[k]["sizes"] == expect[k].sizes);
        CHECK(classes[k]["nodes"].size() >= 1);
        CHECK(classes[k]["factors"].size() >= 1);
      }
    }
}

TEST_CASE("the action as LaTeX: fractions, stages, symbols, and a long sum broken across lines") {
  const std::string worked = run({"extract", example, "--order", "4", "--format", "latex"});
  for (const char* v : {"-\\frac{1}{2}", "\\frac{5}{4}", "\\frac{9}{8}"})
    CHECK_MESSAGE(worked.find(v) != std::string::npos, v);
  CHECK(count(worked, "&= \\frac{5}{4}") == 2);  // Γ⁽²⁾ and Γ⁽³⁾
  const std::string stages =
      run({"extract", two_layer, "--order", "2", "--per-layer", "--format", "latex"});
  CHECK(count(stages, "\\subsection*{") == 5);  // the latent and four layers
  const std::string symbolic = run({"extract", example, "--order", "3", "--field", "symbolic",
                                    "--symbols", "layer1.alpha", "--format", "latex"});
  // Γ⁽³⁾ = 2α(3 − 8α²), the power of a TeX name parenthesised rather than a stacked superscript.
  CHECK(symbolic.find("\\Gamma^{(3)}_{000} &= 2 {\\alpha^{(1)}} \\left(3 - 8 ({\\alpha^{(1)}})^{2}"
                      "\\right)") != std::string::npos);
  const std::string longer = run({"extract", two_layer, "--order", "2", "--field", "symbolic",
                                  "--symbols", "layer2.alpha", "--format", "latex"});
  CHECK(longer.find("&\\quad") != std::string::npos);
}

TEST_CASE("--per-layer: the latent Gaussian, then one stage per layer, the last being the action") {
  const auto stages =
      nlohmann::json::parse(run({"extract", two_layer, "--order", "3", "--per-layer"}));
  const auto whole = nlohmann::json::parse(run({"extract", two_layer, "--order", "3"}));
  CHECK(stages["format"] == "flowaction-stages/1");
  REQUIRE(stages["stages"].size() == 5);
  CHECK(stages["stages"][0]["title"].get<std::string>().starts_with("latent"));
  CHECK(stages["stages"][4]["vertices"] == whole["vertices"]);
  CHECK(stages["stages"][4]["at"] == whole["at"]);
  // The latent Gaussian has no vertex above order 2; the coupling makes 3-point ones.
  for (const auto& v : stages["stages"][0]["vertices"]) CHECK(v["order"].get<int>() <= 2);
  bool three = false;
  for (const auto& v : stages["stages"][4]["vertices"]) three = three || v["order"] == 3;
  CHECK(three);
  const std::string text =
      run({"extract", two_layer, "--order", "2", "--per-layer", "--format", "text"});
  CHECK(count(text, "\n## after layer") == 4);
}

TEST_CASE("--simplify: one quadratic unit's Gamma3 = 2 alpha (3 - 8 alpha^2) in every format") {
  const auto base = std::vector<std::string>{"extract", example,    "--order",   "3",
                                             "--field", "symbolic", "--symbols", "layer1.alpha"};
  auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return run(args);
  };
  CHECK(with({"--format", "text"}).find("2*alpha_1*(3 - 8*alpha_1^2)") != std::string::npos);
  CHECK(with({"--format", "json"}).find("2*alpha_1*(3 - 8*alpha_1^2)") != std::string::npos);
  CHECK(with({"--simplify", "collect", "--format", "text"}).find("6*alpha_1 - 16*alpha_1^3") !=
        std::string::npos);
  CHECK(with({"--simplify", "expand", "--format", "text"}).find("6*alpha_1 - 16*alpha_1^3") !=
        std::string::npos);
}

TEST_CASE("--pdf without TeX names the Debian packages, exits 1 and keeps the .tex") {
  TempDir dir("latex_missing");
  const char* old = std::getenv("PATH");
  const std::string saved = old ? old : "";
  ::setenv("PATH", dir.path.c_str(), 1);
  std::ostringstream out, err;
  const int status = run_cli({"diagrams", "--order", "2", "--layer", "activation", "-o",
                              dir / "act.tex", "--pdf", "--engine", "lualatex"},
                             out, err);
  ::setenv("PATH", saved.c_str(), 1);
  CHECK(status == 1);
  CHECK(err.str().find("apt-get install texlive-latex-base") != std::string::npos);
  CHECK(err.str().find("texlive-luatex") != std::string::npos);
  CHECK(fs::exists(dir.path / "act.tex"));
  CHECK_FALSE(fs::exists(dir.path / "act.pdf"));
  std::ostringstream o2, e2;
  CHECK(run_cli({"diagrams", "--pdf"}, o2, e2) == 2);  // --pdf needs -o
  CHECK(run_cli({"extract", example, "--standalone", "--format", "json"}, o2, e2) == 2);
}

TEST_CASE("the documents compile with pdflatex and lualatex") {
  const std::string document = test_document();
  CHECK(count(document, "\\begin{tikzpicture}") > 20);
  testing_support::compile_with_every_engine(document, TempDir("latex_engines"));
  // The command line's own --pdf, once.
  if (tex_available("pdflatex")) {
    TempDir dir("latex_cli");
    run({"closed-form", "--arch", "affine,activation", "--order", "4", "-o", dir / "closed.tex",
         "--pdf"});
    CHECK(fs::exists(dir.path / "closed.pdf"));
    std::ifstream in(dir.path / "closed.tex");
    std::stringstream s;
    s << in.rdbuf();
    CHECK(s.str().find("\\begin{document}") != std::string::npos);
    CHECK(s.str().find("\\sum_{a}") != std::string::npos);
  }
}
