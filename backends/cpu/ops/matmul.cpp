#include "backends/cpu/ops/matmul.h"

#include <algorithm>
#include <cmath>

#include "backends/cpu/kernels/quant_dot.h"
#include "util/thread_pool.h"

namespace ernie {
namespace {

// Rows per task: enough tasks to balance the threads, each long enough to
// amortize the dispatch (a row of a 2560-wide q4 matrix is ~1.4 KB).
constexpr int64_t kMinChunkRows = 16;
constexpr int64_t kTasksPerThread = 4;

float silu(float g) { return g / (1.0f + std::exp(-g)); }

// Resolved outside the parallel loop: detect_isa may throw (a bad
// ERNIE_CPU_ISA), and tasks must not. The runtime calls it at load first.
cpu::QuantDotFn kernel_for(const TensorView& w) {
  static const cpu::Isa isa = cpu::detect_isa();
  return cpu::quant_dot_kernel(w.type, isa);
}

struct Kernels {
  cpu::QuantDotFn w = nullptr, up = nullptr;
};

struct Task {
  int32_t job;
  int64_t r0, r1;
};

void store(const MatJob& j, int64_t i, int64_t r, float v) {
  const int64_t row = j.y_idx ? j.y_idx[i] : i;
  float& out = j.y[row * j.ldy + r];
  out = j.accumulate ? out + v : v;
}

// Quantized weights: each weight row against up to 4 input rows per kernel
// call, all input rows before the next weight row, so a row is read from
// memory once (it stays in L1) however many tokens share it.
void run_quantized(const MatJob& j, const Kernels& k, int64_t r0, int64_t r1) {
  const cpu::QuantDotFn dot = k.w, dot_up = k.up;
  const int64_t n = j.in.n, cols = j.w->cols;
  constexpr int kGroup = 4;
  quant::ActRowA8 acts[kGroup];
  if (n <= kGroup) {
    // Decode: the dot products of a block of rows first, then their SwiGLU
    // and stores. A row's epilogue waits for its whole reduction; placed
    // between two rows it kept the next row's loads from starting early
    // (short q2 rows spent a fifth of decode there). Same arithmetic.
    constexpr int kRowBlock = 8;
    float g[kRowBlock][kGroup], u[kRowBlock][kGroup];
    const int na = static_cast<int>(n);
    for (int a = 0; a < na; ++a) acts[a] = j.in.a8[j.in.idx ? j.in.idx[a] : a];
    for (int64_t rb = r0; rb < r1; rb += kRowBlock) {
      const int nr = static_cast<int>(std::min<int64_t>(kRowBlock, r1 - rb));
      for (int b = 0; b < nr; ++b) {
        dot(j.w->row(j.mat, rb + b), acts, na, cols, g[b]);
        if (j.up) dot_up(j.up->row(j.mat, rb + b), acts, na, cols, u[b]);
      }
      for (int b = 0; b < nr; ++b) {
        for (int a = 0; a < na; ++a) store(j, a, rb + b, j.up ? silu(g[b][a]) * u[b][a] : g[b][a]);
      }
    }
    return;
  }
  float g[kGroup], u[kGroup];
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* wr = j.w->row(j.mat, r);
    const uint8_t* ur = j.up ? j.up->row(j.mat, r) : nullptr;
    for (int64_t i0 = 0; i0 < n; i0 += kGroup) {
      const int na = static_cast<int>(std::min<int64_t>(kGroup, n - i0));
      for (int a = 0; a < na; ++a) acts[a] = j.in.a8[j.in.idx ? j.in.idx[i0 + a] : i0 + a];
      dot(wr, acts, na, cols, g);
      if (ur) {
        dot_up(ur, acts, na, cols, u);
        for (int a = 0; a < na; ++a) g[a] = silu(g[a]) * u[a];
      }
      for (int a = 0; a < na; ++a) store(j, i0 + a, r, g[a]);
    }
  }
}

// Float weights: rows converted to f32 (unless stored so), f32 dot products.
void run_float(const MatJob& j, int64_t r0, int64_t r1, float* scratch) {
  const int64_t cols = j.w->cols;
  auto row_of = [&](const TensorView& w, int64_t r, float* buf) -> const float* {
    if (w.type == DType::F32) return reinterpret_cast<const float*>(w.row(j.mat, r));
    row_to_f32(w, j.mat, r, buf);
    return buf;
  };
  for (int64_t r = r0; r < r1; ++r) {
    const float* wr = row_of(*j.w, r, scratch);
    const float* ur = j.up ? row_of(*j.up, r, scratch + cols) : nullptr;
    for (int64_t i = 0; i < j.in.n; ++i) {
      const float* x = j.in.x + (j.in.idx ? j.in.idx[i] : i) * j.in.ldx;
      float v = dot_f32(wr, x, cols);
      if (ur) v = silu(v) * dot_f32(ur, x, cols);
      store(j, i, r, v);
    }
  }
}

}  // namespace

