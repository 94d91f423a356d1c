// zlib-compatible crc32 that folds the bulk of a buffer with carry-less multiplication (PCLMULQDQ)
// where the CPU has it; see crc32-fold.cc.
#pragma once

#include <cstddef>
#include <cstdint>

namespace walrus {

// Same value as zlib's crc32_z(crc, data, length), bit for bit, on every CPU.
uint32_t Crc32(uint32_t crc, const uint8_t* data, size_t length);

// True when Crc32 takes the carry-less multiply path on this CPU (reported for benchmarks and tests).
bool Crc32Folds();

}  // namespace walrus
