#include "backends/cpu/ops/matmul.h"

#include <algorithm>

#include "backends/cpu/kernels/f32_dot.h"
#include "backends/cpu/kernels/quant_dot.h"
#include "backends/cpu/kernels/quant_tile.h"
#include "backends/cpu/ops/norm_rope.h"
#include "util/thread_pool.h"

namespace ernie {
namespace {

// Fewest rows per task, enough to amortize the dispatch (a row of a
// 2560-wide q4 matrix is ~1.4 KB).
constexpr int64_t kMinChunkRows = 16;
// A task takes 1 / (threads x kGuidedShare) of the work not yet handed out.
constexpr int64_t kGuidedShare = 2;
// Inputs from which prefill uses the tile kernels (their transpose is paid
// once per 16 rows and shared by the inputs). On the 21B-A3B prompt, any
// threshold from 3 to 8 measured the same within noise, and 2 was 1-2 %
// slower with AVX2; below it the decode path's row kernels run.
constexpr int64_t kTileMinActs = 5;
// Inputs per row-kernel call (quant_dot.h: 1 to 4).
constexpr int kGroup = 4;

// Resolved outside the parallel loop: detect_isa may throw (a bad
// ERNIE_CPU_ISA), and tasks must not. The runtime calls it at load first.
cpu::Isa isa() {
  static const cpu::Isa isa = cpu::detect_isa();
  return isa;
}

cpu::QuantDotFn kernel_for(const TensorView& w) {
  return cpu::quant_dot_kernel(w.type, isa());
}

cpu::QuantTileFn tile_kernel_for(const TensorView& w) { return cpu::quant_tile_kernel(w.type, isa()); }

cpu::QuantGroupDotFn group_kernel_for(const TensorView& w) { return cpu::quant_group_dot_kernel(w.type, isa()); }

struct Kernels {
  cpu::QuantDotFn w = nullptr, up = nullptr;
  cpu::QuantTileFn tile_w = nullptr, tile_up = nullptr;  // both set, or prefill uses the row kernels
  cpu::QuantGroupDotFn group_w = nullptr, group_up = nullptr;  // rows stored in groups of 8 (q4x8)
  cpu::F32DotFn f32 = nullptr;                                 // float weights
};

// A thread's share of the scratch for tile kernels: theirs, and the outputs
// of one tile (gate and up) before the SwiGLU and stores.
struct TileWork {
  cpu::TileScratch kernel;
  float g[cpu::kTileMaxActs * cpu::kTileRows];
  float u[cpu::kTileMaxActs * cpu::kTileRows];
};
constexpr int64_t kTileWorkFloats = (sizeof(TileWork) + 64) / sizeof(float);  // + room to align

// A thread's scratch: 2 * max_cols floats for float rows, then its TileWork.
TileWork* tile_work(float* thread_scratch, int64_t max_cols) {
  const auto at = reinterpret_cast<uintptr_t>(thread_scratch + 2 * max_cols);
  return reinterpret_cast<TileWork*>((at + 63) & ~uintptr_t{63});
}

struct Task {
  int32_t job;
  int64_t r0, r1;
};

void store(const MatJob& j, int64_t i, int64_t r, float v) {
  const int64_t row = j.y_idx ? j.y_idx[i] : i;
  float& out = j.y[row * j.ldy + r];
  out = j.accumulate ? out + v : v;
}

// The input rows a quantized product reads.
quant::ActRowA8 act_row(const MatJob& j, int64_t i) { return j.in.a8[j.in.idx ? j.in.idx[i] : i]; }

// Decode (up to kGroup inputs): each row's dot products, then its SwiGLU and
// stores. (Blocks of 8 rows, products first and epilogues after, had kept
// the old q2 kernel's loads from stalling behind a row's reduction; with
// the current kernels, in-process alternating runs measured row by row
// 1-2.5 % faster for q4 and 0.7 % for q2.)
//
// Each task reads two weight streams side by side: a gate/up pair reads
// its two matrices, a single matrix the two halves of the task's rows. One
// thread keeps more of memory's latency covered with two streams than with
// one: a single stream ran at 0.74-0.77 of the read probe, a pair at 0.84-0.9.
void run_decode_rows(const MatJob& j, const Kernels& k, int64_t r0, int64_t r1) {
  quant::ActRowA8 acts[kGroup];
  float g[kGroup], u[kGroup];
  const int na = static_cast<int>(j.in.n);
  const int64_t cols = j.w->cols;
  for (int a = 0; a < na; ++a) acts[a] = act_row(j, a);
  if (j.up) {
    for (int64_t r = r0; r < r1; ++r) {
      k.w(j.w->row(j.mat, r), acts, na, cols, g);
      k.up(j.up->row(j.mat, r), acts, na, cols, u);
      for (int a = 0; a < na; ++a) store(j, a, r, silu(g[a]) * u[a]);
    }
    return;
  }
  // Rows [r0, mid) and, in step, [mid, r1) (as long, or one row shorter).
  const int64_t mid = r0 + (r1 - r0 + 1) / 2;
  for (int64_t r = r0; r < mid; ++r) {
    k.w(j.w->row(j.mat, r), acts, na, cols, g);
    for (int a = 0; a < na; ++a) store(j, a, r, g[a]);
    const int64_t r2 = r - r0 + mid;
    if (r2 == r1) break;
    k.w(j.w->row(j.mat, r2), acts, na, cols, u);
    for (int a = 0; a < na; ++a) store(j, a, r2, u[a]);
  }
}

// Prefill with row kernels: each weight row against kGroup inputs per call,
// all inputs before the next row, so a row is read from memory once (it
// stays in L1) however many tokens share it.
void run_prefill_rows(const MatJob& j, const Kernels& k, int64_t r0, int64_t r1) {
  quant::ActRowA8 acts[kGroup];
  float g[kGroup], u[kGroup];
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* wr = j.w->row(j.mat, r);
    const uint8_t* ur = j.up ? j.up->row(j.mat, r) : nullptr;
    for (int64_t i0 = 0; i0 < j.in.n; i0 += kGroup) {
      const int na = static_cast<int>(std::min<int64_t>(kGroup, j.in.n - i0));
      for (int a = 0; a < na; ++a) acts[a] = act_row(j, i0 + a);
      k.w(wr, acts, na, j.w->cols, g);
      if (ur) {
        k.up(ur, acts, na, j.w->cols, u);
        for (int a = 0; a < na; ++a) g[a] = silu(g[a]) * u[a];
      }
      for (int a = 0; a < na; ++a) store(j, i0 + a, r, g[a]);
    }
  }
}

// Prefill with tile kernels: 16 rows against up to kTileMaxActs inputs per
// call. Returns the first row it left (fewer than a tile remain).
int64_t run_tiles(const MatJob& j, const Kernels& k, int64_t r0, int64_t r1, TileWork* tw) {
  const uint8_t* rows[cpu::kTileRows];
  const uint8_t* up_rows[cpu::kTileRows];
  quant::ActRowA8 acts[cpu::kTileMaxActs];
  for (; r0 + cpu::kTileRows <= r1; r0 += cpu::kTileRows) {
    for (int b = 0; b < cpu::kTileRows; ++b) {
      rows[b] = j.w->row(j.mat, r0 + b);
      if (j.up) up_rows[b] = j.up->row(j.mat, r0 + b);
    }
    for (int64_t i0 = 0; i0 < j.in.n; i0 += cpu::kTileMaxActs) {
      const int na = static_cast<int>(std::min<int64_t>(cpu::kTileMaxActs, j.in.n - i0));
      for (int a = 0; a < na; ++a) acts[a] = act_row(j, i0 + a);
      k.tile_w(rows, acts, na, j.w->cols, tw->g, &tw->kernel);
      if (j.up) k.tile_up(up_rows, acts, na, j.w->cols, tw->u, &tw->kernel);
      for (int a = 0; a < na; ++a) {
        for (int b = 0; b < cpu::kTileRows; ++b) {
          const int at = a * cpu::kTileRows + b;
          store(j, i0 + a, r0 + b, j.up ? silu(tw->g[at]) * tw->u[at] : tw->g[at]);
        }
      }
    }
  }
  return r0;
}

// Weights stored in groups of 8 rows (q4x8), rows [r0, r1) (whole groups):
// each group against up to kGroup inputs per call, all inputs before the
// next group, so a group is read from memory once. With one to kGroup
// inputs (decode) a single matrix's task reads its two halves in step, as
// run_decode_rows does. The group kernels give the same bits for any
// number of inputs per call.
void run_groups(const MatJob& j, const Kernels& k, int64_t r0, int64_t r1) {
  constexpr int64_t kRows = quant::kQ4X8Rows;
  quant::ActRowA8 acts[kGroup];
  float g[kGroup * kRows], u[kGroup * kRows];
  const int64_t cols = j.w->cols;
  // Inputs per call in prefill: 2 with AVX2, whose 16 vector registers do
  // not hold 4 inputs' sums (4 ran 20 % slower); 4 with AVX-512's 32 (2
  // ran 25 % slower there).
  const int64_t per_call = j.in.n > kGroup && isa() < cpu::Isa::Avx512Vnni ? 2 : kGroup;
  auto one = [&](int64_t r) {  // the group at row r, every input
    for (int64_t i0 = 0; i0 < j.in.n; i0 += per_call) {
      const int na = static_cast<int>(std::min<int64_t>(per_call, j.in.n - i0));
      for (int a = 0; a < na; ++a) acts[a] = act_row(j, i0 + a);
      k.group_w(j.w->row(j.mat, r), acts, na, cols, g);
      if (j.up) k.group_up(j.up->row(j.mat, r), acts, na, cols, u);
      for (int a = 0; a < na; ++a) {
        for (int b = 0; b < kRows; ++b) {
          const int64_t at = a * kRows + b;
          store(j, i0 + a, r + b, j.up ? silu(g[at]) * u[at] : g[at]);
        }
      }
    }
  };
  if (j.up || j.in.n > kGroup) {
    for (int64_t r = r0; r < r1; r += kRows) one(r);
    return;
  }
  const int64_t groups = (r1 - r0) / kRows, mid = r0 + (groups + 1) / 2 * kRows;
  for (int64_t r = r0; r < mid; r += kRows) {
    one(r);
    const int64_t r2 = r - r0 + mid;
    if (r2 < r1) one(r2);
  }
}

// Quantized weights, rows [r0, r1). All paths give the same bits per output.
void run_quantized(const MatJob& j, const Kernels& k, int64_t r0, int64_t r1, TileWork* tw) {
  if (k.group_w) {
    run_groups(j, k, r0, r1);
    return;
  }
  const bool tiled = k.tile_w && (!j.up || k.tile_up) && j.in.n >= kTileMinActs;
  if (tiled) r0 = run_tiles(j, k, r0, r1, tw);
  if (j.in.n <= kGroup) {
    run_decode_rows(j, k, r0, r1);
  } else {
    run_prefill_rows(j, k, r0, r1);
  }
}

// Float weights: rows converted to f32 (unless stored so), f32 dot products.
void run_float(const MatJob& j, const Kernels& k, int64_t r0, int64_t r1, float* scratch) {
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
      float v = k.f32(wr, x, cols);
      if (ur) v = silu(v) * k.f32(ur, x, cols);
      store(j, i, r, v);
    }
  }
}

}  // namespace

