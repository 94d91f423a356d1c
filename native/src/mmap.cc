// mapFile and retireMapping: read-only shared mappings of sealed segment files (src/engine/segment-mapper.ts).
//
// SIGBUS rules. Touching a mapped page that lies past the file's end raises SIGBUS, which kills the
// process. So mapFile refuses a length beyond the file's current size (fstat), and the engine maps
// only segment files, which are created at full size and never truncated afterwards. Unlinking a
// mapped file is harmless on Linux: the inode and its pages live until the last mapping goes.
//
// Lifetime. The mapping belongs to the returned Buffer's backing store: munmap runs in its finalizer,
// which V8 calls only when no view of the memory (subarray, Entry.data) is reachable. So views can
// outlive the segment's deletion and stay readable; nothing ever unmaps memory still in use.
//
// External memory. V8 already counts a live mapping: it reports the length of every ArrayBuffer
// backing store, external ones included, as external memory (ArrayBufferSweeper), so each new
// mapping paces major collections as if that much memory were allocated. An AdjustExternalMemory
// here would count it twice, for pages that are not heap anyway (clean page cache the kernel drops
// and rereads at will), so none is made for a live mapping. Once the engine drops a mapping (its
// segment was deleted), only the collector can unmap it, and until then the deleted file's disk
// blocks stay allocated; nothing else may prompt a collection for a long time in an idle process.
// So retireMapping adds the length once more, which crosses V8's external-memory limit and starts a
// major collection soon (measured: 2 of 3 retired 64 MiB mappings gone within 1 s of idling, none
// without); the finalizer takes the extra count back.
//
// No madvise: a segment interleaves the blocks of many topics, and a reader walks one topic's blocks,
// so MADV_SEQUENTIAL's long readahead would mostly pull in other topics' slots; the default read-around
// is bounded.
#include "mmap.h"
#include "errno-error.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace walrus {
namespace {

// Largest mapping accepted, so a wild length fails here rather than in mmap. Default segments are
// 64 MiB; a geometry beyond this (blockBytes × blocksPerSegment) is read with pread instead.
constexpr double kMappingBytesMax = 64.0 * 1024 * 1024 * 1024;

// Owned by the Buffer's finalizer. `retired` is set once by retireMapping.
struct Mapping {
  size_t length;
  bool retired;
};


void FinalizeMapping(Napi::Env env, uint8_t* data, Mapping* mapping) {
  munmap(data, mapping->length);
  if (mapping->retired) Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(mapping->length));
  delete mapping;
}

}  // namespace

// mapFile(fd, length): a Buffer over bytes [0, length) of the open file `fd`, mapped copy-on-write
// (PROT_READ | PROT_WRITE, MAP_PRIVATE). Reads share the page cache, and on Linux a page not written
// through this mapping shows writes made to the file by others. A write into the Buffer — a caller
// modifying an Entry's payload in place — copies that one page privately instead of faulting (which
// would kill the process) or reaching the file.
// RangeError when length is not in 1..64 GiB or exceeds the file's size; a Node-style error when
// fstat or mmap fail. The fd may be closed afterwards: the mapping holds its own reference.
Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "mapFile(fd: number, length: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  double bytes = info[1].As<Napi::Number>().DoubleValue();
  if (!(bytes >= 1 && bytes <= kMappingBytesMax) || bytes != static_cast<double>(static_cast<uint64_t>(bytes))) {
    Napi::RangeError::New(env, "mapFile: length must be an integer in 1..64 GiB").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  size_t length = static_cast<size_t>(bytes);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    ErrnoError(env, errno, "fstat").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!S_ISREG(st.st_mode)) {
    Napi::TypeError::New(env, "mapFile: not a regular file").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (static_cast<uint64_t>(st.st_size) < length) {
    std::string message = "mapFile: length " + std::to_string(length) + " exceeds the file's " + std::to_string(st.st_size) +
                          " bytes (a page past the end would raise SIGBUS)";
    Napi::RangeError::New(env, message).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  void* base = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (base == MAP_FAILED) {
    ErrnoError(env, errno, "mmap").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Mapping* mapping = new Mapping{length, false};
  Napi::Buffer<uint8_t> buffer = Napi::Buffer<uint8_t>::New(env, static_cast<uint8_t*>(base), length, FinalizeMapping, mapping);
  if (env.IsExceptionPending()) {
    munmap(base, length);
    delete mapping;
    return env.Undefined();
  }
  // Lets retireMapping find the record from the Buffer. No finalizer here: the record belongs to the
  // backing store, which outlives this object while views exist, and this object keeps it alive.
  napi_status status = napi_wrap(env, buffer, mapping, nullptr, nullptr, nullptr);
  if (status != napi_ok) {
    Napi::Error::New(env, "mapFile: napi_wrap failed").ThrowAsJavaScriptException();
    return env.Undefined();  // the Buffer is garbage now; its finalizer unmaps
  }
  return buffer;
}

// retireMapping(buffer): `buffer` (as returned by mapFile) is no longer held by its owner; report its
// length as external memory until the finalizer unmaps it. Idempotent.
Napi::Value RetireMapping(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  void* record = nullptr;
  if (info.Length() < 1 || !info[0].IsBuffer() || napi_unwrap(env, info[0], &record) != napi_ok || record == nullptr) {
    Napi::TypeError::New(env, "retireMapping(buffer): a Buffer returned by mapFile").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Mapping* mapping = static_cast<Mapping*>(record);
  if (!mapping->retired) {
    mapping->retired = true;
    Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(mapping->length));
  }
  return env.Undefined();
}

}  // namespace walrus
