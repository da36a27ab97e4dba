// Element-wise and per-row operations of the ERNIE 4.5 block.
#pragma once

#include <cmath>
#include <cstdint>

namespace ernie {

// out = x * rsqrt(mean(x^2) + eps) * w   (no +1 on w)
void rmsnorm(const float* x, const float* w, float eps, float* out, int64_t n);

// Interleaved-pair ("GPT-J") rotary embedding of n_heads vectors of head_dim
// at position `pos`: pair i rotates (v[2i], v[2i+1]) by pos * inv_freq[i].
// Angles are computed in double: at 128k positions f32 angles drift.
void rope_interleaved(float* v, int64_t n_heads, int64_t head_dim, int64_t pos, const double* inv_freq);

// inv_freq[i] = theta^(-2i/head_dim), i < head_dim/2.
void rope_inv_freq(double theta, int64_t head_dim, double* inv_freq);

// SwiGLU's activation, g * sigmoid(g): one definition for every product
// path (decode rows, prefill rows and tiles, float weights), so they agree.
inline float silu(float g) { return g / (1.0f + std::exp(-g)); }

// g[i] = silu(g[i]) * u[i]
void silu_mul(float* g, const float* u, int64_t n);

}  // namespace ernie