void row_to_f32(const TensorView& w, int64_t mat, int64_t r, float* out) {
  ERNIE_CHECK(dtype_row_group(w.type) == 1, ERNIE_E_INTERNAL, "row %lld of a %s tensor: rows are stored in groups",
              static_cast<long long>(r), dtype_name(w.type));
  convert_to_f32(w.type, w.row(mat, r), out, static_cast<size_t>(w.cols));
}

int64_t matmul_scratch_floats(int n_threads, int64_t max_cols) {
  return n_threads * (2 * max_cols + kTileWorkFloats);
}

void run_matmuls(const MatJob* jobs, int64_t n_jobs, ThreadPool& pool, float* scratch) {
  // Kernels of up to 128 jobs per loop (more are run in several loops).
  constexpr int64_t kMaxJobs = 128;
  if (n_jobs > kMaxJobs) {
    run_matmuls(jobs, kMaxJobs, pool, scratch);
    run_matmuls(jobs + kMaxJobs, n_jobs - kMaxJobs, pool, scratch);
    return;
  }
  int64_t max_cols = 0;
  for (int64_t k = 0; k < n_jobs; ++k) max_cols = std::max(max_cols, jobs[k].w->cols);
  // Tasks live on the stack for the usual job counts; the list is rebuilt per
  // call without allocating.
  constexpr int64_t kMaxTasks = 1024;
  Task tasks[kMaxTasks];
  int64_t n_tasks = 0;
  Kernels kernels[kMaxJobs];
  for (int64_t k = 0; k < n_jobs; ++k) {
    if (!dtype_is_quantized(jobs[k].w->type)) {
      kernels[k].f32 = cpu::f32_dot_kernel(isa());
      continue;
    }
    kernels[k].w = kernel_for(*jobs[k].w);
    kernels[k].tile_w = tile_kernel_for(*jobs[k].w);
    kernels[k].group_w = group_kernel_for(*jobs[k].w);
    if (jobs[k].up) {
      kernels[k].up = kernel_for(*jobs[k].up);
      kernels[k].tile_up = tile_kernel_for(*jobs[k].up);
      kernels[k].group_up = group_kernel_for(*jobs[k].up);
      // A gate/up pair runs row by row or group by group: the same storage.
      ERNIE_CHECK(jobs[k].up->type == jobs[k].w->type, ERNIE_E_INTERNAL, "gate %s and up %s differ in type",
                  dtype_name(jobs[k].w->type), dtype_name(jobs[k].up->type));
    }
    if (dtype_row_group(jobs[k].w->type) > 1) {
      ERNIE_CHECK(kernels[k].group_w && jobs[k].w->rows % static_cast<int64_t>(dtype_row_group(jobs[k].w->type)) == 0,
                  ERNIE_E_INTERNAL, "%s weights of %lld rows", dtype_name(jobs[k].w->type),
                  static_cast<long long>(jobs[k].w->rows));
    }
  }
  auto flush = [&] {
    pool.parallel_for(n_tasks, [&](int64_t t, int thread) {
      const Task& task = tasks[t];
      const MatJob& j = jobs[task.job];
      float* mine = scratch + static_cast<int64_t>(thread) * matmul_scratch_floats(1, max_cols);
      if (dtype_is_quantized(j.w->type)) {
        run_quantized(j, kernels[task.job], task.r0, task.r1, tile_work(mine, max_cols));
      } else {
        run_float(j, kernels[task.job], task.r0, task.r1, mine);
      }
    });
    n_tasks = 0;
  };
  // Guided chunks: each task takes a share of the work still unassigned,
  // so the first tasks are long (long streams for the prefetchers) and the
  // last ones short (little waiting for the slowest thread at the end).
  // Work is weighed as rows x cols x (inputs + 4): weights read plus
  // products, so a loop of many experts with uneven token counts spreads too.
  auto row_cost = [&](const MatJob& j) { return j.w->cols * (j.in.n + 4) * (j.up ? 2 : 1); };
  int64_t unassigned = 0;
  for (int64_t k = 0; k < n_jobs; ++k) {
    if (jobs[k].in.n > 0) unassigned += jobs[k].w->rows * row_cost(jobs[k]);
  }
  if (unassigned == 0) return;
  const int64_t share = static_cast<int64_t>(pool.size()) * kGuidedShare;
  for (int64_t k = 0; k < n_jobs; ++k) {
    if (jobs[k].in.n <= 0) continue;
    const int64_t cost = row_cost(jobs[k]), rows = jobs[k].w->rows;
    for (int64_t r = 0; r < rows;) {
      int64_t chunk = std::max<int64_t>(kMinChunkRows, unassigned / share / cost);
      chunk = (chunk + cpu::kTileRows - 1) / cpu::kTileRows * cpu::kTileRows;  // whole tiles for prefill
      const int64_t r1 = std::min(rows, r + chunk);
      if (n_tasks == kMaxTasks) flush();
      tasks[n_tasks++] = {static_cast<int32_t>(k), r, r1};
      unassigned -= (r1 - r) * cost;
      r = r1;
    }
  }
  flush();
}

}  // namespace ernie
