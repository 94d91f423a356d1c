// crc32Entries(buffer, spans, count, seed): for i < count, the entry whose 32-byte header starts at
// spans[2i] with a payload of spans[2i+1] bytes right after it gets, in its first 4 bytes
// (little-endian), the zlib crc32 seeded with `seed` of header bytes 4..31 and the payload — exactly
// what src/engine/entry-format.ts computes with node:zlib's crc32, entry by entry. One call per
// written run instead of one per entry: at 1 KiB entries the per-call cost of node:zlib (argument
// checks, a subarray per entry) was about half the checksum's time.
//
// The crc is zlib's crc32, bit for bit (crc32-fold.cc: folded with PCLMULQDQ where the CPU has it,
// else zlib's own `crc32_z`, the symbol the node binary exports and node:zlib uses), so both paths
// agree and a log written with either reads back with either.
#include "entry-checksums.h"

#include "crc32-fold.h"

#include <cstdint>
#include <cstring>

namespace walrus {

namespace {
constexpr size_t kEntryHeaderBytes = 32;
}  // namespace

Napi::Value Crc32Entries(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsNumber() || !info[3].IsNumber()) {
    Napi::TypeError::New(env, "crc32Entries(buffer: Uint8Array, spans: Float64Array, count: number, seed: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::TypedArray target_array = info[0].As<Napi::TypedArray>();
  Napi::TypedArray spans_array = info[1].As<Napi::TypedArray>();
  if (target_array.TypedArrayType() != napi_uint8_array || spans_array.TypedArrayType() != napi_float64_array) {
    Napi::TypeError::New(env, "crc32Entries: buffer must be a Uint8Array and spans a Float64Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Uint8Array target = target_array.As<Napi::Uint8Array>();
  Napi::Float64Array spans = spans_array.As<Napi::Float64Array>();
  uint8_t* bytes = target.Data();
  size_t length = target.ByteLength();
  double count_value = info[2].As<Napi::Number>().DoubleValue();
  uint32_t seed = info[3].As<Napi::Number>().Uint32Value();
  if (!(count_value >= 0) || count_value * 2 > static_cast<double>(spans.ElementLength())) {
    Napi::RangeError::New(env, "crc32Entries: count exceeds the spans given").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  size_t count = static_cast<size_t>(count_value);
  const double* span = spans.Data();
  // Check every span before writing anything: a bad call changes no byte.
  for (size_t i = 0; i < count; i++) {
    double at = span[2 * i];
    double payload = span[2 * i + 1];
    if (!(at >= 0) || !(payload >= 0) || at + kEntryHeaderBytes + payload > static_cast<double>(length) || payload > 4294967295.0) {
      Napi::RangeError::New(env, "crc32Entries: an entry lies outside the buffer").ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  for (size_t i = 0; i < count; i++) {
    uint8_t* entry = bytes + static_cast<size_t>(span[2 * i]);
    size_t covered = kEntryHeaderBytes - 4 + static_cast<size_t>(span[2 * i + 1]);
    uint32_t value = Crc32(seed, entry + 4, covered);
    entry[0] = static_cast<uint8_t>(value);
    entry[1] = static_cast<uint8_t>(value >> 8);
    entry[2] = static_cast<uint8_t>(value >> 16);
    entry[3] = static_cast<uint8_t>(value >> 24);
  }
  return env.Undefined();
}

// crc32(data, seed): zlib's crc32 of one buffer (Crc32, folded where the CPU can); the same value as
// node:zlib's crc32(data, seed). For reads that verify one entry at a time, and for tests.
Napi::Value Crc32Buffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsNumber() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(env, "crc32(data: Uint8Array, seed: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
  uint32_t seed = info[1].As<Napi::Number>().Uint32Value();
  return Napi::Number::New(env, Crc32(seed, data.Data(), data.ByteLength()));
}

// crc32Folds(): whether this CPU takes the folded path.
Napi::Value Crc32FoldsValue(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), Crc32Folds());
}

}  // namespace walrus
