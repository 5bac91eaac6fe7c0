// Optimizers for training: Muon as DeepSeek-V4 describes it (report §2.4, Algorithm 1; training.md §1.5)
// for the hidden matrices and AdamW for everything else (embedding, head, norm weights, mHC base/scale,
// sinks; training.md §1.4). Parameters, gradients and optimizer state are flat FP32 arrays; which tensor
// goes to which optimizer is decided by param_groups.h. Nothing here knows the model.
#pragma once

#include <cstdint>
#include <vector>

namespace dsv4 {

// ---- Newton–Schulz orthogonalisation ----------------------------------------------------------------

enum class NsVariant : uint8_t {
  kV4Hybrid,      // 8 × (3.4445, −4.7750, 2.0315) then 2 × (2, −1.5, 0.5): singular values settle at 1
  kKellerJordan5, // 5 × (3.4445, −4.7750, 2.0315): singular values in a band around 1 (~[0.68, 1.13])
};

// out ≈ U·Vᵀ for g = U·S·Vᵀ ([rows, cols], row-major). Frobenius-normalises first (eps 1e-7), works on
// the orientation whose Gram matrix is the smaller one, then runs the variant's quintic steps
// X ← a·X + (b·A + c·A²)·X with A = X·Xᵀ. FP32 with FP64 accumulation of the norm. out may alias g.
void newton_schulz(const float* g, int64_t rows, int64_t cols, NsVariant variant, float* out);

// ---- Muon -------------------------------------------------------------------------------------------

struct MuonOptions {
  float momentum = 0.95f;      // μ: M ← μ·M + G
  bool nesterov = true;        // orthogonalise μ·M + G (else M)
  NsVariant ns = NsVariant::kV4Hybrid;
  float update_rms = 0.18f;    // γ: O = O′·sqrt(max(n, m))·γ, so a full-rank O′ gives rms(O) = γ
  float weight_decay = 0.1f;   // λ, decoupled: W ← W·(1 − η·λ) − η·O, with the un-scaled η
};

// One Muon step on `n_matrices` independent [rows, cols] matrices stored back to back in `w` (e.g. the
// o_groups blocks of wo_a, or several experts' w1): each is orthogonalised and scaled on its own, as V4
// does for "each logically independent weight". `momentum` holds n_matrices·rows·cols floats (zeros at
// the start).
void muon_step(float* w, const float* grad, float* momentum, int64_t n_matrices, int64_t rows, int64_t cols,
               float lr, const MuonOptions& opt);

// ---- AdamW ------------------------------------------------------------------------------------------

struct AdamWOptions {
  float beta1 = 0.9f, beta2 = 0.95f;  // V4
  float eps = 1e-8f;                  // V4 prints 1e-20; 1e-8 for FP32 on CPU (training.md §6)
  float weight_decay = 0.1f;          // decoupled: W ← W·(1 − η·λ)
};

// One AdamW step with bias correction; `step` counts from 1. m and v hold n floats each (zeros at start).
void adamw_step(float* w, const float* grad, float* m, float* v, int64_t n, int64_t step, float lr,
                const AdamWOptions& opt);

}  // namespace dsv4
