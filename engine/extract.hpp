// The action of a whole flow: forward pass of the expansion point, then the latent Gaussian
// pulled back through the layers from the last to the first (DESIGN §4).
#pragma once

#include <functional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "engine/action.hpp"
#include "engine/layer.hpp"
#include "engine/model.hpp"

namespace flowaction {

struct ExtractRequest {
  int order = 4;
  field_kind field = field_kind::exact;
  std::vector<GiNaC::numeric> at;  // expansion point; empty = origin
  std::set<std::string> symbols;   // "layerN.FIELD", symbolic field only
  bool per_layer = false;          // also keep the action after each layer (Extraction::stages)
  // Memory the output needs besides the vertices (binary tensors), named in the memory check.
  double output_bytes = 0;
  std::string output_what;  // "the dense tensors of --format npz"
};

struct Extraction {
  AnyAction action;
  ActionInfo info;
  // With per_layer: the latent action, then the action after each layer from the last to the
  // first (the last stage is `action`).
  std::vector<ActionStage> stages;
};

// Called after each layer is pulled back: (layers done, layers in all).
using progress_fn = std::function<void(int, int)>;

// Checks the request against the model (symbols exist, memory suffices, every layer invertible
// at the point it is expanded around), then computes the vertices. Throws flowaction::Error with
// a message naming the model file, layer and field.
Extraction extract(const Model& model, const ExtractRequest& request,
                   const progress_fn& progress = {});

// Called with the action in the variables entering layer l (0-based; l = L for the latent) and
// the point those variables are expanded around.
template <Field T>
using stage_fn = std::function<void(int, const Action<T>&, const std::vector<T>&)>;

// The vertices in field T with the model's layers already instantiated.
template <Field T>
Action<T> extract_action(const std::vector<LayerMap<T>>& layers, int dim, const std::vector<T>& x0,
                         int order, bool symbolic, const progress_fn& progress = {},
                         const stage_fn<T>& stage = {});

// The latent action at z₀: Γ⁽⁰⁾ = ½|z₀|² + (d/2) ln 2π, Γ⁽¹⁾ = z₀, Γ⁽²⁾ = I.
template <Field T>
Action<T> latent_action(const std::vector<T>& z0, int order);

// Bytes an extraction of model is estimated to need at its peak: the vertex tensors, the
// contraction buffers and request.output_bytes (what extract checks against the machine).
double extraction_estimate(const Model& model, const ExtractRequest& request);

// Bytes an extraction needs at its peak, for layers of the given jet structures: the vertex
// tensors and contraction buffers while a layer is pulled back, or one action and output_bytes
// while the output is written, whichever is more, and the cached gather tables; with
// kept_actions (--per-layer: one per layer and the latent one) those actions throughout.
double extraction_bytes(int dim, int order, field_kind field,
                        const std::vector<jet_structure>& layers, double output_bytes = 0,
                        int kept_actions = 0);

}  // namespace flowaction
