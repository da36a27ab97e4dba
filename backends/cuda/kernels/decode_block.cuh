// Device-side decoding of every storage type (format/dtype.h, the block
// layouts of quant/blocks.h), shared by the products (matvec.cu) and the
// f32 conversions (dequantize.cu). The arithmetic follows the scalar
// references in lib/quant/q*.cpp operation by operation (__fmul_rn/__fsub_rn
// keep nvcc from fusing what the CPU rounds separately).
//
// A warp walks a row in chunks of 256 values (one super-block for q6/q4/q2,
// eight q8 blocks, 256 elements of a float type). In each chunk, lane `l`
// decodes 8 values: kRuns runs of kRun consecutive columns starting at
// chunk * 256 + run_col(l, r); w[r * kRun + e] is column run_col(l, r) + e.
// The mappings make a warp's loads of one field touch consecutive bytes, and
// let the float types walk columns lane by lane (32 * r + l).
//
// kAligned: the row start is aligned to Codec::kAlign bytes (checked on the
// host), so fields are read with 16/32-bit loads; otherwise byte by byte.
#pragma once

#include <cuda_fp16.h>

#include <cstdint>
#include <string>
#include <type_traits>

#include "backends/cuda/kernels/kernels.h"
#include "format/dtype.h"
#include "util/error.h"

namespace ernie::cuda {

constexpr int kChunkValues = 256;
constexpr int kLaneValues = kChunkValues / 32;

// ---- loads ---------------------------------------------------------------

template <bool kAligned>
__device__ __forceinline__ uint32_t load_u8(const uint8_t* p) {
  return __ldg(p);
}

template <bool kAligned>
__device__ __forceinline__ uint32_t load_u16(const uint8_t* p) {
  if (kAligned) return __ldg(reinterpret_cast<const uint16_t*>(p));
  return __ldg(p) | static_cast<uint32_t>(__ldg(p + 1)) << 8;
}

template <bool kAligned>
__device__ __forceinline__ uint32_t load_u32(const uint8_t* p) {
  if (kAligned) return __ldg(reinterpret_cast<const uint32_t*>(p));
  return load_u16<false>(p) | load_u16<false>(p + 2) << 16;
}

// 4 bytes at a 2-byte aligned address (when kAligned).
template <bool kAligned>
__device__ __forceinline__ uint32_t load_u32_a2(const uint8_t* p) {
  return load_u16<kAligned>(p) | load_u16<kAligned>(p + 2) << 16;
}

__device__ __forceinline__ float f16_bits_to_f32(uint32_t bits) {
  return __half2float(__ushort_as_half(static_cast<unsigned short>(bits)));
}

__device__ __forceinline__ uint32_t byte_of(uint32_t word, int i) { return (word >> (8 * i)) & 0xffu; }

// d * sc * q - dmin * m of q4 and q2, rounded like the CPU.
__device__ __forceinline__ float affine_value(float d_sc, float dmin_m, int q) {
  return __fsub_rn(__fmul_rn(d_sc, static_cast<float>(q)), dmin_m);
}

// ---- codecs --------------------------------------------------------------

template <DType T>
struct Codec;

// Float types: lane l holds columns 32 r + l; values past `cols` read as 0.
// bf16 is the upper half of an f32.
template <DType T, int kBytes>
struct FloatCodec {
  static constexpr int kRun = 1, kRuns = kLaneValues;
  static constexpr int kAlign = kBytes;
  static constexpr int kBlockValues = 1, kBlockBytes = kBytes;
  __device__ static int run_col(int lane, int r) { return 32 * r + lane; }
  template <bool kAligned>
  __device__ static float value(const uint8_t* p) {
    if constexpr (T == DType::F32) {
      return __uint_as_float(load_u32<kAligned>(p));
    } else if constexpr (T == DType::F16) {
      return f16_bits_to_f32(load_u16<kAligned>(p));
    } else {
      static_assert(T == DType::BF16, "a float type");
      return __uint_as_float(load_u16<kAligned>(p) << 16);
    }
  }
  template <bool kAligned>
  __device__ static void decode(const uint8_t* row, int64_t cols, int64_t chunk, int lane, float* w) {
    const int64_t c0 = chunk * kChunkValues;
#pragma unroll
    for (int r = 0; r < kRuns; ++r) {
      const int64_t c = c0 + run_col(lane, r);
      w[r] = c < cols ? value<kAligned>(row + kBytes * c) : 0.0f;
    }
  }
};

template <>
struct Codec<DType::F32> : FloatCodec<DType::F32, 4> {};
template <>
struct Codec<DType::F16> : FloatCodec<DType::F16, 2> {};
template <>
struct Codec<DType::BF16> : FloatCodec<DType::BF16, 2> {};

// q8 (34-byte blocks: f16 d, 32 int8 codes): lane l takes block 8 chunk + l / 4,
// values 8 (l % 4) .. + 7. A row may end inside a chunk (cols % 256 == 32 k).
template <>
struct Codec<DType::Q8> {
  static constexpr int kRun = 4, kRuns = 2;
  static constexpr int kAlign = 2;
  static constexpr int kBlockValues = 32, kBlockBytes = 34;
  __device__ static int run_col(int lane, int r) { return 32 * (lane >> 2) + 8 * (lane & 3) + 4 * r; }
  template <bool kAligned>
  __device__ static void decode(const uint8_t* row, int64_t cols, int64_t chunk, int lane, float* w) {
    const int64_t block = chunk * (kChunkValues / kBlockValues) + (lane >> 2);
    if (block * kBlockValues >= cols) {
#pragma unroll
      for (int i = 0; i < kLaneValues; ++i) w[i] = 0.0f;
      return;
    }
    const uint8_t* b = row + block * kBlockBytes;
    const float d = f16_bits_to_f32(load_u16<kAligned>(b));
    const uint8_t* q = b + 2 + 8 * (lane & 3);
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const uint32_t word = load_u32_a2<kAligned>(q + 4 * h);
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        w[4 * h + e] = __fmul_rn(d, static_cast<float>(static_cast<int8_t>(byte_of(word, e))));
      }
    }
  }
};

