// Checksums of many log entries in one call, for the engine's write path.
#pragma once

#include <napi.h>

namespace walrus {

// crc32Entries(buffer, spans: Float64Array, count, seed) → writes each entry's crc; see entry-checksums.cc.
Napi::Value Crc32Entries(const Napi::CallbackInfo& info);
// crc32(data, seed) → zlib's crc32 of one buffer; crc32Folds() → whether the CPU folds with PCLMULQDQ.
Napi::Value Crc32Buffer(const Napi::CallbackInfo& info);
Napi::Value Crc32FoldsValue(const Napi::CallbackInfo& info);

}  // namespace walrus
