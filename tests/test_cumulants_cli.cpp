// `flowaction cumulants` end to end: the output contract, actions from `extract` and from the
// sampler's truth sidecar, the diagram listing, and bad input files (one line naming file and
// field, exit 1, no output).
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <ginac/ginac.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "frontends/action_reader.hpp"
#include "frontends/cli.hpp"
#include "tests/cli_run.hpp"
#include "tests/temp_dir.hpp"

using namespace flowaction;
using namespace testing_support;  // cli, has, Run
namespace fs = std::filesystem;

namespace {

std::string action_file(const std::string& vertices, int dim = 1, const std::string& extra = "") {
  return fmt::format(
      R"({{"format": "flowaction-action/1", "dim": {}, "order": 4{}, "vertices": [{}]}})", dim,
      extra, vertices);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("cumulants: the JSON contract, exact and symbolic") {
  TempDir dir("cumulants_cli");
  // Two units: Γ⁽²⁾ = [[2, 1], [1, 2]], G = [[2, −1], [−1, 2]]/3; a cubic vertex at unit 0.
  const std::string exact = dir.write("a.json", action_file(R"(
      {"order": 2, "index": [0, 0], "value": "2"}, {"order": 2, "index": [0, 1], "value": 1},
      {"order": 2, "index": [1, 1], "value": "2"}, {"order": 3, "index": [0, 0, 0], "value": "0.5"})",
                                                            2))
                                .string();
  const Run r = cli({"cumulants", exact, "--loops", "1", "--order", "2"});
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["format"] == "flowaction-cumulants/1");
  CHECK(j["loops"] == 1);
  CHECK(j["field"] == "exact");
  REQUIRE(j["log_Z_over_Z0"].is_string());
  // No vacuum diagram of at most one loop: two cubic vertices make two loops.
  CHECK(j["log_Z_over_Z0"] == "0");
  std::map<std::vector<int>, std::string> value;
  for (const auto& e : j["cumulants"]) {
    CHECK(e.size() == 4);
    const auto index = e["index"].get<std::vector<int>>();
    CHECK(std::is_sorted(index.begin(), index.end()));
    CHECK(static_cast<int>(index.size()) == e["order"].get<int>());
    CHECK(e["value"].is_string());
    CHECK(e["float"].is_number());
    value[index] = e["value"];
  }
  // The 1-loop tadpole ⟨x_i⟩ = −½ G_i0 Γ₀₀₀ G₀₀ = −(1/2)(1/2)(2/3) G_i0.
  CHECK(value[{0}] == "-1/9");
  CHECK(value[{1}] == "1/18");
  // Tree level: G.
  const auto tree =
      nlohmann::json::parse(cli({"cumulants", exact, "--loops", "0", "--order", "2"}).out);
  REQUIRE(tree["cumulants"].size() == 3);
  CHECK(tree["cumulants"][0]["value"] == "2/3");
  CHECK(tree["cumulants"][1]["value"] == "-1/3");
  CHECK(tree["cumulants"][1]["index"] == nlohmann::json::array({0, 1}));
  CHECK(tree["cumulants"][2]["value"] == "2/3");
  CHECK(tree["cumulants"][2]["float"] == doctest::Approx(2.0 / 3));

  // A vertex "g" stays a symbol; the field becomes symbolic and the floats null.
  const std::string symbolic = dir.write("g.json", action_file(R"(
      {"order": 2, "index": [0, 0], "value": "1"}, {"order": 4, "index": [0, 0, 0, 0], "value": "g"})"))
                                   .string();
  const Run s = cli({"cumulants", symbolic, "--loops", "2", "--order", "2"});
  REQUIRE(s.status == 0);
  const auto k = nlohmann::json::parse(s.out);
  CHECK(k["field"] == "symbolic");
  CHECK(k["symbols"] == nlohmann::json::array({"g"}));
  CHECK(k["log_Z_over_Z0"] == "-1/8*g");
  REQUIRE(k["cumulants"].size() == 1);
  CHECK(k["cumulants"][0]["float"].is_null());
  CHECK(has(k["cumulants"][0]["value"], "2/3*g^2"));

  // The 1-point function of x includes the expansion point.
  const std::string shifted = dir.write("x0.json", action_file(R"(
      {"order": 2, "index": [0, 0], "value": "1"}, {"order": 4, "index": [0, 0, 0, 0], "value": "1"})",
                                                               1, R"(, "at": ["1/2"])"))
                                  .string();
  const auto x0 = nlohmann::json::parse(cli({"cumulants", shifted, "--loops", "3"}).out);
  CHECK(x0["at"] == nlohmann::json::array({"1/2"}));
  CHECK(x0["cumulants"][0]["index"] == nlohmann::json::array({0}));
  CHECK(x0["cumulants"][0]["value"] == "1/2");