// q6 (210 bytes: d, int8 scales[16], ql[128], qh[64]): lane l reads
// ql[32p + i0 .. + 3] (p = l / 8, i0 = 4 (l % 8)), whose low nibbles are
// values 64p + i0 + e and high nibbles 64p + 32 + i0 + e, and the matching
// qh[32 (p / 2) + i0 + e], bits 2k..2k+1 with k = 2 (p % 2) (+1 for the high run).
template <>
struct Codec<DType::Q6> {
  static constexpr int kRun = 4, kRuns = 2;
  static constexpr int kAlign = 2;
  static constexpr int kBlockValues = 256, kBlockBytes = 210;
  __device__ static int run_col(int lane, int r) { return 64 * (lane >> 3) + 4 * (lane & 7) + 32 * r; }
  template <bool kAligned>
  __device__ static void decode(const uint8_t* row, int64_t, int64_t chunk, int lane, float* w) {
    const uint8_t* b = row + chunk * kBlockBytes;
    const int p = lane >> 3, i0 = 4 * (lane & 7);
    const float d = f16_bits_to_f32(load_u16<kAligned>(b));
    const uint32_t ql = load_u32_a2<kAligned>(b + 18 + 32 * p + i0);
    const uint32_t qh = load_u32_a2<kAligned>(b + 146 + 32 * (p >> 1) + i0);
    const int k0 = 2 * (p & 1);
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int sub = (64 * p + 32 * r + i0) / 16;
      const float d_sc = __fmul_rn(d, static_cast<float>(static_cast<int8_t>(load_u8<kAligned>(b + 2 + sub))));
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const uint32_t lo = (byte_of(ql, e) >> (4 * r)) & 15u;
        const uint32_t hi = (byte_of(qh, e) >> (2 * (k0 + r))) & 3u;
        w[4 * r + e] = __fmul_rn(d_sc, static_cast<float>(static_cast<int>(lo | hi << 4) - 32));
      }
    }
  }
};

