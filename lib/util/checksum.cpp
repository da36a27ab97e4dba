#include "util/checksum.h"

#include <array>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define ERNIE_CRC32C_X86 1
#endif

namespace ernie {
namespace {

constexpr uint32_t kPolyReflected = 0x82F63B78u;

// Slicing-by-8 tables: kTables[k][b] is the CRC register after byte b
// followed by k zero bytes.
using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables make_tables() {
  Tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int bit = 0; bit < 8; ++bit) c = (c >> 1) ^ ((c & 1u) ? kPolyReflected : 0u);
    t[0][b] = c;
  }
  for (int k = 1; k < 8; ++k) {
    for (uint32_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xffu];
  }
  return t;
}

constexpr Tables kTables = make_tables();

// The raw register update (no init/final xor) shared by both paths' tails.
uint32_t update_bytes(uint32_t reg, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) reg = (reg >> 8) ^ kTables[0][(reg ^ p[i]) & 0xffu];
  return reg;
}

#ifdef ERNIE_CRC32C_X86
__attribute__((target("sse4.2"))) uint32_t update_hardware(uint32_t reg, const uint8_t* p, size_t n) {
#if defined(__x86_64__)
  uint64_t r = reg;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    r = _mm_crc32_u64(r, word);
  }
  reg = static_cast<uint32_t>(r);
#endif
  for (; n >= 4; n -= 4, p += 4) {
    uint32_t word;
    std::memcpy(&word, p, 4);
    reg = _mm_crc32_u32(reg, word);
  }
  for (; n > 0; --n, ++p) reg = _mm_crc32_u8(reg, *p);
  return reg;
}

bool detect_hardware() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
}
#endif

uint32_t update_table(uint32_t reg, const uint8_t* p, size_t n) {
  for (; n >= 8; n -= 8, p += 8) {
    uint32_t lo = reg ^ (static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
                         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24);
    reg = kTables[7][lo & 0xffu] ^ kTables[6][(lo >> 8) & 0xffu] ^ kTables[5][(lo >> 16) & 0xffu] ^
          kTables[4][lo >> 24] ^ kTables[3][p[4]] ^ kTables[2][p[5]] ^ kTables[1][p[6]] ^
          kTables[0][p[7]];
  }
  return update_bytes(reg, p, n);
}

// GF(2) linear operators on the 32-bit register, as the images of each bit.
using Operator = std::array<uint32_t, 32>;

uint32_t apply(const Operator& op, uint32_t v) {
  uint32_t out = 0;
  for (int i = 0; v != 0; ++i, v >>= 1) {
    if (v & 1u) out ^= op[static_cast<size_t>(i)];
  }
  return out;
}

Operator square(const Operator& op) {
  Operator out{};
  for (size_t i = 0; i < 32; ++i) out[i] = apply(op, op[i]);
  return out;
}

}  // namespace

namespace detail {

uint32_t crc32c_table(const void* data, size_t n, uint32_t crc) {
  return ~update_table(~crc, static_cast<const uint8_t*>(data), n);
}

bool crc32c_hardware_available() {
#ifdef ERNIE_CRC32C_X86
  static const bool available = detect_hardware();
  return available;
#else
  return false;
#endif
}

uint32_t crc32c_hardware(const void* data, size_t n, uint32_t crc) {
#ifdef ERNIE_CRC32C_X86
  return ~update_hardware(~crc, static_cast<const uint8_t*>(data), n);
#else
  return crc32c_table(data, n, crc);
#endif
}

}  // namespace detail

uint32_t crc32c(const void* data, size_t n, uint32_t crc) {
  if (detail::crc32c_hardware_available()) return detail::crc32c_hardware(data, n, crc);
  return detail::crc32c_table(data, n, crc);
}

// With pre- and post-inversion, crc(A‖B) = Z^len(B)(crc(A)) ^ crc(B), where Z
// is the register update for one zero byte. Z^(2^k) for every k is built once
// by squaring; Z^len is then the product over the bits of len.
uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b) {
  static const std::array<Operator, 64> zero_bytes_pow2 = [] {
    Operator op{};  // one zero bit
    op[0] = kPolyReflected;
    for (size_t i = 1; i < 32; ++i) op[i] = 1u << (i - 1);
    for (int i = 0; i < 3; ++i) op = square(op);  // one zero byte
    std::array<Operator, 64> table{};
    for (auto& t : table) {
      t = op;
      op = square(op);
    }
    return table;
  }();
  for (size_t k = 0; len_b != 0; ++k, len_b >>= 1) {
    if (len_b & 1u) crc_a = apply(zero_bytes_pow2[k], crc_a);
  }
  return crc_a ^ crc_b;
}

}  // namespace ernie
