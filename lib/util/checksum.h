// CRC-32C (Castagnoli), the checksum of the packed format and of the packer's
// provenance records. Uses the SSE4.2 crc32 instruction when the CPU has it
// (checked at run time), a table otherwise; both give identical results.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ernie {

// CRC-32C of `n` bytes with the standard initial value and final xor, so
// crc32c("123456789", 9) == 0xE3069283. Chains: crc32c(b, nb, crc32c(a, na))
// is the CRC of a followed by b.
uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);

// CRC of A followed by B from crc(A), crc(B) and B's length alone (no data):
// lets checksums of pieces read out of order be joined into a whole file's.
uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

namespace detail {
// The two implementations behind crc32c(), exposed so tests can compare them.
uint32_t crc32c_table(const void* data, size_t n, uint32_t crc);
uint32_t crc32c_hardware(const void* data, size_t n, uint32_t crc);  // only if available
bool crc32c_hardware_available();
}  // namespace detail

}  // namespace ernie
