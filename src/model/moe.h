// Mixture of experts (Gate / Expert / MoE in inference/model.py): gate scores p = sqrt(softplus(x·Wgᵀ));
// hash layers take their experts from tid2eid[token], the others the top-k of p + bias (the bias only
// selects). Routing weights are p of the chosen experts, normalised to sum 1, times routed_scaling_factor.
// Each expert is a SwiGLU with the clamp (up to ±limit, gate to ≤ limit); the routing weight scales the
// activation before the down projection. Routed outputs are summed in ascending expert id, then the
// shared expert (same clamp, no weight) is added.
#pragma once

#include "model/layer_context.h"
#include "model/weights.h"

namespace dsv4 {

// x: ffn_norm output [rows, dim]; out: [rows, dim]. Each expert runs once over the rows routed to it from
// every sequence of the batch.
void moe_forward(const LayerBatch& batch, const MoeWeights& w, const float* x, float* out);

}  // namespace dsv4
