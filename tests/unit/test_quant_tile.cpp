// The prefill tile kernels (backends/cpu/kernels/quant_tile.h) against the
// row kernels of the same ISA, which are their reference: every output must
// be bit-identical, so that a prompt evaluated at once equals the same prompt
// token by token. Rows in one tile are deliberately unlike each other (random,
// zero, all-ones bytes, extreme f16 scales), so a lane mix-up shows. Also
// run_matmuls, where tiles and leftover rows meet, against the decode path.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "backends/cpu/kernels/quant_dot.h"
#include "backends/cpu/kernels/quant_tile.h"
#include "backends/cpu/ops/matmul.h"
#include "support/quant_rows.h"
#include "util/error.h"
#include "util/thread_pool.h"

using ernie::DType;
using ernie::cpu::Isa;
using ernie::cpu::kTileRows;
using ernie::quant::ActRowA8;
using namespace quant_rows;

namespace {

constexpr DType kTileTypes[] = {DType::Q6, DType::Q4};

// Row r of a tile: mostly random, some edge cases.
std::vector<uint8_t> tile_row(DType t, int64_t n, int r, std::mt19937& rng) {
  switch (r % 8) {
    case 3: return std::vector<uint8_t>(ernie::dtype_row_bytes(t, n), 0);
    case 5: return filled_row(t, n, 0xFF, 0x7BFF);  // largest codes and f16 scale
    case 6: return filled_row(t, n, 0x80, 0x0001);  // smallest subnormal scale
    default: return random_row(t, n, rng);
  }
}

struct Case {
  std::vector<std::vector<uint8_t>> rows;
  std::vector<Acts> acts;
};

Case make_case(DType t, int64_t n, int n_acts, std::mt19937& rng) {
  Case c;
  for (int r = 0; r < kTileRows; ++r) c.rows.push_back(tile_row(t, n, r, rng));
  for (int a = 0; a < n_acts; ++a) {
    c.acts.push_back(a % 7 == 4 ? constant_acts(n, a % 2 ? 127 : -127, 1.0f) : random_acts(n, rng));
  }
  return c;
}

// Tile output vs the row kernel, one activation row at a time (decode).
void check_tile(DType t, Isa isa, const Case& c, int64_t n) {
  const ernie::cpu::QuantTileFn tile = ernie::cpu::quant_tile_kernel(t, isa);
  const ernie::cpu::QuantDotFn dot = ernie::cpu::quant_dot_kernel(t, isa);
  REQUIRE(static_cast<bool>(tile));
  const int n_acts = static_cast<int>(c.acts.size());
  const uint8_t* rows[kTileRows];
  for (int r = 0; r < kTileRows; ++r) rows[r] = c.rows[r].data();
  std::vector<ActRowA8> views;
  for (const Acts& a : c.acts) views.push_back(a.view());
  auto scratch = std::make_unique<ernie::cpu::TileScratch>();
  std::vector<float> out(static_cast<size_t>(n_acts) * kTileRows, NAN);
  tile(rows, views.data(), n_acts, n, out.data(), scratch.get());
  int mismatches = 0;
  for (int a = 0; a < n_acts; ++a) {
    for (int r = 0; r < kTileRows; ++r) {
      float want = NAN;
      dot(rows[r], &views[a], 1, n, &want);
      const float got = out[static_cast<size_t>(a) * kTileRows + r];
      if (!(got == want || (std::isnan(got) && std::isnan(want)))) {
        if (++mismatches <= 4) MESSAGE("act " << a << " row " << r << ": tile " << got << ", row kernel " << want);
      }
    }
  }
  CHECK(mismatches == 0);
}

}  // namespace

