// Module entry of @walrus/uring-napi: the Ring class, aligned buffers for O_DIRECT, read-only file
// mappings (mmap.cc) and constants.
#include <fcntl.h>
#include <napi.h>

#include <cstdlib>

#include "mmap.h"
#include "entry-checksums.h"
#include "ring.h"

namespace walrus {
namespace {

// Largest single aligned allocation; the JS side stages at most one group-commit cycle at a time.
constexpr double kAlignedBytesMax = 1024.0 * 1024 * 1024;

// allocAligned(bytes, alignment): a zero-filled Buffer whose memory starts on an `alignment` boundary
// (O_DIRECT needs buffers aligned to the device's logical block size; we use the 4 KiB page).
// Freed by the garbage collector; the size is reported to V8 so it paces collection.
Napi::Value AllocAligned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "allocAligned(bytes: number, alignment: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  double bytes = info[0].As<Napi::Number>().DoubleValue();
  uint32_t alignment = info[1].As<Napi::Number>().Uint32Value();
  if (!(bytes >= 1 && bytes <= kAlignedBytesMax) || alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) {
    Napi::RangeError::New(env, "allocAligned: bytes in 1..1 GiB, alignment a power of two").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  size_t length = static_cast<size_t>(bytes);
  void* memory = nullptr;
  if (posix_memalign(&memory, alignment, length) != 0) {
    Napi::Error::New(env, "allocAligned: out of memory").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  memset(memory, 0, length);
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(length));
  return Napi::Buffer<uint8_t>::New(env, static_cast<uint8_t*>(memory), length,
                                    [length](Napi::Env finalize_env, uint8_t* data) {
                                      free(data);
                                      Napi::MemoryManagement::AdjustExternalMemory(finalize_env, -static_cast<int64_t>(length));
                                    });
}

// fadviseRandom(fd): posix_fadvise(POSIX_FADV_RANDOM) on the whole file, turning off readahead for
// this descriptor. Returns 0 or a positive errno. The backend's buffered reads must not pull pages in
// that a concurrent O_DIRECT write is rewriting: the kernel may fail to invalidate them afterwards.
Napi::Value FadviseRandom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "fadviseRandom(fd: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int rc = posix_fadvise(info[0].As<Napi::Number>().Int32Value(), 0, 0, POSIX_FADV_RANDOM);
  return Napi::Number::New(env, rc);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("fadviseRandom", Napi::Function::New(env, FadviseRandom, "fadviseRandom"));
  exports.Set("Ring", Ring::Define(env));
  exports.Set("allocAligned", Napi::Function::New(env, AllocAligned, "allocAligned"));
  exports.Set("O_DIRECT", Napi::Number::New(env, O_DIRECT));
  exports.Set("mapFile", Napi::Function::New(env, MapFile, "mapFile"));
  exports.Set("retireMapping", Napi::Function::New(env, RetireMapping, "retireMapping"));
  exports.Set("crc32Entries", Napi::Function::New(env, Crc32Entries, "crc32Entries"));
  exports.Set("crc32", Napi::Function::New(env, Crc32Buffer, "crc32"));
  exports.Set("crc32Folds", Napi::Function::New(env, Crc32FoldsValue, "crc32Folds"));
  return exports;
}

}  // namespace
}  // namespace walrus

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return walrus::Init(env, exports); }

NODE_API_MODULE(walrus_uring, InitModule)
