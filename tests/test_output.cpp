// The output contract other tools read: "flowaction-action/1" JSON, and the command-line forms.
#include <doctest/doctest.h>
#include <ginac/ginac.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "frontends/cli.hpp"

namespace {

nlohmann::json run_json(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int status = flowaction::run_cli(args, out, err);
  REQUIRE_MESSAGE(status == 0, err.str());
  return nlohmann::json::parse(out.str());
}

const std::string example =
    std::string(FLOWACTION_SOURCE_DIR) + "/examples/models/worked_example.flow.json";
const std::string two_layer =
    std::string(FLOWACTION_SOURCE_DIR) + "/examples/models/two_layer.flow.json";

}  // namespace

TEST_CASE("JSON output: header, one entry per unique nonzero component, order 0 included") {
  const auto j = run_json({"extract", example, "--order", "4"});
  CHECK(j["format"] == "flowaction-action/1");
  CHECK(j["convention"].get<std::string>().find("-ln p(x)") != std::string::npos);
  CHECK(j["dim"] == 1);
  CHECK(j["order"] == 4);
  CHECK(j["at"] == nlohmann::json::array({"0"}));
  CHECK(j["field"] == "exact");
  const auto& v = j["vertices"];
  REQUIRE(v.size() == 5);
  CHECK(v[0]["order"] == 0);
  CHECK(v[0]["index"].empty());
  CHECK(v[0]["value"] == "1/2*log(2*Pi)");
  CHECK(v[0]["float"].get<double>() == doctest::Approx(0.5 * std::log(2 * M_PI)));
  CHECK(v[1]["value"] == "-1/2");
  CHECK(v[1]["float"] == -0.5);
  CHECK(v[4]["index"] == nlohmann::json::array({0, 0, 0, 0}));
  CHECK(v[4]["value"] == "9/8");
}

TEST_CASE("float and symbolic fields, and components in reading order") {
  const auto f = run_json({"extract", two_layer, "--order", "3", "--field", "float"});
  CHECK(f["field"] == "float");
  std::vector<int> prev_index;
  int prev_order = -1;
  for (const auto& e : f["vertices"]) {
    // value is the shortest round-trip decimal of float.
    CHECK(std::stod(e["value"].get<std::string>()) == e["float"].get<double>());
    const auto index = e["index"].get<std::vector<int>>();
    CHECK(std::is_sorted(index.begin(), index.end()));
    if (e["order"] == prev_order) CHECK(prev_index < index);
    prev_order = e["order"];
    prev_index = index;
  }
  const auto s = run_json(
      {"extract", example, "--order", "3", "--field", "symbolic", "--symbols", "layer1.alpha"});
  CHECK(s["symbols"] == nlohmann::json::array({"alpha_1"}));
  // Γ⁽⁰⁾ = ln(2π)/2 at the origin has a float; every other vertex holds alpha_1.
  for (const auto& e : s["vertices"]) CHECK(e["float"].is_null() == (e["order"] != 0));
  // The value strings read back with GiNaC's parser: Γ⁽³⁾ = 6α − 16α³.
  GiNaC::symbol alpha("alpha_1");
  GiNaC::symtab table;
  table["alpha_1"] = alpha;
  GiNaC::parser reader(table);
  const GiNaC::ex g3 = reader(s["vertices"][3]["value"].get<std::string>());
  CHECK((g3 - (6 * alpha - 16 * GiNaC::pow(alpha, 3))).expand().is_zero());
}

TEST_CASE("--at with '=' and a negative first entry, or as the next argument") {
  const auto a = run_json({"extract", two_layer, "--order", "2", "--at=-0.5,0.25"});
  CHECK(a["at"] == nlohmann::json::array({"-1/2", "1/4"}));
  const auto b = run_json({"extract", two_layer, "--order", "2", "--at", "-0.5,0.25"});
  CHECK(a["vertices"] == b["vertices"]);
  const auto c = run_json({"extract", two_layer, "--order", "2"});
  CHECK(a["vertices"] != c["vertices"]);
}

TEST_CASE("help texts state the conventions") {
  std::ostringstream out, err;
  CHECK(flowaction::run_cli({"extract", "--help"}, out, err) == 0);
  CHECK(out.str().find("-ln p(x)") != std::string::npos);
  CHECK(out.str().find("--symbols") != std::string::npos);
  std::ostringstream out2;
  CHECK(flowaction::run_cli({"diagrams", "--order", "3", "--layer", "activation"}, out2, err) == 0);
  CHECK(out2.str().find("ring: 3 vertices") != std::string::npos);
}