TEST_SUITE("quant_tile") {
  TEST_CASE("quant_tile: bit-identical to the row kernels, any activation count, model row lengths") {
    for (Isa isa : {Isa::Avx2, Isa::Avx512Vnni, Isa::Avx512Gfni}) {
      if (isa > ernie::cpu::cpu_supported_isa()) {
        MESSAGE("this CPU has no " << ernie::cpu::isa_name(isa) << ": its tile kernels are not tested here");
        continue;
      }
      CAPTURE(ernie::cpu::isa_name(isa));
      for (DType t : kTileTypes) {
        CAPTURE(ernie::dtype_name(t));
        std::mt19937 rng(11);
        for (int64_t n : {256, 1536, 2560}) {
          for (int n_acts : {1, 3, 4, 5, 13, ernie::cpu::kTileMaxActs}) {
            CAPTURE(n);
            CAPTURE(n_acts);
            check_tile(t, isa, make_case(t, n, n_acts, rng), n);
          }
        }
      }
    }
  }

  TEST_CASE("quant_tile: only where the CPU and the request allow, bad arguments are refused") {
    const Isa best = ernie::cpu::cpu_supported_isa();
    for (DType t : {DType::Q8, DType::Q2, DType::F32, DType::BF16}) {
      CHECK_FALSE(static_cast<bool>(ernie::cpu::quant_tile_kernel(t, Isa::Avx512Vnni)));
    }
    for (DType t : kTileTypes) {
      CHECK_FALSE(static_cast<bool>(ernie::cpu::quant_tile_kernel(t, Isa::Scalar)));
      CHECK(static_cast<bool>(ernie::cpu::quant_tile_kernel(t, Isa::Avx2)) == (best >= Isa::Avx2));
      // A request above what the CPU has is served by what it has.
      const bool same = ernie::cpu::quant_tile_kernel(t, Isa::Avx512Gfni) == ernie::cpu::quant_tile_kernel(t, best);
      CHECK(same);
      const ernie::cpu::QuantTileFn tile = ernie::cpu::quant_tile_kernel(t, best);
      if (!tile) continue;
      std::mt19937 rng(2);
      const Case c = make_case(t, 512, 1, rng);
      const uint8_t* rows[kTileRows];
      for (int r = 0; r < kTileRows; ++r) rows[r] = c.rows[r].data();
      std::vector<ActRowA8> views(ernie::cpu::kTileMaxActs + 1, c.acts[0].view());
      auto scratch = std::make_unique<ernie::cpu::TileScratch>();
      std::vector<float> out(views.size() * kTileRows);
      CHECK_THROWS_AS(tile(rows, views.data(), 0, 512, out.data(), scratch.get()), ernie::Error);
      CHECK_THROWS_AS(tile(rows, views.data(), ernie::cpu::kTileMaxActs + 1, 512, out.data(), scratch.get()),
                      ernie::Error);
      CHECK_THROWS_WITH(tile(rows, views.data(), 1, 300, out.data(), scratch.get()),
                        doctest::Contains("not a whole number"));
    }
  }

  TEST_CASE("quant_tile: run_matmuls gives the same bits batched as token by token") {
    // 70 rows: four whole tiles and 6 leftover rows in 2-thread chunks; 70
    // tokens: a full kTileMaxActs call and a short one. SwiGLU pairs too.
    const int64_t rows = 70, cols = 512, tokens = ernie::cpu::kTileMaxActs + 6;
    for (DType t : {DType::Q4, DType::Q6, DType::Q2}) {
      CAPTURE(ernie::dtype_name(t));
      std::mt19937 rng(7);
      std::vector<uint8_t> gate_bytes, up_bytes;
      for (int64_t r = 0; r < rows; ++r) {
        const auto g = tile_row(t, cols, static_cast<int>(r), rng), u = random_row(t, cols, rng);
        gate_bytes.insert(gate_bytes.end(), g.begin(), g.end());
        up_bytes.insert(up_bytes.end(), u.begin(), u.end());
      }
      const uint64_t row_bytes = ernie::dtype_row_bytes(t, cols);
      const ernie::TensorView gate{t, 1, rows, cols, row_bytes, gate_bytes.data()};
      const ernie::TensorView up{t, 1, rows, cols, row_bytes, up_bytes.data()};
      std::vector<Acts> acts;
      std::vector<ActRowA8> views;
      for (int64_t i = 0; i < tokens; ++i) acts.push_back(random_acts(cols, rng));
      for (const Acts& a : acts) views.push_back(a.view());
      ernie::ThreadPool pool(2);
      std::vector<float> scratch(static_cast<size_t>(ernie::matmul_scratch_floats(pool.size(), cols)));
      for (const ernie::TensorView* pair : {static_cast<const ernie::TensorView*>(nullptr), &up}) {
        auto product = [&](int64_t first, int64_t count, std::vector<float>& y) {
          ernie::MatJob job;
          job.w = &gate;
          job.up = pair;
          job.in.a8 = views.data() + first;
          job.in.n = count;
          job.y = y.data() + first * rows;
          job.ldy = rows;
          ernie::run_matmuls(&job, 1, pool, scratch.data());
        };
        std::vector<float> batched(static_cast<size_t>(tokens * rows)), single(batched.size());
        product(0, tokens, batched);
        for (int64_t i = 0; i < tokens; ++i) product(i, 1, single);
        int mismatches = 0;
        for (size_t k = 0; k < batched.size(); ++k) mismatches += !(batched[k] == single[k]);
        CHECK(mismatches == 0);
      }
    }
  }
}