  // Text, and -o writes the file whole.
  const Run t =
      cli({"cumulants", symbolic, "--loops", "2", "--format", "text", "-o", dir / "t.txt"});
  CHECK(t.status == 0);
  CHECK(t.out.empty());
  CHECK(has(slurp(dir / "t.txt"), "ln(Z/Z0) = -1/8*g"));
}

TEST_CASE("cumulants of a flow's extracted action converge to the flow's moments") {
  // One activation unit φ(u) = u + αu²: x = φ⁻¹(z) = (√(1 + 4αz) − 1)/(2α) with z ~ N(0, 1).
  const double alpha = 0.03;
  TempDir dir("cumulants_flow");
  dir.write("flow.json", R"({"format": "flowaction/1", "dim": 1, "layers": [
      {"type": "activation", "alpha": 0.03}]})");
  REQUIRE(cli({"extract", dir / "flow.json", "--order", "10", "-o", dir / "action.json"}).status ==
          0);
  // The flow's mean and variance by the trapezoidal rule over z ∈ [−8, 8] (x(z) is smooth there).
  double m1 = 0, m2 = 0;
  const int N = 4001;
  const double h = 16.0 / (N - 1);
  for (int i = 0; i < N; ++i) {
    const double z = -8 + i * h, w = std::exp(-z * z / 2) / std::sqrt(2 * M_PI) * h;
    const double x = (std::sqrt(1 + 4 * alpha * z) - 1) / (2 * alpha);
    m1 += w * x;
    m2 += w * x * x;
  }
  const double variance = m2 - m1 * m1;
  const auto action = nlohmann::json::parse(slurp(dir / "action.json"));
  const double gamma0 = action["vertices"][0]["float"], gamma2 = action["vertices"][2]["float"];
  double previous[3] = {1, 1, 1};
  for (int loops = 1; loops <= 4; ++loops) {
    const Run r =
        cli({"cumulants", dir / "action.json", "--loops", std::to_string(loops), "--order", "2"});
    REQUIRE(r.status == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["field"] == "exact");
    double mean = 0, var = 0;
    for (const auto& e : j["cumulants"]) (e["order"] == 1 ? mean : var) = e["float"];
    // A flow's density is normalised: ln ∫e^{−S} = −Γ⁽⁰⁾ + ln Z₀ + ln(Z/Z₀) = 0.
    const double log_z0 = std::log(2 * M_PI) / 2 - std::log(gamma2) / 2;
    GiNaC::symtab none;
    const GiNaC::ex log_z = GiNaC::parser(none, true)(j["log_Z_over_Z0"].get<std::string>());
    const double normalisation =
        -gamma0 + log_z0 + GiNaC::ex_to<GiNaC::numeric>(log_z.evalf()).to_double();
    const double residual[3] = {std::fabs(mean - m1), std::fabs(var - variance),
                                std::fabs(normalisation)};
    MESSAGE(
        fmt::format("loops {}: |<x> - exact| = {:.3e}, |<x^2>_c - exact| = {:.3e}, "
                    "|ln of the normalisation| = {:.3e}",
                    loops, residual[0], residual[1], residual[2]));
    for (int q = 0; q < 3; ++q) {
      CHECK(residual[q] < 0.5 * previous[q]);
      previous[q] = residual[q];
    }
  }
  CHECK(previous[0] < 1e-6);
  CHECK(previous[1] < 2e-6);
  CHECK(previous[2] < 1e-6);
}

TEST_CASE("cumulants of the sampler's truth sidecar (float field)") {
  TempDir dir("cumulants_truth");
  REQUIRE(cli({"sample", "phi4", "--lattice", "3", "--m2", "1", "--lambda", "0.5", "--samples",
               "20", "--seed", "1", "--thermalise", "10", "--pilot", "20", "-o", dir / "p.npy"})
              .status == 0);
  const Run r = cli({"cumulants", dir / "p.truth.json", "--loops", "0", "--order", "2"});
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["field"] == "float");
  // K = 4 − J on a ring of 3 (J all ones): G = (1 + J)/4.
  std::map<std::vector<int>, double> w;
  for (const auto& e : j["cumulants"]) w[e["index"].get<std::vector<int>>()] = e["float"];
  CHECK(w[{0, 0}] == doctest::Approx(0.5));
  CHECK(w[{0, 1}] == doctest::Approx(0.25));
  CHECK(w[{1, 2}] == doctest::Approx(0.25));
  const Run one = cli({"cumulants", dir / "p.truth.json", "--loops", "1", "--format", "text"});
  CHECK(one.status == 0);
  CHECK(has(one.out, "field float"));
}