float dot_f32(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int l = 0; l < 8; ++l) acc[l] += a[i + l] * b[i + l];
  }
  for (; i < n; ++i) acc[i & 7] += a[i] * b[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

void row_to_f32(const TensorView& w, int64_t mat, int64_t r, float* out) {
  convert_to_f32(w.type, w.row(mat, r), out, static_cast<size_t>(w.cols));
}

void run_matmuls(const MatJob* jobs, int64_t n_jobs, ThreadPool& pool, float* scratch) {
  // Kernels of up to 128 jobs per loop (more are run in several loops).
  constexpr int64_t kMaxJobs = 128;
  if (n_jobs > kMaxJobs) {
    run_matmuls(jobs, kMaxJobs, pool, scratch);
    run_matmuls(jobs + kMaxJobs, n_jobs - kMaxJobs, pool, scratch);
    return;
  }
  // Chunk size from the total work, so many small experts and one big
  // matrix both spread evenly.
  int64_t total_rows = 0, max_cols = 0;
  for (int64_t k = 0; k < n_jobs; ++k) {
    if (jobs[k].in.n > 0) total_rows += jobs[k].w->rows;
    max_cols = std::max(max_cols, jobs[k].w->cols);
  }
  if (total_rows == 0) return;
  const int64_t want_tasks = static_cast<int64_t>(pool.size()) * kTasksPerThread;
  const int64_t chunk = std::max<int64_t>(kMinChunkRows, (total_rows + want_tasks - 1) / want_tasks);
  // Tasks live on the stack for the usual job counts; the list is rebuilt per
  // call without allocating.
  constexpr int64_t kMaxTasks = 1024;
  Task tasks[kMaxTasks];
  int64_t n_tasks = 0;
  Kernels kernels[kMaxJobs];
  for (int64_t k = 0; k < n_jobs; ++k) {
    if (!dtype_is_quantized(jobs[k].w->type)) continue;
    kernels[k].w = kernel_for(*jobs[k].w);
    if (jobs[k].up) kernels[k].up = kernel_for(*jobs[k].up);
  }
  auto flush = [&] {
    pool.parallel_for(n_tasks, [&](int64_t t, int thread) {
      const Task& task = tasks[t];
      const MatJob& j = jobs[task.job];
      if (dtype_is_quantized(j.w->type)) {
        run_quantized(j, kernels[task.job], task.r0, task.r1);
      } else {
        run_float(j, task.r0, task.r1, scratch + static_cast<int64_t>(thread) * 2 * max_cols);
      }
    });
    n_tasks = 0;
  };
  for (int64_t k = 0; k < n_jobs; ++k) {
    if (jobs[k].in.n <= 0) continue;
    for (int64_t r = 0; r < jobs[k].w->rows; r += chunk) {
      if (n_tasks == kMaxTasks) flush();
      tasks[n_tasks++] = {static_cast<int32_t>(k), r, std::min(jobs[k].w->rows, r + chunk)};
    }
  }
  flush();
}

}  // namespace ernie
