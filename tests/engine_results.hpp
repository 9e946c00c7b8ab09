// Runs the engine on a manifest text and returns its vertices as the oracle's map.
#pragma once

#include <set>
#include <string>

#include "engine/extract.hpp"
#include "frontends/manifest.hpp"
#include "oracle.hpp"

namespace testing_support {

inline oracle::vertices engine_vertices(const std::string& manifest,
                                        const std::vector<GiNaC::numeric>& x0, int K,
                                        flowaction::field_kind field,
                                        const std::set<std::string>& symbols = {},
                                        std::vector<std::string>* symbol_names = nullptr) {
  const flowaction::Model model = flowaction::parse_manifest(manifest, "test.flow.json");
  flowaction::ExtractRequest req;
  req.order = K;
  req.field = field;
  req.at = x0;
  req.symbols = symbols;
  const flowaction::Extraction r = flowaction::extract(model, req);
  if (symbol_names) *symbol_names = r.info.symbols;
  oracle::vertices out;
  std::visit(
      [&](const auto& a) {
        for (int k = 0; k <= a.order(); ++k) {
          const auto& g = a.vertices[k];
          auto index = g.shape().first();
          std::size_t r = 0;
          do {
            out[{k, index}] = GiNaC::ex(g[r]);
            ++r;
          } while (g.shape().next(index));
        }
      },
      r.action);
  return out;
}

}  // namespace testing_support