TEST_CASE("cumulants --list: the diagrams with their factors and loops") {
  TempDir dir("cumulants_list");
  const std::string phi4 = dir.write("phi4.json", action_file(R"(
      {"order": 2, "index": [0, 0], "value": "1"}, {"order": 4, "index": [0, 0, 0, 0], "value": "g"})"))
                               .string();
  const Run t =
      cli({"cumulants", phi4, "--loops", "2", "--order", "2", "--list", "--format", "text"});
  REQUIRE(t.status == 0);
  CHECK(has(t.out, "ln(Z/Z0): 1 diagrams"));
  CHECK(has(t.out, "W(2): 5 diagrams"));
  CHECK(has(t.out, "loops 2 (2 cycles), factor 1/8"));
  CHECK(has(t.out, "factor 1/6, |Aut| 12"));  // the sunset: legs fixed 6, legs swapped 12
  const Run j = cli({"cumulants", phi4, "--loops", "2", "--order", "2", "--list"});
  REQUIRE(j.status == 0);
  const auto list = nlohmann::json::parse(j.out);
  CHECK(list["format"] == "flowaction-feynman/1");
  REQUIRE(list["diagrams"].size() == 6);
  std::multiset<int> factors;
  for (const auto& d : list["diagrams"]) factors.insert(d["symmetry_factor"].get<int>());
  CHECK(factors == std::multiset<int>{1, 2, 4, 4, 6, 8});
  CHECK(list["diagrams"][0]["edges"] == nlohmann::json::parse("[[0, 0], [0, 0]]"));
}

namespace {

// Runs cumulants on a bad file with an existing output file: exit 1, one line naming the file
// (and the part), nothing written. Returns the message.
std::string rejects(const std::string& content, const std::string& part) {
  TempDir dir("cumulants_bad");
  const std::string file = dir.write("act.json", content).string();
  dir.write("out.json", "keep me\n");
  const Run r = cli({"cumulants", file, "--loops", "2", "-o", dir / "out.json"});
  CHECK(r.status == 1);
  CHECK(r.out.empty());
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(has(r.err, "flowaction cumulants: "));
  CHECK(has(r.err, "act.json"));
  CHECK_MESSAGE(has(r.err, part), r.err);
  CHECK(slurp(dir / "out.json") == "keep me\n");
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 2);
  return r.err;
}

const std::string g2 = R"({"order": 2, "index": [0, 0], "value": "1"})";

}  // namespace

TEST_CASE("cumulants: bad action files") {
  rejects("{", "not valid JSON");
  rejects("[1]", "expected a JSON object");
  rejects(R"({"format": "flowaction/1", "dim": 1, "vertices": []})", "field 'format'");
  rejects(R"({"dim": 1, "vertices": []})", "field 'format': missing");
  rejects(R"({"format": "flowaction-action/1", "vertices": []})", "field 'dim': missing");
  rejects(R"({"format": "flowaction-action/1", "dim": 0, "vertices": []})", "field 'dim'");
  rejects(R"({"format": "flowaction-action/1", "dim": "1", "vertices": []})", "field 'dim'");
  rejects(R"({"format": "flowaction-action/1", "dim": 1, "vertices": [], "x": 1})",
          "field 'x': unknown field");
  rejects(R"({"format": "flowaction-action/1", "dim": 1, "vertices": {}})", "field 'vertices'");
  rejects(action_file(g2, 1, R"(, "field": "quad")"), "field 'field'");
  rejects(action_file(g2, 2, R"(, "at": ["0"])"), "field 'at': has 1 entries");
  rejects(action_file(g2 + R"(, 5)"), "vertex 2: expected an object");
  rejects(action_file(R"({"index": [0, 0], "value": "1"})"), "vertex 1: field 'order': missing");
  rejects(action_file(R"({"order": 5, "index": [0, 0, 0, 0, 0], "value": "1"})"),
          "vertex 1: field 'order': expected an integer from 0 to 4");
  rejects(action_file(R"({"order": 2, "index": [0], "value": "1"})"),
          "vertex 1: field 'index': expected an array of 2");
  rejects(action_file(R"({"order": 2, "index": [1, 0], "value": "1"})", 2),
          "vertex 1: field 'index': is not sorted");
  rejects(action_file(R"({"order": 2, "index": [0, 2], "value": "1"})", 2),
          "vertex 1: field 'index': expected an integer from 0 to 1, got 2");
  rejects(action_file(R"({"order": 2, "index": [0, 0]})"), "vertex 1: field 'value': missing");
  rejects(action_file(R"({"order": 2, "index": [0, 0], "value": [1]})"),
          "vertex 1: field 'value': expected a number or a string");
  rejects(action_file(R"({"order": 2, "index": [0, 0], "value": "1", "sign": 1})"),
          "vertex 1: field 'sign': unknown field");
  rejects(action_file(R"({"order": 2, "index": [0, 0], "value": "1", "float": "x"})"),
          "vertex 1: field 'float'");
  rejects(action_file(g2 + "," + g2),
          "vertex 2: field 'index': component [0,0] of order 2 "
          "appears twice");
  rejects(action_file(R"({"order": 2, "index": [0, 0], "value": "1/0"})"),
          "vertex 1: field 'value'");
  rejects(action_file(R"({"order": 2, "index": [0, 0], "value": "2*(g"})"),
          "vertex 1: field 'value'");
  rejects(action_file(R"({"order": 2, "index": [0, 0], "value": "nan"})"),
          "vertex 1: field 'value'");
  rejects(action_file(R"({"order": 2, "index": [0, 0], "value": "1e400"})"),
          "vertex 1: field 'value'");
  rejects(action_file(R"({"order": 2, "index": [0, 0], "value": "g"})", 1, R"(, "field": "float")"),
          "vertex 1: field 'value': expected a number, got \"g\"");
  rejects(action_file(R"x({"order": 2, "index": [0, 0], "value": "foo(2)"})x"),
          "vertex 1: field 'value'");
  // GiNaC would evaluate this power while parsing, for ever.
  rejects(action_file(R"x({"order": 2, "index": [0, 0], "value": "10^(10^9)"})x"),
          "exponents must be integers of at most 3 digits");
  rejects(action_file(R"x({"order": 2, "index": [0, 0], "value": "2^1000000"})x"),
          "exponents must be integers");
}

TEST_CASE("cumulants: a Gamma^(2) that is singular or not positive definite") {
  const std::string singular = R"({"order": 2, "index": [0, 0], "value": "1"},
      {"order": 2, "index": [0, 1], "value": "1"}, {"order": 2, "index": [1, 1], "value": "1"})";
  CHECK(has(rejects(action_file(singular, 2), "Gamma^(2) is singular"), "act.json: "));
  rejects(action_file(R"({"order": 2, "index": [0, 0], "value": "1"},
      {"order": 2, "index": [1, 1], "value": "-1"})",
                      2),
          "not positive definite");
  rejects(action_file(R"({"order": 2, "index": [0, 0], "value": "1"},
      {"order": 2, "index": [1, 1], "value": "-1"})",
                      2, R"(, "field": "float")"),
          "not positive definite");
  rejects(action_file(R"({"order": 3, "index": [0, 0, 0], "value": "1"})"),
          "Gamma^(2) is singular");
  rejects(R"({"format": "flowaction-action/1", "dim": 1, "order": 1, "vertices": []})",
          "no Gamma^(2)");
}

