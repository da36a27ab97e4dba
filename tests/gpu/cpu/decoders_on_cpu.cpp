// The CUDA decoders (backends/cuda/kernels/decode_block.cuh) compiled for the
// host and run on the CPU, lane by lane, against the core's scalar
// dequantization: every machine with the CUDA toolkit checks the block
// layouts and each lane's column mapping, GPU or not. (The kernels around
// the decoders need a GPU: tests/gpu/test_*.cpp.)
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

// Host stand-ins for the device intrinsics the decoders use; the results are
// the same (separately rounded f32 multiplies and subtracts: no contraction
// in ISO C++ mode).
template <class T>
inline T __ldg(const T* p) {
  return *p;
}
inline float __fmul_rn(float a, float b) {
  volatile float r = a * b;
  return r;
}
inline float __fsub_rn(float a, float b) {
  volatile float r = a - b;
  return r;
}
inline float __uint_as_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

#include "backends/cuda/kernels/decode_block.cuh"
#include "format/dtype.h"

namespace {

using ernie::DType;
using namespace ernie::cuda;

// Rows of `cols` values of type T: quantized from gaussian values, with
// some blocks overwritten by random bytes (every code value, extreme scales
// kept finite), and one all-zero row.
std::vector<uint8_t> make_rows(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  const uint64_t row_bytes = ernie::dtype_row_bytes(t, static_cast<uint64_t>(cols));
  std::vector<uint8_t> out(row_bytes * static_cast<uint64_t>(rows));
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& x : v) x = r == 0 ? 0.0f : g(rng) * (r % 3 == 2 ? 1e3f : 1.0f);
    ernie::convert_from_f32(t, v.data(), &out[static_cast<size_t>(r) * row_bytes], v.size());
  }
  if (ernie::dtype_is_quantized(t) && rows > 2) {
    // Random bytes in the codes of row 1, with finite f16 scales (0x3c00 = 1.0 ± mantissa).
    uint8_t* row = &out[row_bytes];
    for (uint64_t i = 0; i < row_bytes; ++i) row[i] = static_cast<uint8_t>(rng());
    const uint64_t bb = ernie::dtype_block_bytes(t);
    const int n_scales = (t == DType::Q4 || t == DType::Q2) ? 2 : 1;
    for (uint64_t b = 0; b < row_bytes / bb; ++b) {
      for (int s = 0; s < n_scales; ++s) {
        const uint16_t h = static_cast<uint16_t>(0x3000 + (rng() & 0x0fff));  // 0.125 .. 2
        std::memcpy(&row[b * bb + 2 * s], &h, 2);
      }
    }
  }
  return out;
}

template <DType T, bool kAligned>
void check_decoder(const uint8_t* rows, int64_t n_rows, int64_t cols, uint64_t row_bytes, const std::string& what) {
  using C = Codec<T>;
  std::vector<float> ref(static_cast<size_t>(cols));
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = rows + static_cast<uint64_t>(r) * row_bytes;
    ernie::convert_to_f32(T, row, ref.data(), ref.size());
    std::vector<int> seen(static_cast<size_t>(cols), 0);
    for (int64_t chunk = 0; chunk < row_chunks(cols); ++chunk) {
      for (int lane = 0; lane < 32; ++lane) {
        float w[kLaneValues];
        C::template decode<kAligned>(row, cols, chunk, lane, w);
        for (int run = 0; run < C::kRuns; ++run) {
          for (int e = 0; e < C::kRun; ++e) {
            const int64_t c = chunk * kChunkValues + C::run_col(lane, run) + e;
            const float got = w[run * C::kRun + e];
            if (c >= cols) {
              REQUIRE_MESSAGE(got == 0.0f, what << ": lane " << lane << " past the row end reads " << got);
              continue;
            }
            ++seen[static_cast<size_t>(c)];
            if (got != ref[static_cast<size_t>(c)]) {
              FAIL(what << ", row " << r << ", column " << c << " (chunk " << chunk << ", lane " << lane << ", run "
                        << run << "): decoder " << got << ", reference " << ref[static_cast<size_t>(c)]);
            }
          }
        }
      }
    }
    for (int64_t c = 0; c < cols; ++c) {
      REQUIRE_MESSAGE(seen[static_cast<size_t>(c)] == 1,
                      what << ": column " << c << " decoded " << seen[static_cast<size_t>(c)] << " times");
    }
  }
}

template <DType T>
void check_type(int64_t cols) {
  const int64_t n_rows = 5;
  const uint64_t row_bytes = ernie::dtype_row_bytes(T, static_cast<uint64_t>(cols));
  const std::vector<uint8_t> bytes = make_rows(T, n_rows, cols, static_cast<uint32_t>(cols * 31 + static_cast<int>(T)));
  const std::string what = std::string(ernie::dtype_name(T)) + ", " + std::to_string(cols) + " columns";
  // Aligned loads from a 16-byte aligned copy (when rows keep the alignment),
  // byte loads from a copy one byte off.
  std::vector<uint64_t> storage(bytes.size() / 8 + 2);
  uint8_t* aligned = reinterpret_cast<uint8_t*>(storage.data());
  std::memcpy(aligned, bytes.data(), bytes.size());
  if (row_bytes % static_cast<uint64_t>(Codec<T>::kAlign) == 0) {
    check_decoder<T, true>(aligned, n_rows, cols, row_bytes, what + ", aligned loads");
  }
  std::memmove(aligned + 1, aligned, bytes.size());
  check_decoder<T, false>(aligned + 1, n_rows, cols, row_bytes, what + ", byte loads");
}

}  // namespace

TEST_CASE("cuda decoders on the CPU: every type, lane by lane, equals the scalar dequantization") {
  for (int64_t cols : {256, 512, 2560}) {
    check_type<DType::F32>(cols);
    check_type<DType::F16>(cols);
    check_type<DType::BF16>(cols);
    check_type<DType::Q8>(cols);
    check_type<DType::Q6>(cols);
    check_type<DType::Q4>(cols);
    check_type<DType::Q2>(cols);
  }
  // Rows that end inside a chunk: float types at any length, q8 at whole blocks.
  for (int64_t cols : {1, 31, 100, 300}) {
    check_type<DType::F32>(cols);
    check_type<DType::F16>(cols);
    check_type<DType::BF16>(cols);
  }
  for (int64_t cols : {32, 96, 288}) check_type<DType::Q8>(cols);
}