// q4 (144 bytes: d, dmin, scales[12], qs[128]): lane l reads qs[32p + i0 .. + 3]
// (p = l / 8, i0 = 4 (l % 8)): low nibbles are values 64p + i0 + e (sub-block
// 2p), high nibbles 64p + 32 + i0 + e (sub-block 2p + 1).
template <>
struct Codec<DType::Q4> {
  static constexpr int kRun = 4, kRuns = 2;
  static constexpr int kAlign = 4;
  static constexpr int kBlockValues = 256, kBlockBytes = 144;
  __device__ static int run_col(int lane, int r) { return 64 * (lane >> 3) + 4 * (lane & 7) + 32 * r; }
  template <bool kAligned>
  __device__ static void decode(const uint8_t* row, int64_t, int64_t chunk, int lane, float* w) {
    const uint8_t* b = row + chunk * kBlockBytes;
    const int p = lane >> 3, i0 = 4 * (lane & 7);
    const uint32_t head = load_u32<kAligned>(b);  // d | dmin << 16
    const float d = f16_bits_to_f32(head & 0xffffu), dmin = f16_bits_to_f32(head >> 16);
    // scales[2p], scales[2p + 1] (low 4 bits of sc, m) and scales[8 + p] (their high 2 bits)
    const uint32_t lo_pair = load_u32<kAligned>(b + 4 + 4 * (p >> 1)) >> (16 * (p & 1));
    const uint32_t hi_byte = byte_of(load_u32<kAligned>(b + 12), p);
    const uint32_t qs = load_u32<kAligned>(b + 16 + 32 * p + i0);
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const uint32_t s = byte_of(lo_pair, r), hi = hi_byte >> (4 * r);
      const int sc = static_cast<int>((s & 15u) | (hi & 3u) << 4);
      const int m = static_cast<int>((s >> 4) | ((hi >> 2) & 3u) << 4);
      const float d_sc = __fmul_rn(d, static_cast<float>(sc)), dmin_m = __fmul_rn(dmin, static_cast<float>(m));
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        w[4 * r + e] = affine_value(d_sc, dmin_m, static_cast<int>((byte_of(qs, e) >> (4 * r)) & 15u));
      }
    }
  }
};

// q2 (84 bytes: d, dmin, scales[16], qs[64]): lane l reads qs[32h + i0], +1
// (h = l / 16, i0 = 2 (l % 16)); bits 2k..2k+1 are values 128h + 32k + i0 + e,
// sub-block 8h + 2k + i0 / 16.
template <>
struct Codec<DType::Q2> {
  static constexpr int kRun = 2, kRuns = 4;
  static constexpr int kAlign = 4;
  static constexpr int kBlockValues = 256, kBlockBytes = 84;
  __device__ static int run_col(int lane, int r) { return 128 * (lane >> 4) + 2 * (lane & 15) + 32 * r; }
  template <bool kAligned>
  __device__ static void decode(const uint8_t* row, int64_t, int64_t chunk, int lane, float* w) {
    const uint8_t* b = row + chunk * kBlockBytes;
    const int h = lane >> 4, i0 = 2 * (lane & 15);
    const uint32_t head = load_u32<kAligned>(b);  // d | dmin << 16
    const float d = f16_bits_to_f32(head & 0xffffu), dmin = f16_bits_to_f32(head >> 16);
    // scales[8h .. 8h + 7]: sub-block 8h + 2k + i0 / 16 is byte 2k + i0 / 16
    const uint32_t sc_lo = load_u32<kAligned>(b + 4 + 8 * h), sc_hi = load_u32<kAligned>(b + 8 + 8 * h);
    const uint32_t qs = load_u16<kAligned>(b + 20 + 32 * h + i0);
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const int j = 2 * k + (i0 >> 4);
      const uint32_t s = byte_of(j < 4 ? sc_lo : sc_hi, j & 3);
      const float d_sc = __fmul_rn(d, static_cast<float>(s & 15u));
      const float dmin_m = __fmul_rn(dmin, static_cast<float>(s >> 4));
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        w[2 * k + e] = affine_value(d_sc, dmin_m, static_cast<int>((byte_of(qs, e) >> (2 * k)) & 3u));
      }
    }
  }
};