TEST_CASE("cumulants: wrong command lines exit 2") {
  TempDir dir("cumulants_usage");
  const std::string file = dir.write("a.json", action_file(g2)).string();
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"cumulants", file}, "missing --loops"},
      {{"cumulants", file, "--loops", "11"}, "--loops"},
      {{"cumulants", file, "--loops", "-1"}, "--loops"},
      {{"cumulants", file, "--loops", "1", "--format", "yaml"}, "unknown --format 'yaml'"},
      {{"cumulants", file, "--loops", "1", "--standalone"}, "--standalone needs --format latex"},
      {{"cumulants", file, "--loops", "1", "--format", "latex", "--pdf"}, "--pdf needs -o"},
      {{"cumulants", file, "--loops", "1", "-o", file}, "is the input file"},
      {{"cumulants", "--loops", "1"}, "give the action file"},
      {{"cumulants", file, file, "--loops", "1"}, "exactly one"},
  };
  for (const auto& c : cases) {
    // Not a structured binding: clang before 16 cannot capture one in a lambda.
    const auto& args = c.first;
    const auto& part = c.second;
    const Run r = cli(args);
    CAPTURE(part);
    CHECK(r.status == 2);
    CHECK(has(r.err, part));
    CHECK(r.out.empty());
  }
}

TEST_CASE("action values: rationals, exact decimals inside expressions, one symbol per name") {
  GiNaC::symtab table;
  CHECK(parse_value("-3/4", table) == GiNaC::numeric(-3, 4));
  CHECK(parse_value("1.25e-1", table) == GiNaC::numeric(1, 8));
  const GiNaC::ex a = parse_value("0.1*g + 2.5e-1", table);
  REQUIRE(table.count("g") == 1);
  const GiNaC::ex g = table["g"];
  CHECK((a - (g / 10 + GiNaC::numeric(1, 4))).expand().is_zero());
  // The same name is the same symbol; powers and constants as GiNaC writes them.
  const GiNaC::ex b = parse_value("(1+4*g^2)^(-1)", table);
  CHECK((b * (1 + 4 * g * g)).normal() == 1);
  CHECK(parse_value("1/2*log(2*Pi)", table) == GiNaC::log(2 * GiNaC::Pi) / 2);
  CHECK(table.size() == 1);
  CHECK_THROWS_AS(parse_value("", table), std::invalid_argument);
  CHECK_THROWS_AS(parse_value("g+", table), std::invalid_argument);
}