// ---- host side: which instantiation runs, and argument checks ------------

template <DType T>
using TypeTag = std::integral_constant<DType, T>;

template <DType T, class F>
void dispatch_aligned(bool aligned, F&& f) {
  if (aligned) {
    f(TypeTag<T>{}, std::true_type{});
  } else {
    f(TypeTag<T>{}, std::false_type{});
  }
}

// Calls f(TypeTag<T>{}, std::bool_constant<aligned>{}) for the runtime type
// (the caller checked it with check_matrix).
template <class F>
void dispatch_type(DType t, bool aligned, F&& f) {
  switch (t) {
    case DType::F32: return dispatch_aligned<DType::F32>(aligned, f);
    case DType::F16: return dispatch_aligned<DType::F16>(aligned, f);
    case DType::BF16: return dispatch_aligned<DType::BF16>(aligned, f);
    case DType::Q8: return dispatch_aligned<DType::Q8>(aligned, f);
    case DType::Q6: return dispatch_aligned<DType::Q6>(aligned, f);
    case DType::Q4: return dispatch_aligned<DType::Q4>(aligned, f);
    case DType::Q2: return dispatch_aligned<DType::Q2>(aligned, f);
  }
  throw Error(ERNIE_E_BACKEND, "CUDA kernels: unknown weight type " + std::to_string(static_cast<uint32_t>(t)));
}

struct TypeInfo {
  int block_values = 0, block_bytes = 0, align = 1;
};

inline TypeInfo type_info(DType t) {
  TypeInfo info;
  switch (t) {
#define ERNIE_TYPE_INFO(T) \
  case DType::T: info = {Codec<DType::T>::kBlockValues, Codec<DType::T>::kBlockBytes, Codec<DType::T>::kAlign}; break;
    ERNIE_TYPE_INFO(F32)
    ERNIE_TYPE_INFO(F16)
    ERNIE_TYPE_INFO(BF16)
    ERNIE_TYPE_INFO(Q8)
    ERNIE_TYPE_INFO(Q6)
    ERNIE_TYPE_INFO(Q4)
    ERNIE_TYPE_INFO(Q2)
#undef ERNIE_TYPE_INFO
    default:
      throw Error(ERNIE_E_BACKEND, "CUDA kernels: unknown weight type " + std::to_string(static_cast<uint32_t>(t)));
  }
  return info;
}

// Throws unless `w` is a well-formed matrix of a known type: whole blocks per
// row and row_bytes matching the type.
inline void check_matrix(const DevMatrix& w, const char* what) {
  const TypeInfo info = type_info(w.type);
  if (w.rows < 0 || w.cols <= 0 || w.n_mats < 1 || w.cols % info.block_values != 0 ||
      w.row_bytes != static_cast<uint64_t>(w.cols / info.block_values * info.block_bytes)) {
    throw Error(ERNIE_E_BACKEND, std::string("CUDA kernels: ") + what + ": malformed matrix (" +
                                     std::to_string(w.rows) + " x " + std::to_string(w.cols) + ", row_bytes " +
                                     std::to_string(w.row_bytes) + ")");
  }
}

// True when every row of every matrix starts at a multiple of the type's
// load width, so the decoders may use 16/32-bit loads.
inline bool rows_aligned(const DevMatrix& w) {
  const uint64_t a = static_cast<uint64_t>(type_info(w.type).align);
  return reinterpret_cast<uintptr_t>(w.data) % a == 0 && w.row_bytes % a == 0;
}

// Chunks of 256 values in a row of `cols`.
__host__ __device__ inline int64_t row_chunks(int64_t cols) { return (cols + kChunkValues - 1) / kChunkValues; }

}  // namespace ernie::cuda
